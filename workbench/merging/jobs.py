"""The thinking spectrum's jobs (``pipeline.plan`` lays out the graph; ``workbench.runner`` runs it).

Per seed ``s``:

- ``seed{s}/parents`` (``train``): the base and both children (``parents.train_parents``), saved as
  ``save_pretrained`` folders with the tokenizer, plus ``losses.json``.
- ``seed{s}/<chunk>`` (``sweep``): one chunk of the sweep (``sweep.chunks``): merges the parents it
  loads from the parents job's folder at each of its strengths, evaluates them, and writes
  ``outputs.parquet`` (one row per problem and sample) and ``examples.parquet`` (sample generations).
  It returns the thinking share per strength: the coarse linear chunks' shares locate the transition
  window that ``linear-fine`` and ``slerp`` add to their grids. Exact-endpoint methods (SLERP, task
  arithmetic) take their rows at λ = 0 and 1 from the coarse linear chunks (the parents themselves,
  same seed: the same outputs) instead of evaluating the parents again.
- ``seed{s}/analysis`` (``analyse``): every chunk of the seed → the seed's sweep table, summary,
  per-difficulty table, Pareto table, the parents' weight differences and the claims' ``Evidence``
  (bootstraps over problems; seconds on the demo profile, so a job of its own).

Each job rebuilds its settings from ``spec["config"]`` (the run's settings with this seed), seeds
itself, and talks to other jobs only through their folders and returned dicts, so its numbers do not
depend on which worker runs it or in which order.
"""

from __future__ import annotations

import pandas as pd

from workbench.atomic import atomic_write_text, to_json
from workbench.runner import JobContext
from workbench.merging import analysis, claims
from workbench.merging.config import Config
from workbench.merging.merge_methods import get
from workbench.merging.parents import eval_problems, load_parents_from, save_parents, train_parents
from workbench.merging.sweep import chunks, coarse_names, evaluate_points, window_from
from workbench.runtime import resolve_device, seed_everything

PARENTS = "parents"
ANALYSIS = "analysis"


def train(ctx: JobContext) -> dict:
    """``seed{s}/parents``: train the base and both children; save them and their loss curves."""
    cfg = Config.from_dict(ctx.spec["config"])
    seed_everything(cfg.seed)
    parents, losses = train_parents(cfg, ctx.progress)
    save_parents(parents, ctx.folder)
    atomic_write_text(ctx.folder / "losses.json", to_json(losses))
    return {"final_loss": {name: curve[-1]["loss"] if curve else None for name, curve in losses.items()}}


def _parent_rows(ctx: JobContext, coarse: list[str], method: str, strengths: list[float]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows of the parents (linear λ in ``strengths``) from the coarse linear chunks, relabelled ``method``."""
    out = []
    for table in ("outputs", "examples"):
        frame = pd.concat([pd.read_parquet(ctx.dep_folder(name) / f"{table}.parquet") for name in coarse], ignore_index=True)
        frame = frame[frame["strength"].isin(strengths)].sort_values("strength", kind="stable")
        out.append(frame.assign(method=method).reset_index(drop=True))
    return out[0], out[1]


def sweep(ctx: JobContext) -> dict:
    """``seed{s}/<chunk>``: evaluate one chunk's merges; returns its strengths and thinking shares."""
    cfg = Config.from_dict(ctx.spec["config"])
    seed_everything(cfg.seed)
    chunk = next(c for c in chunks(cfg) if c.name == ctx.spec["chunk"])
    coarse = [ctx.dep(name) for name in coarse_names(cfg)] if chunk.needs_coarse else []
    window = window_from([ctx.results[name] for name in coarse], cfg) if chunk.window else []
    points = chunk.points(window)
    if chunk.method == "linear":  # the coarse chunks evaluated their points already
        done = {s for name in coarse for s in ctx.results[name]["strengths"]}
        points = [s for s in points if s not in done]
    reuses = chunk.method != "linear" and chunk.needs_coarse and get(chunk.method).exact_endpoints
    reused = [s for s in points if s in (0.0, 1.0)] if reuses else []  # the parents: rows of the coarse chunks
    todo = [s for s in points if s not in reused]
    device = resolve_device(cfg.device).type
    frames, examples = [], []
    if todo:
        parents = load_parents_from(ctx.dep_folder(PARENTS), device)
        outputs, shown = evaluate_points(parents, eval_problems(cfg), cfg, chunk.method, todo, ctx.progress)
        frames.append(outputs)
        examples.append(shown)
    if reused:
        outputs, shown = _parent_rows(ctx, coarse, chunk.method, reused)
        frames.append(outputs)
        examples.append(shown)
    outputs = _by_strength(frames)
    _by_strength(examples).to_parquet(ctx.folder / "examples.parquet", index=False)
    outputs.to_parquet(ctx.folder / "outputs.parquet", index=False)
    share = outputs.groupby("strength")["thinking"].mean() if len(outputs) else pd.Series(dtype=float)
    return {"method": chunk.method, "strengths": [float(s) for s in share.index], "window": window,
            "thinking_share": [[float(s), float(v)] for s, v in share.items()]}


def _by_strength(frames: list[pd.DataFrame]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True).sort_values("strength", kind="stable").reset_index(drop=True)


def analyse(ctx: JobContext) -> dict:
    """``seed{s}/analysis``: the seed's tables and claims evidence; returns its metrics.json entry."""
    cfg = Config.from_dict(ctx.spec["config"])
    seed_everything(cfg.seed)
    names = [c.name for c in chunks(cfg)]
    rank = {m: i for i, m in enumerate(dict.fromkeys(c.method for c in chunks(cfg)))}
    tables = {}
    for table in ("outputs", "examples"):
        parts = [pd.read_parquet(ctx.dep_folder(n) / f"{table}.parquet") for n in names]
        frame = pd.concat([p for p in parts if len(p)], ignore_index=True)  # an empty window leaves an empty chunk
        order = frame["method"].map(rank) * 10.0 + frame["strength"]  # method order, then strength
        tables[table] = frame.loc[order.sort_values(kind="stable").index].reset_index(drop=True)
    frame = tables["outputs"]
    ctx.progress("weights of the parents", 0.05)
    parents = load_parents_from(ctx.dep_folder(PARENTS))
    weights = analysis.weight_differences(parents.direct, parents.thinking, parents.base)
    rel_l2 = analysis.global_difference(parents.direct, parents.thinking)
    ctx.progress("bootstrapping the sweep", 0.1)
    evidence = claims.seed_evidence(frame, n_boot=cfg.n_boot, seed=cfg.seed, parents_rel_l2=rel_l2)
    ctx.progress("writing the tables", 0.95)
    evidence.save(ctx.folder)
    frame.assign(seed=cfg.seed).to_parquet(ctx.folder / "outputs.parquet", index=False)
    tables["examples"].to_parquet(ctx.folder / "examples.parquet", index=False)
    analysis.per_difficulty(frame).to_parquet(ctx.folder / "difficulty.parquet", index=False)
    analysis.pareto_improvements(evidence.summary, claims.PARENT_ROWS).to_parquet(ctx.folder / "pareto.parquet", index=False)
    weights.to_parquet(ctx.folder / "weights.parquet", index=False)
    return {"metrics": evidence.metrics, "n_problems": int(frame["problem"].nunique())}
