import pytest
import torch

from workbench.lm import LoraSettings, TinyLMConfig, add_lora, build_word_tokenizer, make_model


@pytest.mark.parametrize("lora", [False, True])
def test_grpo_scores_completions_as_trl_does_with_the_head_on_their_positions_only(tmp_path, lora):
    import datasets
    from trl import GRPOConfig, GRPOTrainer

    from workbench.needs.training import _grpo_trainer_class

    words = [f"w{i}" for i in range(300)]  # a vocabulary much wider than the model, as venue words are
    tok = build_word_tokenizer([], extra_tokens=["ans", *words])
    model = make_model(TinyLMConfig(hidden=32, layers=1, heads=2, intermediate=64, max_len=32), tok, seed=0)
    if lora:
        model = add_lora(model, LoraSettings(r=4, alpha=8))
    args = GRPOConfig(output_dir=str(tmp_path), per_device_train_batch_size=4, num_generations=2,
                      max_completion_length=4, temperature=0.7, use_cpu=True, bf16=False, report_to=[])
    trainer = _grpo_trainer_class()(model=model, reward_funcs=[lambda completions, **kw: [0.0] * len(completions)],
                                    args=args, train_dataset=datasets.Dataset.from_list([{"prompt": "w1 ans"}] * 4),
                                    processing_class=tok)
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(len(tok) - 300, len(tok), (4, 9), generator=generator)
    mask = torch.ones_like(ids)
    mask[0, :3] = 0  # prompts are padded on the left
    mask[1, :1] = 0
    ours = trainer._get_per_token_logps_and_entropies(model, ids, mask, 3, compute_entropy=True)
    trl = GRPOTrainer._get_per_token_logps_and_entropies(trainer, model, ids, mask, 3, compute_entropy=True)
    torch.testing.assert_close(ours[0], trl[0], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(ours[1], trl[1], rtol=1e-4, atol=1e-5)
    assert ours[0].shape == (4, 3) and ours[0].requires_grad


def test_the_rollout_inserts_the_sampled_categorys_block_and_masks_it_from_the_loss():
    """``block_rollout`` samples the chain up to the category, inserts the tool's block for the category
    it sampled (for that row's case), then samples the rest; the block's tokens, and only they, are
    masked (``env_mask`` 0). A model fitted on three cases writes their chains, so blocks do get inserted."""
    from types import SimpleNamespace

    from transformers import GenerationConfig

    from workbench.lm import SFTSettings, train_sft
    from workbench.needs import prompts, training
    from workbench.needs.world import WorldSpec, generate_world

    data = generate_world(WorldSpec(users=20, min_records=20, max_records=22), seed=4)
    rec = data.records
    pop = prompts.Popularity.from_records(rec[rec["split"] != "test"], data.merchants)
    cases = prompts.build_cases(data, rec, rec["split"] == "test", rec["split"] != "test", pop, 4, 3, 5,
                                keep_pool=True, block_size=4).head(3)
    tok = training.make_tokenizer(data, 200, candidates=True)
    model = make_model(TinyLMConfig(hidden=48, layers=2, heads=2, intermediate=96, max_len=200), tok, seed=0)
    train_sft(model, tok, list(zip(cases["prompt"], cases["completion"])),
              SFTSettings(steps=200, batch_size=3, lr=1e-2, warmup=0, max_length=200, seed=0, device="cpu"))
    asked = []

    def block(position, category):
        asked.append((position, category))
        case = cases.iloc[position]
        return prompts.candidate_block(prompts.case_pool(case), case, category, pop, 3, 4)[1]

    rows = [{"prompt": p, "case": i} for i, p in enumerate(cases["prompt"]) for _ in range(2)]
    trainer = SimpleNamespace(rollout_rows=rows, processing_class=tok, model=model,
                              accelerator=SimpleNamespace(unwrap_model=lambda m: m),
                              generation_config=GenerationConfig(do_sample=True, temperature=0.05, max_new_tokens=60,
                                                                 eos_token_id=[tok.eos_token_id], pad_token_id=tok.pad_token_id))
    torch.manual_seed(0)
    out = training.block_rollout(block)([r["prompt"] for r in rows], trainer)
    assert out["prompt_ids"] == [tok(r["prompt"])["input_ids"] for r in rows]
    inserted = 0
    for row, ids, mask in zip(rows, out["completion_ids"], out["env_mask"]):
        assert len(ids) == len(mask)
        words = tok.decode(ids, skip_special_tokens=True).split()
        head = prompts.parse_chain(" ".join(words[:10]))
        masked = [i for i, m in enumerate(mask) if m == 0]
        if head is None or head.category is None or not (row["case"], head.category) in asked:
            assert not masked  # no category sampled, no block
            continue
        expected = block(row["case"], head.category)
        if expected:
            inserted += 1
            assert masked == list(range(10, 10 + len(expected.split())))  # right after the category, all of it
            assert tok.decode([ids[i] for i in masked]) == expected
    assert inserted >= 2 and asked
    with pytest.raises(RuntimeError, match="lost track"):
        training.block_rollout(block)(["another prompt"] * len(rows), trainer)


def test_prompt_loss_stays_only_in_the_phases_asked(monkeypatch):
    """``prompt_loss_stages``: each curriculum phase trains with the loss on the prompt only when named
    (the batch softmax, which samples the prompt's positions, goes with it); None keeps the settings
    as given in every phase."""
    import pandas as pd

    from workbench.lm import SFTSettings
    from workbench.needs import training

    seen = []
    monkeypatch.setattr(training, "train_sft", lambda model, tok, pairs, settings, **kw: seen.append(settings) or [])
    cases = pd.DataFrame({"prompt": ["ctx a ans"], "completion": ["{ need : n } { category : c } { services : [ m ] }"]})
    base = SFTSettings(steps=100, completion_only_loss=False, batch_softmax=True, batch_negatives=8)
    training.curriculum_sft(None, None, cases, base, prompt_loss_stages=("need",))
    assert [(s.completion_only_loss, s.batch_softmax, s.batch_negatives) for s in seen] == [
        (False, True, 8), (True, False, 0), (True, False, 0)]
    assert [s.steps for s in seen] == [20, 20, 60]
    seen.clear()
    training.curriculum_sft(None, None, cases, base)
    assert {(s.completion_only_loss, s.batch_softmax) for s in seen} == {(False, True)}
