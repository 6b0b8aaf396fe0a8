# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · The thinking spectrum: tunable reasoning by merging a direct and a thinking model
#
# Lan et al. (2025) merge an *Instruct* (direct) and a *Thinking* model of one family at many strengths
# and with several merge methods, and plot **accuracy against mean generated tokens**. They find that
# tokens fall smoothly as the Instruct weight rises, that thinking switches off **sharply** at some
# weight, and that a little Instruct weight on top of Thinking can cut tokens at equal accuracy — a
# **Pareto improvement**.
#
# This notebook rebuilds the study in miniature, on a laptop CPU:
#
# 1. an **arithmetic world** with an exact verifier, answered directly or with a scratchpad;
# 2. a shared **base** and two **parents** fine-tuned from it (direct, and thinking with redundant re-checks);
# 3. each **merge method** explained on one tensor;
# 4. the **sweep** over strengths, the **transition**, **accuracy vs tokens**, and **Pareto** improvements;
# 5. a **slider** over the strength grid with sample generations.
#
# Everything comes from the `workbench` library; the cells only call it and show its outputs.

# %% tags=["parameters"]
PROFILE = "demo"
SEED = 0

# %%
import random

import pandas as pd
import plotly.io as pio

from IPython.display import Markdown, display

from workbench import budget_curves, methods
from workbench.claims import as_table, read_run_claims
from workbench.merging import analysis, overthink, world
from workbench.merging.merge_methods import REGISTRY
from workbench.merging.parents import load_parents
from workbench.progress import tqdm_progress
from workbench.record import record
from workbench.viz import budget as bviz
from workbench.viz import merging as viz

pio.renderers.default = "notebook+plotly_mimetype"
pd.set_option("display.max_colwidth", 120)

# %% [markdown]
# ## 1. The arithmetic world
#
# A problem is an expression over single digits with 1–6 operations (`+ - *`, products first, every
# intermediate value in 0..99). The **direct** style answers at once; the **thinking** style works one
# operation per step inside `<think> … </think>` and may add redundant `check` steps that restate an
# earlier step. Only the thinking parent is trained on those re-checks: they are the overthinking a
# merge can shave off.

# %%
problems = world.make_problems(6, seed=SEED)
rng = random.Random(SEED)
pd.DataFrame([
    {"ops": p.n_ops, "prompt": world.prompt(p), "answer": p.answer, "direct": world.direct_completion(p),
     "thinking (with re-checks)": world.thinking_completion(p, rechecks=rng.randint(1, 3), rng=rng)}
    for p in problems
])

# %% [markdown]
# The verifier is exact, and answer extraction is tolerant: a malformed output is scored wrong, never
# an error.

# %%
p = problems[2]
pd.DataFrame([
    {"output": text, "extracted": world.extract_answer(text), "correct": world.is_correct(p, text)}
    for text in [world.direct_completion(p), world.thinking_completion(p), "A : 9 9 ;", "<think> 3 + 4 = 7 ;", ""]
])

# %% [markdown]
# ## 2. Build: base, parents, sweeps
#
# One call trains the base on both styles, fine-tunes the two parents, sweeps every merge method over
# its strength grid and analyses the result (a no-op when this profile is already built).

# %%
with tqdm_progress(f"merging ({PROFILE})") as bar:
    run = methods.build("merging", PROFILE, overrides={"seed": SEED} if SEED else None, progress=bar)
summary = run.read_parquet("summary")
difficulty = run.read_parquet("difficulty")
metrics = run.read_json("metrics")
seed_metrics = metrics["per_seed"][0]
parent_rows = {k: tuple(v) for k, v in metrics["parent_rows"].items()}
print(run.path)
print(f"{metrics['n_problems']} problems x {metrics['samples']} samples per model, "
      f"temperature {metrics['temperature']}, top-p {metrics['top_p']}")

# %% [markdown]
# ## 3. The base and the parents
#
# The base learns both styles; each child is fine-tuned briefly at a low learning rate so that both
# stay in the base's basin (the precondition for merging them).

# %%
viz.loss_curves(run.read_json("losses"))

# %% [markdown]
# The parents on the evaluation problems, per difficulty: the thinking parent should win clearly on
# hard problems and spend many more tokens.

