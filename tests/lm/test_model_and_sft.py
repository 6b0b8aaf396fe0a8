import math
import random

import pytest
import torch

from workbench.errors import WorkbenchError
from workbench.lm import (
    LoraSettings, SFTSettings, TinyLMConfig, add_lora, build_word_tokenizer, count_parameters, generate,
    load_causal_lm, make_model, merge_lora, save_causal_lm, sequence_logprobs, train_sft,
)
from workbench.lm.lora import trainable_fraction

PICO = TinyLMConfig(hidden=64, layers=2, heads=4, intermediate=256, max_len=64)


def reverse_task(n: int, seed: int):
    rng = random.Random(seed)
    pairs = []
    for _ in range(n):
        seq = [str(rng.randrange(10)) for _ in range(rng.randint(3, 6))]
        pairs.append((f"reverse {' '.join(seq)} =", " ".join(reversed(seq))))
    return pairs


@pytest.fixture(scope="module")
def trained_pico():
    train = reverse_task(4000, seed=0)
    tok = build_word_tokenizer([p + " " + c for p, c in train])
    model = make_model(PICO, tok, seed=0)
    curve = train_sft(model, tok, train, SFTSettings(steps=700, batch_size=32, lr=3e-3, seed=0, device="cpu"))
    return model, tok, curve


@pytest.mark.slow
def test_pico_model_learns_reversal(trained_pico):
    model, tok, curve = trained_pico
    assert curve[-1]["loss"] < curve[0]["loss"] / 5
    test = reverse_task(200, seed=1)
    out = generate(model, tok, [p for p, _ in test], max_new_tokens=8)
    exact = sum(o == c for o, (_, c) in zip(out.texts, test)) / len(test)
    assert exact >= 0.95, f"exact match {exact:.3f}"
    assert out.n_tokens[0] == len(test[0][1].split())
    assert len(curve) == 70, "the loss is read back every log_every (10) steps, not every step"


def test_mixed_precision_only_on_a_gpu():
    from workbench.lm.sft import bf16_ok

    assert bf16_ok(torch.device("cpu")) is False
    if torch.cuda.is_available():
        assert bf16_ok(torch.device("cuda")) == torch.cuda.is_bf16_supported()


def test_save_load_gives_identical_logits(trained_pico, tmp_path):
    model, tok, _ = trained_pico
    save_causal_lm(model, tok, tmp_path / "ckpt")
    again, tok2 = load_causal_lm(tmp_path / "ckpt")
    ids = tok2(["reverse 1 2 3 ="], return_tensors="pt")["input_ids"]
    with torch.no_grad():
        assert torch.equal(model(ids).logits, again(ids).logits)
    assert count_parameters(again) == count_parameters(model)


