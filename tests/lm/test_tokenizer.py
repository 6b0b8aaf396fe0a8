from transformers import AutoTokenizer

from workbench.lm.tokenizer import EOS, PAD, build_word_tokenizer


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