# %%
parents_table = difficulty.merge(pd.DataFrame(
    [{"method": m, "strength": s, "parent": name} for name, (m, s) in parent_rows.items()]), on=["method", "strength"])
record("run", str(run.path))  # what this notebook read; tests/test_notebooks.py checks the numbers below against it
record("parents by difficulty", parents_table[["parent", "n_ops", "accuracy", "tokens"]].to_dict("records"))
parents_table.pivot_table(index="n_ops", columns="parent", values=["accuracy", "tokens"]).round(3)

# %% [markdown]
# How far apart are the parents? Relative L2 distance per module and layer, and the cosine between the
# two task vectors (θ − θ_base).

# %%
print(f"parents {seed_metrics['parents_rel_l2']:.1%} apart (relative L2 over all weights)")
viz.weight_heatmap(run.read_parquet("weights"), "rel_l2_parents")

# %%
viz.weight_heatmap(run.read_parquet("weights"), "cos_task_vectors")

# %% [markdown]
# ## 4. Each merge method on one tensor
#
# Strength λ is the weight of the **direct** parent (1 = direct, 0 = thinking). Below: the first entries
# of one attention matrix, the two task vectors, and what each method makes of them at λ = 0.5.
# Linear, SLERP and task arithmetic interpolate; TIES trims each task vector to its largest entries and
# keeps only entries that agree with the elected sign; DARE drops entries at random and rescales the
# survivors; magnitude pruning trims without a sign vote.

# %%
pd.DataFrame([{"method": m.name, "needs base": m.needs_base, "density": m.uses_density,
               "random": m.stochastic, "endpoints = parents": m.exact_endpoints, "convention": m.summary}
              for m in REGISTRY.values()])

# %%
parents = load_parents(run)
example = analysis.tensor_example(parents.direct, parents.thinking, parents.base,
                                  "model.layers.0.self_attn.q_proj.weight", entries=10, strength=0.5,
                                  density=run.config["density"])
viz.tensor_methods_figure(example)

# %% [markdown]
# ## 5. The sweep: tokens, thinking share and the transition
#
# Linear merges over a coarse grid, fine steps near both parents, and a fine window around the
# *switch-off* — found from the coarse points — where the merges stop opening `<think>`.

# %%
viz.strength_curves(summary, "linear", seed_metrics["transition"])

# %%
transition = seed_metrics["transition"]
record("switch-off", transition["switch_off"])
print(f"switch-off at λ={transition['switch_off']:.3f} "
      f"[{transition['switch_off_low']:.3f}, {transition['switch_off_high']:.3f}]; "
      f"the share that thinks falls from 90% to 10% over a width of {transition['width']:.3f} in λ")
viz.thinking_share_by_difficulty(difficulty, "linear")

# %%
summary[summary.method == "linear"][["strength", "accuracy", "accuracy_low", "accuracy_high", "tokens",
                                     "thinking_share", "rechecks", "d_acc_thinking", "rel_tok_thinking"]].round(3)

# %% [markdown]
# ## 6. Accuracy vs tokens, every method
#
# Stars are the parents; the dashed line is the Pareto frontier over every merge evaluated; green rings
# mark significant Pareto improvements over a parent.

# %%
viz.accuracy_vs_tokens(summary, sorted(summary.method.unique()), parents=parent_rows,
                       frontier=analysis.pareto_frontier(summary), improvements=run.read_parquet("pareto"))

# %% [markdown]
# ## 7. Pareto improvements and the claims
#
# A merge improves on a parent when its point estimates are at least as good on both axes; it is
# *significant* when one axis is significantly better (95% paired-bootstrap interval excludes 0) and the
# other is not significantly worse.

# %%
pareto = run.read_parquet("pareto")
pareto.sort_values(["significant", "rel_tokens"], ascending=[False, True]).head(12).round(4)

# %% [markdown]
# The claims, measured: what is compared on which quantity, the two numbers, their difference (or the
# statistic against its bar) with a 95% interval, and the verdict (`workbench claims --wide` says the same):

# %%
shown = read_run_claims(run)
record("claims", [c.to_dict() for c in shown])
Markdown(as_table(shown, style="markdown"))

