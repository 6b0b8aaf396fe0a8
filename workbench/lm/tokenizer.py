"""Tokenizers for the tiny models: word-level (every word one token) and sub-word BPE for large id sets.

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

A word with a ``/`` is two tokens, its head and its ``/tail`` (``##/tail`` in the vocabulary, the
WordPiece continuation mark, so decoding glues it back on). Real data names a venue by its category and
its rank there (``pizza_place/17``): the vocabulary then holds the categories and one token per rank,
not one per venue, yet the text still reads one word per venue.

>>> ranked = build_word_tokenizer([], extra_tokens=["pizza_place/0", "pizza_place/17", "bar/17"])
>>> ranked.convert_ids_to_tokens(ranked("bar/17 pizza_place/0", add_special_tokens=False)["input_ids"])
['bar', '##/17', 'pizza_place', '##/0']
>>> ranked.decode(ranked("bar/17 pizza_place/0")["input_ids"])
'bar/17 pizza_place/0'

``build_subword_tokenizer`` is for worlds with thousands of ids (11k Foursquare venues would be 11k
rows of embedding and of every logit): a BPE model trained on the domain's text, where frequent words
end up one token and rare ids a few pieces. Each word's last piece carries an end-of-word mark
(``</w>``), so no word's pieces are a prefix of another word's — grammar choices stay unambiguous and
a candidate's score includes "the id ends here". Same specials, padding side and text convention.

>>> sub = build_subword_tokenizer(["v101 v102 v203 lunch lunch"], vocab_size=30)
>>> sub.decode(sub("lunch v102")["input_ids"])
'lunch v102'
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable

from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIALS = (PAD, UNK, BOS, EOS)
END_OF_WORD = "</w>"


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
        for piece in word_pieces(token):
            vocab.setdefault(piece, len(vocab))
    for word, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if n >= min_count:
            for piece in word_pieces(word):
                vocab.setdefault(piece, len(vocab))

    # WordPiece, not WordLevel, only so that a ``head/tail`` word is two tokens: every other word is in
    # the vocabulary whole (longest match first), and an unknown one is <unk> as with WordLevel.
    core = Tokenizer(models.WordPiece(vocab=vocab, unk_token=UNK, continuing_subword_prefix="##",
                                      max_input_chars_per_word=200))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    # Word-level ids decode back to words joined by spaces.
    core.decoder = decoders.WordPiece(prefix="##", cleanup=False)
    return _wrap(core, model_max_length)


SPLIT = "/"
"""A word ``head/tail`` is tokenized as ``head`` then ``/tail`` (see the module docstring)."""


def word_pieces(word: str) -> tuple[str, ...]:
    """The vocabulary entries of one word: itself, or ``(head, "##/tail")`` for ``head/tail``.

    >>> word_pieces("lunch"), word_pieces("pizza_place/17"), word_pieces("/")
    (('lunch',), ('pizza_place', '##/17'), ('/',))
    """
    head, sep, tail = word.partition(SPLIT)
    if not sep or not head or not tail or word in SPECIALS:
        return (word,)
    return head, f"##{SPLIT}{tail}"


def build_subword_tokenizer(
    texts: Iterable[str],
    vocab_size: int = 1000,
    model_max_length: int = 512,
) -> PreTrainedTokenizerFast:
    """A BPE tokenizer of at most ``vocab_size`` ids (more only when the texts' characters alone need
    more) learnt from ``texts``; words are split at whitespace only, so a piece never spans two words.

    The merges are learnt by ``bpe_merges`` below rather than the ``tokenizers`` trainer, whose ties
    between equally frequent pairs fall in hash order (the same texts gave different tokenizers in
    two processes); the ``tokenizers`` BPE model then does the tokenizing, decoding and saving.
    """
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(text.split())
    alphabet, merges = bpe_merges(counts, vocab_size - len(SPECIALS))
    vocab: dict[str, int] = {}
    for token in (*SPECIALS, *alphabet, *(a + b for a, b in merges)):
        vocab.setdefault(token, len(vocab))
    core = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token=UNK, end_of_word_suffix=END_OF_WORD))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    # Pieces join up to the end-of-word mark, which becomes a space (dropped after the last word).
    core.decoder = decoders.BPEDecoder(suffix=END_OF_WORD)
    return _wrap(core, model_max_length)


def bpe_merges(counts: Counter[str], size: int) -> tuple[list[str], list[tuple[str, str]]]:
    """Byte-pair encoding over word counts: ``(alphabet, merges)`` with at most ``size`` distinct
    symbols in all. Each step merges the most frequent adjacent pair (ties: the smaller pair), the
    classic algorithm; a word's last character carries ``END_OF_WORD``."""
    words = {w: [*w[:-1], w[-1] + END_OF_WORD] for w in counts}
    alphabet = sorted({s for symbols in words.values() for s in symbols})
    pairs: Counter[tuple[str, str]] = Counter()
    holders: dict[tuple[str, str], set[str]] = {}
    for w, symbols in words.items():
        for pair in zip(symbols, symbols[1:]):
            pairs[pair] += counts[w]
            holders.setdefault(pair, set()).add(w)
    heap = [(-n, pair) for pair, n in pairs.items()]
    heapq.heapify(heap)
    symbols_seen, merges = set(alphabet), []
    while heap and len(symbols_seen) < size:
        n, pair = heapq.heappop(heap)
        if -n != pairs.get(pair, 0) or n == 0:  # a stale entry: the pair's count changed since
            continue
        merges.append(pair)
        symbols_seen.add(pair[0] + pair[1])
        for w in sorted(holders.pop(pair)):
            old, new = words[w], _merge(words[w], pair)
            for p in zip(old, old[1:]):
                pairs[p] -= counts[w]
            for p in zip(new, new[1:]):
                pairs[p] += counts[w]
                holders.setdefault(p, set()).add(w)
            words[w] = new
            for p in {*zip(old, old[1:]), *zip(new, new[1:])}:
                if p != pair and pairs[p] > 0:
                    heapq.heappush(heap, (-pairs[p], p))
        del pairs[pair]
    return alphabet, merges


def _merge(symbols: list[str], pair: tuple[str, str]) -> list[str]:
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
            out.append(symbols[i] + symbols[i + 1])
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return out


def _wrap(core: Tokenizer, model_max_length: int) -> PreTrainedTokenizerFast:
    """The transformers face of a ``tokenizers`` object: our specials, left padding for generation."""
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        pad_token=PAD,
        unk_token=UNK,
        bos_token=BOS,
        eos_token=EOS,
        model_max_length=model_max_length,
        padding_side="left",  # decoder-only generation pads on the left
    )
