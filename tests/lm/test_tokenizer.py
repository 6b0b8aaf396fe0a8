from collections import Counter

from transformers import AutoTokenizer

from workbench.lm.tokenizer import EOS, PAD, UNK, bpe_merges, build_subword_tokenizer, build_word_tokenizer


def test_word_level_roundtrip_and_specials(tmp_path):
    tok = build_word_tokenizer(["Q : 3 + 4 = ? A : 7", "need : breakfast"], extra_tokens=["<think>"])
    ids = tok("Q : 3 + 4 = ?", add_special_tokens=False)["input_ids"]
    assert len(ids) == 7 and tok.decode(ids) == "Q : 3 + 4 = ?"
    assert tok.convert_ids_to_tokens([0, 3, 4]) == [PAD, EOS, "<think>"]
    assert tok("unseen-word")["input_ids"] == [tok.unk_token_id]
    assert tok.padding_side == "left"
    tok.save_pretrained(tmp_path)
    again = AutoTokenizer.from_pretrained(tmp_path, local_files_only=True)
    assert again("need : breakfast")["input_ids"] == tok("need : breakfast")["input_ids"]
    assert again.pad_token == PAD and again.eos_token == EOS


def test_ids_are_deterministic():
    texts = ["b a a", "c c c a"]
    assert build_word_tokenizer(texts).get_vocab() == build_word_tokenizer(list(texts)).get_vocab()


# ---- sub-word (BPE) -------------------------------------------------------------------------------
VENUES = [f"v{n}" for n in (7, 12, 123, 1234, 4020, 40201, 555, 5550, 98765, 1001)]
SUBWORD_TEXTS = ["{ need : food } { services : [ " + " ".join(VENUES) + " ] }"] * 3 + ["ctx weekday h_noon food v12 v123"] * 20


def test_subword_ids_roundtrip_and_vocab_bound(tmp_path):
    tok = build_subword_tokenizer(SUBWORD_TEXTS, vocab_size=60)
    assert len(tok) == 60 and tok.convert_ids_to_tokens([0, 1, 2, 3]) == [PAD, UNK, "<bos>", EOS]
    pieces = [tok(" " + v, add_special_tokens=False)["input_ids"] for v in VENUES]
    assert max(map(len, pieces)) > 1  # the vocabulary is too small for every venue to be one token
    for v in VENUES:  # ids decode back exactly, with single spaces between words and none inside one
        text = f"{{ services : [ {v} v12 ] }}"
        assert tok.decode(tok(text)["input_ids"]) == text
    # word-final pieces end in </w>, so no venue's pieces are a prefix of another's (v12 vs v123)
    for a, pa in zip(VENUES, pieces):
        for b, pb in zip(VENUES, pieces):
            assert a == b or pb[:len(pa)] != pa
    assert tok.padding_side == "left"
    tok.save_pretrained(tmp_path)
    again = AutoTokenizer.from_pretrained(tmp_path, local_files_only=True)
    assert again(SUBWORD_TEXTS[0])["input_ids"] == tok(SUBWORD_TEXTS[0])["input_ids"]


def test_subword_is_deterministic_and_frequent_words_stay_whole():
    tok = build_subword_tokenizer(SUBWORD_TEXTS, vocab_size=70)
    assert tok.backend_tokenizer.to_str() == build_subword_tokenizer(list(SUBWORD_TEXTS), vocab_size=70).backend_tokenizer.to_str()
    assert len(tok("weekday v12", add_special_tokens=False)["input_ids"]) == 2  # 20 times each: one token
    assert len(tok(" v98765", add_special_tokens=False)["input_ids"]) > 1  # 3 times: pieces
    big = build_subword_tokenizer(SUBWORD_TEXTS, vocab_size=1000)  # room for every word: one token each
    assert all(len(big(" " + v, add_special_tokens=False)["input_ids"]) == 1 for v in VENUES)


def test_bpe_merges_most_frequent_pair_first():
    alphabet, merges = bpe_merges(Counter({"abab": 3, "ab": 1, "c": 1}), size=6)
    assert alphabet == ["a", "b", "b</w>", "c</w>"]
    # (a, b</w>) is in both words (3 + 1); then (a, b) and (b, ab</w>) tie at 3: the smaller pair first
    assert merges == [("a", "b</w>"), ("a", "b")]
