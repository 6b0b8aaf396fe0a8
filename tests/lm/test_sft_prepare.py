"""``prepare_pairs`` (the batched dataset preparation ``train_sft`` hands to TRL) gives exactly what
TRL's own per-row preparation gives: the same rows, ids and labels, so training draws the same batches
and the trained weights do not change (a TRL upgrade that changes its preparation fails here)."""

import random

import pytest

from workbench.lm import build_word_tokenizer, make_model, TinyLMConfig
from workbench.lm.sft import prepare_pairs
from workbench.lm.tokenizer import build_subword_tokenizer


def pairs(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        seq = [str(rng.randrange(10)) for _ in range(rng.randint(1, 40))]  # some run past max_length
        completion = " ".join(reversed(seq))
        rows.append({"prompt": f"reverse {' '.join(seq)} =" if i % 7 else "", "completion": " " + completion})
    return rows


def trl_prepared(tok, rows, max_length, completion_only):
    import datasets
    from trl import SFTConfig, SFTTrainer

    model = make_model(TinyLMConfig(hidden=16, layers=1, heads=2, intermediate=32, max_len=64), tok, seed=0)
    args = SFTConfig(output_dir="unused", max_length=max_length, completion_only_loss=completion_only, report_to=[],
                     use_cpu=True, bf16=False, save_strategy="no")
    trainer = SFTTrainer(model=model, args=args, train_dataset=datasets.Dataset.from_list(rows), processing_class=tok)
    return trainer.train_dataset


@pytest.mark.parametrize("kind", ["word", "subword"])
@pytest.mark.parametrize("completion_only", [True, False])
def test_prepare_pairs_equals_trls_preparation(kind, completion_only, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rows = pairs(300, seed=1)
    rows[3]["completion"] += "</s>"  # a completion that already ends with the end-of-sequence token
    texts = [r["prompt"] + r["completion"] for r in rows]
    tok = build_word_tokenizer(texts) if kind == "word" else build_subword_tokenizer(texts, 80)
    rows[3]["completion"] = rows[3]["completion"].replace("</s>", tok.eos_token)
    ours = prepare_pairs(tok, rows, max_length=24, completion_only=completion_only)
    theirs = trl_prepared(tok, rows, max_length=24, completion_only=completion_only)
    assert len(ours) < len(rows) or not completion_only  # some rows lost every supervised token to truncation
    assert ours["input_ids"] == theirs["input_ids"]
    assert ours["labels"] == theirs["labels"]