def test_sequence_logprobs_prefers_the_right_answer(trained_pico):
    model, tok, _ = trained_pico
    scores = sequence_logprobs(model, tok, ["reverse 1 2 3 ="] * 2, ["3 2 1", "1 2 3"])
    assert scores[0] > scores[1]
    # scoring one token equals the model's next-token log-probability
    ids = tok("reverse 1 2 3 =", add_special_tokens=False, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        lp = torch.log_softmax(model(ids).logits[0, -1], -1)[tok.convert_tokens_to_ids("3")]
    assert sequence_logprobs(model, tok, ["reverse 1 2 3 ="], ["3"])[0] == pytest.approx(lp.item(), abs=1e-5)


@pytest.mark.parametrize("lora", [False, True])
def test_completion_loss_matches_the_models_own_loss_and_gradients(lora):
    from workbench.lm.sft import completion_loss

    pairs = reverse_task(8, seed=3)
    tok = build_word_tokenizer([p + " " + c for p, c in pairs])
    model = make_model(PICO, tok, seed=0)
    if lora:
        model = add_lora(model, LoraSettings(r=4, alpha=8))
    batch = tok([p + " " + c for p, c in pairs], return_tensors="pt", padding=True)
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    labels[:, :4] = -100  # a prompt: not supervised
    inputs = {**batch, "labels": labels}

    def grads(loss):
        model.zero_grad()
        loss.backward()
        return [p.grad.clone() for p in model.parameters() if p.requires_grad]

    ours = completion_loss(model, inputs)
    assert ours.item() == pytest.approx(model(**inputs).loss.item(), rel=1e-5)
    for a, b in zip(grads(ours), grads(model(**inputs).loss), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
    from trl import SFTTrainer
    from workbench.lm.sft import _trainer_class

    assert _trainer_class(compact_head=False) is SFTTrainer and issubclass(_trainer_class(), SFTTrainer)
    nothing = completion_loss(model, {**inputs, "labels": torch.full_like(labels, -100)})
    assert nothing.item() == 0.0


def test_batch_softmax_samples_the_prompt_and_keeps_the_full_softmax_on_the_completion():
    from workbench.lm.sft import completion_loss

    pairs = reverse_task(8, seed=3)
    tok = build_word_tokenizer([p + " " + c for p, c in pairs], extra_tokens=[f"unused{i}" for i in range(50)])
    model = make_model(PICO, tok, seed=0)
    batch = tok([p + " " + c for p, c in pairs], return_tensors="pt", padding=True)
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    labels[:, :5] = -100  # the prompt: TRL's labels mark the completion only
    inputs = {**batch, "labels": labels}
    logits = model(**batch).logits[:, :-1]
    completion = labels[:, 1:] != -100
    prompt = (batch["attention_mask"][:, 1:] == 1) & ~completion  # padding is neither
    target = batch["input_ids"][:, 1:][prompt]
    columns = torch.unique(target)
    assert len(columns) < len(tok) - 50  # the unused words are never a column
    share = torch.linspace(1e-4, 0.2, len(tok))  # any [vocab] tensor of shares
    draws = int(prompt.sum())
    inclusion = torch.tensor([math.log(1 - (1 - s) ** draws) for s in share[columns].tolist()])
    by_hand = torch.cat([
        torch.nn.functional.cross_entropy(logits[completion], labels[:, 1:][completion], reduction="none"),
        torch.nn.functional.cross_entropy(logits[prompt][:, columns] - inclusion,
                                          torch.searchsorted(columns, target), reduction="none")])
    assert completion_loss(model, inputs, share).item() == pytest.approx(by_hand.mean().item(), rel=1e-5)
    assert completion_loss(model, inputs).item() == pytest.approx(by_hand[:completion.sum()].mean().item(), rel=1e-5)
    # uniform negatives: drawing the whole vocabulary makes every token a sure column, so no correction
    # and the prompt's loss is the full softmax's
    assert completion_loss(model, inputs, share, negatives=len(tok)).item() == pytest.approx(
        torch.cat([by_hand[:completion.sum()], torch.nn.functional.cross_entropy(
            logits[prompt], target, reduction="none")]).mean().item(), rel=1e-5)
    # a few negatives: the unused words can now be columns, and the loss is the same for the same draw
    torch.manual_seed(0)
    some = completion_loss(model, inputs, share, negatives=20)
    torch.manual_seed(0)
    assert completion_loss(model, inputs, share, negatives=20).item() == some.item() != completion_loss(model, inputs, share).item()
    with pytest.raises(ValueError, match="completion_only_loss=False"):
        SFTSettings(batch_softmax=True)
    curve = train_sft(model, tok, pairs, SFTSettings(steps=4, batch_size=4, log_every=1, batch_softmax=True,
                                                     completion_only_loss=False, device="cpu"))
    assert len(curve) == 4 and all(math.isfinite(c["loss"]) for c in curve)
    with pytest.raises(ValueError, match="batch_softmax=True"):
        SFTSettings(batch_negatives=8)
    curve = train_sft(model, tok, pairs, SFTSettings(steps=3, batch_size=4, log_every=1, batch_softmax=True,
                                                     batch_negatives=16, completion_only_loss=False, device="cpu"))
    assert len(curve) == 3 and all(math.isfinite(c["loss"]) for c in curve)


def test_batch_inclusion_logprob_is_log_one_minus_never_drawn():
    from workbench.lm.sft import batch_inclusion_logprob

    share = torch.tensor([0.9, 0.3, 1e-3, 1e-7])
    for draws in (1, 40, 5000):
        expected = [math.log(1 - (1 - s) ** draws) for s in share.double().tolist()]
        assert batch_inclusion_logprob(share, draws).tolist() == pytest.approx(expected, rel=1e-5, abs=1e-6)
    # one draw: the share itself; a rare token in many draws: about log(draws * share)
    assert batch_inclusion_logprob(share, 1)[2].item() == pytest.approx(math.log(1e-3), rel=1e-4)
    assert batch_inclusion_logprob(share, 5000)[3].item() == pytest.approx(math.log(5000 * 1e-7), rel=1e-3)
    # uniform draws on top: missed by both, (1 - share)^draws * (1 - uniform)
    for uniform in (0.01, 0.5):
        expected = [math.log(1 - (1 - s) ** 40 * (1 - uniform)) for s in share.double().tolist()]
        assert batch_inclusion_logprob(share, 40, uniform).tolist() == pytest.approx(expected, rel=1e-5, abs=1e-6)
    assert batch_inclusion_logprob(share, 40, 1.0).abs().max().item() < 1e-6  # every token drawn for sure


def test_lora_wraps_trains_and_merges():
    pairs = reverse_task(300, seed=2)
    tok = build_word_tokenizer([p + " " + c for p, c in pairs])
    model = make_model(PICO, tok, seed=0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    peft_model = add_lora(model, LoraSettings(r=4, alpha=8))
    assert 0 < trainable_fraction(peft_model) < 0.2
    curve = train_sft(peft_model, tok, pairs, SFTSettings(steps=30, batch_size=16, lr=1e-2, device="cpu"))
    assert curve[-1]["loss"] < curve[0]["loss"]
    merged = merge_lora(peft_model)
    after = merged.state_dict()
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert changed and all(any(t in k for t in ("q_proj", "k_proj", "v_proj", "o_proj")) for k in changed)


def test_qwen2_arch_and_bad_configs():
    tok = build_word_tokenizer(["a b c"])
    assert make_model(TinyLMConfig(arch="qwen2", hidden=32, layers=1, heads=2, intermediate=64), tok)
    with pytest.raises(WorkbenchError, match="divisible"):
        make_model(TinyLMConfig(hidden=30, heads=4), tok)
    with pytest.raises(WorkbenchError, match="Unknown arch"):
        make_model(TinyLMConfig(arch="gpt9"), tok)


def test_loading_bad_checkpoints_gives_clear_errors(tmp_path):
    with pytest.raises(WorkbenchError, match="does not exist"):
        load_causal_lm(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(WorkbenchError, match="no config.json"):
        load_causal_lm(tmp_path / "empty")
    (tmp_path / "empty" / "config.json").write_text("{}")
    with pytest.raises(WorkbenchError, match="no weights"):
        load_causal_lm(tmp_path / "empty")