# %% [markdown]
# ## 8. Explore: slide along the strength grid
#
# Each position shows that merge's numbers and sample generations (thinking text included). The app's
# *Merge strength* page does the same, and can merge and evaluate any exact strength live.

# %%
viz.strength_explorer(summary, run.read_parquet("examples"), method="linear")

# %% [markdown]
# ## 9. Where there is overthinking to cut: the dial
#
# Above, the thinking parent sits near the accuracy ceiling, so a merge can only be *as* accurate with
# fewer tokens. The overthinking dial (`--set overthink=…`, in [0, 1]; 0 is the world above) retrains
# the thinking child on traces whose re-checks can drift off a correct result, with more re-checks on
# every difficulty and a generation budget that cuts the longest thinking off — the overthinking the
# paper's strict gains come from. The committed study (`python benchmarks/run.py merging_overthink`,
# 3 seeds per dial point) measured the planted effects on the parents, then merged. Its dial 0 is the
# world above at the study's size: the thinking parent near the ceiling, at most a weak gain.

# %%
study = overthink.load()
if study is None:
    print("The overthinking study is not in this checkout; python benchmarks/run.py merging_overthink writes it.")
else:
    ot_rows, ot_savings, ot_parents, ot_transition = overthink.frames(study)
    print(study["cut"])
    display(ot_parents[["dial", "seeds", "thinking_accuracy", "thinking_tokens", "thinking_drift_share",
                        "thinking_truncated_share", "thinking_easy_tokens", "direct_accuracy", "direct_tokens"]].round(3))

# %% [markdown]
# Each method's accuracy against tokens at every dial point (means over seeds; strict Pareto
# improvements over the thinking parent ringed), and the tokens each method saves while keeping the
# thinking parent's accuracy:

# %%
if study is not None:
    for dial in study["dials"]:
        parent = ot_parents[ot_parents["dial"] == dial].iloc[0]
        viz.overthink_frontier(ot_rows, parent, dial).show()
    display(ot_savings[["dial", "method", "saved", "saved_interval", "activation_informed_minus",
                        "activation_informed_minus_interval"]].round(3))

# %% [markdown]
# The sharp transition, decided by the build's own rule (the 90% -> 10% width of the thinking share
# along the linear merges, against the bar of a fifth of the range) on the study's 3 seeds, with a
# finer linear grid across the fall, at every dial whose points measured it:

# %%
if study is not None:
    for sentence in ot_transition.get("sentence", []):
        print(sentence)

# %% [markdown]
# The verdict: one line per dial (the best strict Pareto improvement — accuracy up AND tokens down,
# both paired intervals over seeds and problems excluding 0 — the best weak one, each method's tokens
# saved at the thinking parent's accuracy), whether a strict gain reaches the paper-sized bar (+2
# points at 15% fewer tokens), and a drift case — the thinking parent had the answer, re-checked and
# lost it.

# %%
if study is not None:
    display(pd.DataFrame(study.get("summary", [])).set_index("dial").T)
    verdict = study["verdict"]
    print("strict Pareto improvement:", verdict["best_strict"] or "none found")
    print("goal (+2 points at -15% tokens) met:", verdict["goal_met"])
    case = overthink.featured_drift_case(study, (verdict["best_strict"] or {"dial": study["dials"][-1]})["dial"])
    if case:
        print(case["prompt"], "answer", case["answer"])
        print("  thinking parent:", case["parent"]["text"])
        print(f"  linear λ={case['merge_strength']:g}:", case["merge"]["text"])

# %% [markdown]
# ## 10. At which training budget do the verdicts settle?
# The children's fine-tuning steps are one setting (`child_steps`; the demo has 300). The committed budget study (`python benchmarks/run.py merging_budget`) rebuilt this
# method's demo settings at several budgets, seed 0: each claim's quantity with its 95% interval
# (green: reproduced, red: not), and the *stable budget* — the smallest budget from which every claim
# keeps its verdict, and its estimate moves no more than the two budgets' intervals allow together,
# at every larger budget studied (`workbench.budget_curves`; dashed when there is one).

# %%
budget_study = budget_curves.load("merging")
print(budget_curves.describe("merging", budget_study))
if budget_study is not None:
    print(budget_curves.provenance(budget_study))
    display(bviz.claims_curve(budget_study, budget_curves.UNITS["merging"]))
