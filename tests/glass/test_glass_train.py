"""The one training loop: both model kinds go through it, gradients are clipped, 1-D tensors never decay."""

import numpy as np
import pytest
import torch

from workbench.glass.baselines import SASRec, train_sasrec
from workbench.glass.model import ModelSpec, SeqRecModel
from workbench.glass.semantic_ids import add_collision_digit
from workbench.glass.training import Selection, TrainSettings, batch_rows, param_groups, train_model


def tiny_sasrec(n_items=12, window=5):
    torch.manual_seed(0)
    return SASRec(n_items, window, d_model=16, heads=2, layers=1, dropout=0.0)


def grad_norm(model):
    return float(torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in model.parameters() if p.grad is not None])))


def test_sasrec_goes_through_the_one_loop_and_is_clipped():
    model = tiny_sasrec()
    rng = np.random.default_rng(0)
    window, targets = rng.integers(-1, 12, (40, 5)), rng.integers(0, 12, 40)
    settings = TrainSettings(steps=30, batch_size=8, lr=1e-2, warmup=2, clip=1e-3)
    seen = []
    curve = train_sasrec(model, window, targets, settings, "cpu", lambda m, f: seen.append((m, f)))
    assert len(curve) == 2 and all(np.isfinite(curve))  # one point per 25 steps, the rest at the end
    assert seen[-1][1] == 1.0 and seen[-1][0].startswith("SASRec: step 30/30")
    # the gradients left by the last step were clipped to the bar (the raw norm is far above 1e-3)
    assert grad_norm(model) == pytest.approx(1e-3, rel=1e-3)
    assert not model.training


def test_sid_model_is_clipped_too():
    codes = add_collision_digit(np.array([[0, 0, 1], [0, 1, 0], [1, 0, 0], [1, 1, 1]]))
    torch.manual_seed(0)
    model = SeqRecModel(ModelSpec(sizes=(2, 2, 2, 1), window=3, d_model=16, heads=2, enc_layers=1, dec_layers=1,
                                  d_ff=32), torch.as_tensor(codes))
    targets = torch.as_tensor(codes)[torch.arange(20) % 4]
    window = torch.randint(0, 4, (20, 3), generator=torch.Generator().manual_seed(1))
    train_model(model, lambda rows: model.loss(window[rows], None, targets[rows]), 20,
                TrainSettings(steps=5, batch_size=4, clip=1e-3, warmup=1), "cpu")
    assert grad_norm(model) == pytest.approx(1e-3, rel=1e-3)


def test_only_matrices_and_embeddings_decay():
    model = tiny_sasrec()
    decay, rest = param_groups(model, 0.1)
    assert decay["weight_decay"] == 0.1 and rest["weight_decay"] == 0.0
    assert all(p.dim() >= 2 for p in decay["params"]) and all(p.dim() == 1 for p in rest["params"])
    assert any(p is model.items.weight for p in decay["params"])  # embeddings are matrices: they decay
    assert any(p is model.norm.weight for p in rest["params"]) and any(p is model.norm.bias for p in rest["params"])
    assert len(decay["params"]) + len(rest["params"]) == len(list(model.parameters()))
    # with zero gradients only the decay moves parameters: matrices shrink, 1-D tensors stay put
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    train_model(model, lambda rows: 0.0 * sum(p.sum() for p in model.parameters()), 10,
                TrainSettings(steps=3, batch_size=2, lr=0.1, weight_decay=0.5, warmup=1), "cpu")
    for name, p in model.named_parameters():
        if p.dim() == 1:
            assert torch.equal(p, before[name]), name
        else:
            assert p.abs().sum() < before[name].abs().sum(), name


def test_batches_are_seeded_and_length_grouped_on_request():
    s = TrainSettings(batch_size=4, seed=3)
    a, b = batch_rows(10, s, "cpu"), batch_rows(10, s, "cpu")
    assert all(torch.equal(next(a), next(b)) for _ in range(3))
    lengths = np.array([1, 9] * 20)
    grouped = batch_rows(40, TrainSettings(batch_size=4, seed=0, length_batches=True), "cpu", lengths)
    assert all(len(set(lengths[next(grouped).numpy()])) == 1 for _ in range(5))


def test_selection_keeps_the_weights_of_the_best_validation_check():
    """Checks every 10 steps (10, 20, 30 and the last, 35) score 0.2, 0.9, 0.5, 0.1: the step-20 weights come back."""
    model = tiny_sasrec()
    rng = np.random.default_rng(0)
    window, targets = rng.integers(-1, 12, (40, 5)), rng.integers(0, 12, 40)
    scores, snapshots = iter([0.2, 0.9, 0.5, 0.1]), {}

    def score(m):
        assert not m.training  # scored in eval mode (no dropout)
        snapshots[len(snapshots) + 1] = {k: v.clone() for k, v in m.state_dict().items()}
        return next(scores)

    selection = Selection(score, every=10)
    train_sasrec(model, window, targets, TrainSettings(steps=35, batch_size=8, lr=1e-2, warmup=2), "cpu", selection=selection)
    assert [s for s, _ in selection.log] == [10, 20, 30, 35] and selection.best_step == 20
    for name, value in model.state_dict().items():
        assert torch.equal(value, snapshots[2][name]), name
    assert any(not torch.equal(snapshots[2][k], snapshots[4][k]) for k in snapshots[2])  # training moved on after it


def test_selection_refuses_to_pick_on_the_cases_it_reports():
    from workbench.errors import WorkbenchError
    from workbench.glass.config import Config

    with pytest.raises(WorkbenchError, match="select_every picks the step on validation cases"):
        Config.for_profile("smoke").with_overrides({"select_every": 50, "eval_split": "valid"})


def test_build_with_selection_records_the_step_it_kept(tmp_path):
    from workbench.glass.config import Config
    from workbench.glass.files import load_setup, save_setup
    from workbench.glass.jobs import load_data
    from workbench.glass.systems import setup_sids, train_system

    config = Config.for_profile("smoke").with_overrides(
        {"select_every": 10, "select_cases": 20, "valid_users": 30, "steps": 25, "sasrec_steps": 25})
    data, _, _ = load_data(config)
    save_setup(setup_sids(data, config, tuple(config.codebook), config.seed), tmp_path / "base")
    setup = load_setup(tmp_path / "base")  # as the runner's jobs hand it on: the validation cases travel too
    assert len(setup.valid) == 20 and set(setup.valid.cases["split"]) == {"valid"}
    for name in ("tiger", "sasrec"):
        result = train_system(name, config, setup, 0, "cpu")
        assert result.diagnostics["selection checks"] == 3  # steps 10, 20 and the last, 25
        assert result.diagnostics["selected step"] in (10, 20, 25)
        assert 0.0 <= result.diagnostics["selection Recall@10 (valid)"] <= 1.0
        curve = dict(result.diagnostics["selection curve"])
        assert list(curve) == [10, 20, 25] and max(curve.values()) == result.diagnostics["selection Recall@10 (valid)"]
        assert curve[result.diagnostics["selected step"]] == max(curve.values())
