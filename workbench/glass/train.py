"""Training loops: the SID models (teacher forcing on the target's SID) and the SASRec baseline.

Plain torch loops — AdamW, linear warm-up then linear decay, random mini-batches — because the
models are tiny and the loop is the clearest place to see what each variant is fed: the short
window always, the SID-Tier vector when the model has the token, the true-c1 bucket when it has
hard search.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from workbench.glass.features import CaseArrays
from workbench.glass.model import SeqRecModel
from workbench.progress import Progress


@dataclass(frozen=True)
class TrainSettings:
    steps: int = 600
    batch_size: int = 256
    lr: float = 2e-3
    weight_decay: float = 0.01
    warmup: int = 50
    seed: int = 0
    length_batches: bool = False
    """Draw each batch from cases of similar window length (``length_batches``) instead of uniformly:
    every case is still seen once per epoch, but short windows are no longer padded to the longest
    one in the batch (3x less encoder work on Amazon Beauty). Off for the synthetic world (full windows)."""


def schedule(step: int, s: TrainSettings) -> float:
    """Learning-rate factor: linear warm-up to 1, then linear decay to 0.1."""
    if step < s.warmup:
        return (step + 1) / s.warmup
    return max(0.1, 1.0 - 0.9 * (step - s.warmup) / max(1, s.steps - s.warmup))


def length_batches(lengths: np.ndarray, batch_size: int, seed: int = 0, pool: int = 50):
    """Endless index batches of similar ``lengths``: each epoch is a fresh permutation cut into pools of
    ``pool`` batches; a pool is sorted by length, cut into batches, and the batches come in random order.

    >>> gen = length_batches(np.array([1, 9, 1, 9, 1, 9]), batch_size=3, seed=0, pool=2)
    >>> sorted(sorted(np.array([1, 9, 1, 9, 1, 9])[next(gen)].tolist()) for _ in range(2))
    [[1, 1, 1], [9, 9, 9]]
    """
    rng = np.random.default_rng(seed)
    n = len(lengths)
    while True:
        perm = rng.permutation(n)
        batches = []
        for start in range(0, n, batch_size * pool):
            chunk = perm[start : start + batch_size * pool]
            chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
            batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
        for i in rng.permutation(len(batches)):
            yield batches[i]


def model_inputs(arrays: CaseArrays, device, rows: np.ndarray | slice = slice(None)) -> dict[str, torch.Tensor]:
    """The tensors a SID model reads for some cases (true-c1 bucket for teacher forcing)."""
    return {
        "window": torch.as_tensor(arrays.window[rows], device=device),
        "tier": torch.as_tensor(arrays.tier[rows], device=device),
        "target_codes": torch.as_tensor(arrays.target_codes[rows], device=device),
        "bucket": torch.as_tensor(arrays.true_bucket()[rows], device=device),
    }


def train_sid_model(model: SeqRecModel, arrays: CaseArrays, settings: TrainSettings, device,
                    progress: Progress | None = None, label: str = "training") -> list[float]:
    """Train in place; returns the loss every 25 steps (for the learning-curve plot)."""
    model.to(device).train()
    data = model_inputs(arrays, device)
    model.fit_tier_scaling(data["tier"])
    n = len(arrays)
    gen = torch.Generator().manual_seed(settings.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: schedule(step, settings))
    curve, running = [], 0.0
    grouped = length_batches((arrays.window >= 0).sum(1), settings.batch_size, settings.seed) \
        if settings.length_batches else None
    for step in range(settings.steps):
        if grouped is not None:
            rows = torch.as_tensor(next(grouped), device=device)
        else:
            rows = torch.randint(n, (min(settings.batch_size, n),), generator=gen).to(device)
        batch = {k: v[rows] for k, v in data.items()}
        loss = model.loss(batch["window"], batch["tier"], batch["target_codes"],
                          batch["bucket"] if model.spec.hard_search else None)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        running += float(loss.detach())
        if (step + 1) % 25 == 0 or step + 1 == settings.steps:
            curve.append(running / (25 if (step + 1) % 25 == 0 else (step + 1) % 25))
            running = 0.0
            if progress:
                progress(f"{label}: step {step + 1}/{settings.steps}, loss {curve[-1]:.3f}", (step + 1) / settings.steps)
    model.eval()
    return curve
