"""A word-level tokenizer: every whitespace-separated word of the training text is one token.

Built with the ``tokenizers`` library (WordLevel model + whitespace pre-tokenizer) and wrapped as a
transformers ``PreTrainedTokenizerFast``, so ``save_pretrained``/``AutoTokenizer.from_pretrained``,
padding and batching all work as for any hub tokenizer. Word-level tokens keep the tiny models'
vocabularies small (a few hundred ids) and make every id in a grammar constraint a whole word.

Text convention: tokens are separated by single spaces (``"Q : 3 + 4 = ? A : 7"``); decoding joins
tokens with spaces, so ``decode(encode(text)) == text`` for such text.

>>> tok = build_word_tokenizer(["a b c", "c d"])
>>> tok("a c d")["input_ids"][:3] == tok.convert_tokens_to_ids(["a", "c", "d"])
True
>>> tok.decode(tok("a c d")["input_ids"])
'a c d'
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIALS = (PAD, UNK, BOS, EOS)


def build_word_tokenizer(
    texts: Iterable[str],
    extra_tokens: Iterable[str] = (),
    min_count: int = 1,
    model_max_length: int = 512,
) -> PreTrainedTokenizerFast:
    """Build a word-level tokenizer over ``texts`` (+ ``extra_tokens`` always included).

    Ids are deterministic: specials first, then ``extra_tokens`` in order, then the remaining words
    sorted by (descending count, word).
    """
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(text.split())
    vocab: dict[str, int] = {}
    for token in (*SPECIALS, *extra_tokens):
        vocab.setdefault(token, len(vocab))
    for word, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if n >= min_count and word not in vocab:
            vocab[word] = len(vocab)

    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNK))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    # Word-level ids decode back to words joined by spaces.
    core.decoder = decoders.WordPiece(prefix="##", cleanup=False)
    tok = PreTrainedTokenizerFast(
        tokenizer_object=core,
        pad_token=PAD,
        unk_token=UNK,
        bos_token=BOS,
        eos_token=EOS,
        model_max_length=model_max_length,
        padding_side="left",  # decoder-only generation pads on the left
    )
    return tok
