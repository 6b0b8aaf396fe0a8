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
