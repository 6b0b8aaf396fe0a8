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
# # GLASS: long-term interests in generative recommendation with semantic IDs
#
# TIGER recommends by *generating* the next item's **semantic ID** (SID) — a short path of codes
# `c1 → c2 → c3 (→ collision digit)` — from the SIDs of the user's last few items. It cannot see
# further back than its short window. **GLASS** (Cao, She et al., 2026) adds the long history in two
# places of that coarse-to-fine path:
#
# 1. **SID-Tier** (before `c1`): a histogram of how similar the long history is to each first-level
#    code's prototype, fed as one extra encoder token → better `c1`.
# 2. **Semantic hard search** (after `c1`): the generated `c1` retrieves the user's most recent
#    long-term items with that code; a second cross-attention reads them, mixed in by an adaptive
#    gate that is forced to 0 at the `c1` step → better `c2`/`c3`.
#
# This notebook walks the whole method on a generated world with planted ground truth: item
# embeddings → SIDs → TIGER → SID-Tier → hard search and the gate → GLASS → ablations → one user.
# Everything is computed by `workbench.glass`; the cells only call it and show the results.

# %% tags=["parameters"]
PROFILE = "demo"
SEED = 0

# %%
import ipywidgets as widgets
import pandas as pd
import plotly.express as px
import plotly.io as pio
from sklearn.decomposition import PCA

from workbench import budget_curves, methods
from IPython.display import Markdown, display

from workbench.claims import as_table, read_run_claims
from workbench.glass.pipeline import load_data
from workbench.glass.semantic_ids import build_sids, sid_stats, sid_warnings
from workbench.progress import tqdm_progress
from workbench.record import record
from workbench.viz import budget as bviz
from workbench.viz import glass as gviz

pio.renderers.default = "notebook+plotly_mimetype"
pd.set_option("display.width", 200)

# %% [markdown]
# ## 1. Build the study
# One call builds (or finds, when already built) the whole comparison for this profile: the world,
# the SIDs, TIGER, GLASS, the ablations and the baselines, all scored on the same held-out users.
# The work runs as jobs — one data job per seed, then one job per system — in parallel worker processes.
# The demo profile takes a few minutes on two CPU cores; `smoke` about a minute.

# %%
with tqdm_progress(f"glass ({PROFILE})") as bar:
    run = methods.build("glass", PROFILE, {"seed": SEED}, progress=bar)
tables = gviz.run_tables(run)
config = methods.load("glass").Config(**run.config)
print(tables["summary"]["data"])
print("build time (s):", run.manifest["build_seconds"], "· device:", tables["summary"]["device"])
# Every seed and every system was one job; their seconds (wall and CPU) are in jobs.json:
pd.DataFrame(run.read_json("jobs")).T

# %% [markdown]
# ## 2. Item embeddings
# Items come from a topic hierarchy: topic centre + a sub-topic direction + a style direction (the
# last two shared by all topics) + noise. The planted topic is what a user's long-term interests are
# made of. A PCA view of the content embeddings, coloured by topic:

# %%
data, noisy, world = load_data(config)
xy = PCA(2, random_state=0).fit_transform(data.item_emb)
px.scatter(x=xy[:, 0], y=xy[:, 1], color=world.item_topic.astype(str), hover_name=data.item_names,
           labels={"x": "PC 1", "y": "PC 2", "color": "topic"}, title="Item content embeddings (PCA)",
           template="plotly_white", height=420)

# %% [markdown]
# ## 3. Semantic IDs: the tree and its statistics
# Residual k-means: `c1` is the nearest of 16 level-1 centroids, `c2` the nearest level-2 centroid to
# what is left, and so on; a collision digit separates items that share `(c1, c2, c3)`. Check the
# bucket sizes *before* training anything: every code used, even entropy, few collisions.

# %%
pd.DataFrame(tables["summary"]["sid_stats"]["base"]).round(3)

# %%
print("bucket check:", sid_warnings(tables["summary"]["sid_stats"]["base"]) or "no warnings — every code used, few collisions")

# %%
gviz.sid_tree(tables["items"], kind="sunburst")

# %% [markdown]
# Codebook resizing is one setting: a smaller first level (`resized_codebook`) makes level-1
# buckets denser. The readouts of both codebooks side by side:

# %%
pd.concat({name: pd.DataFrame(rows).set_index("level")[["codebook size", "codes used", "items per prefix (mean)",
                                                        "items per prefix (max)"]]
           for name, rows in tables["summary"]["sid_stats"].items()}, axis=1).round(2)

# %% [markdown]
# ## 4. TIGER: generating the next SID from the short window
# An encoder reads the SIDs of the last `window` items; a decoder generates `c1, c2, c3, digit`.
# Beam search over a prefix trie of real SIDs makes every result a real item. The loss curves of
# every trained model:

# %%
gviz.learning_curves(tables["diagnostics"])

# %%
headline = gviz.headline_table(tables["results"], "all")
record("run", str(run.path))  # what this notebook read; tests/test_notebooks.py checks the numbers below against it
record("Recall@10 on all test cases", headline.set_index("system")["Recall@10"].to_dict())
headline

# %% [markdown]
# ## 5. SID-Tier: the long history's shape, before `c1`
# For every level-1 code a prototype (the mean embedding of its items); every long-term item's
# cosine to every prototype falls into one of 4 tiers (edges at the quartiles of what training
# histories show). Below, the histogram of one held-out user whose next item comes from a topic
# that is *absent* from the short window (green frame: the true `c1`).

# %%
absent_case = int(tables["cases"].index[tables["cases"]["absent"]][0])
k1 = config.codebook[0]
truth_c1 = int(tables["items"].loc[tables["cases"].loc[absent_case, "target"], "c1"])
gviz.tier_heatmap(tables["walk"]["tier"][absent_case], k1, tables["walk"]["tier_edges"], highlight=[truth_c1])

# %% [markdown]
# Does the token help `c1`? Teacher-forced accuracy per level on the absent-topic slice (`c1@3`:
# the true first code among the three most likely):

# %%
gviz.level_accuracy(tables["results"], "absent", ["tiger", "tier_only", "search_only", "glass"])

# %% [markdown]
# ## 6. Hard search and the gate, after `c1`
# Each beam's `c1` retrieves the user's most recent long-term items with that code. The gate mixes
# that second cross-attention into the decoder; at the `c1` step it is 0, so `c1` cannot peek.
# The paper finds the learned gate rises with the retrieved-set length, and hard search slows the
# rank degradation from level to level (Conditional Rank Progression):

# %%
gviz.gate_vs_length(tables["diagnostics"], ["search_only", "glass"])

# %%
gviz.rank_progression(tables["diagnostics"], ["tiger", "tier_only", "search_only", "glass"])

# %% [markdown]
# ## 7. GLASS against TIGER and the baselines
# Recall@10 overall and by slice. *absent*: the next item's topic is not in the short window —
# only the long history can tell it.

# %%
gviz.results_bars(tables["results"], "Recall@10")

# %%
gviz.headline_table(tables["results"], "absent")

# %% [markdown]
# The claims, measured: what is compared on which quantity, the two numbers, their difference with a
# 95% interval, and the verdict from the numbers (`workbench claims --wide` says the same):

# %%
shown = read_run_claims(run)
record("claims", [c.to_dict() for c in shown])
Markdown(as_table(shown, style="markdown"))

# %% [markdown]
# ## 8. Ablations and decoding
# Every row of the study on the *continuing* slice (all cases are in section 4, the absent slice in
# section 7) — what the long history costs when the short window already tells the topic; then what
# constrained decoding buys over free decoding (the share of generated SIDs that name no item).

# %%
gviz.headline_table(tables["results"], "continuing")

# %%
pd.DataFrame({name: d["unconstrained"] for name, d in tables["diagnostics"].items() if "unconstrained" in d}).T.round(4)

# %% [markdown]
# ## 9. One user, walked through
# A held-out user where GLASS finds the next item and TIGER does not. The top beams of both, the
# bucket GLASS retrieved for its best beam, and the tree with the generated paths (orange) and the
# truth (green). Use the dropdown to look at other users.

# %%
picks = gviz.contrast_cases(tables, absent=True) or gviz.contrast_cases(tables, absent=False) or [absent_case]
case = picks[0]
target = int(tables["cases"].loc[case, "target"])
print("next item:", tables["items"].loc[target, "name"], "· long history:", tables["cases"].loc[case, "long history"], "items")
gviz.case_view(tables, case, "tiger").head(5)

# %%
glass_beams = gviz.case_view(tables, case, "glass")
glass_beams.head(5)

# %%
best_c1 = int(glass_beams["SID"].iloc[0].split("-")[0])
gviz.bucket_frame(gviz.case_buckets(tables["walk"], case)[best_c1], tables["items"], target)

# %%
paths = [tuple(int(x) for x in s.split("-")) for s in glass_beams["SID"].head(5)]
truth = tuple(int(v) for v in tables["items"].loc[target, ["c1", "c2", "c3", "c4"]])
gviz.sid_tree(tables["items"], focus=truth[0], paths=paths, truth=truth)

# %%
widgets.interact(gviz.case_view, tables=widgets.fixed(tables),
                 case=widgets.Dropdown(options=picks[:50] or [case], description="case"),
                 system=widgets.ToggleButtons(options=["glass", "tiger"]))

# %% [markdown]
# ## 10. At which training budget do the verdicts settle?
# GLASS's steps per SID model is one setting (`steps`; the demo has 600). The committed budget study (`python benchmarks/run.py glass_budget`) rebuilt this
# method's demo settings at several budgets, seed 0: each claim's quantity with its 95% interval
# (green: reproduced, red: not), and the *stable budget* — the smallest budget from which every claim
# keeps its verdict, and its estimate moves no more than the two budgets' intervals allow together,
# at every larger budget studied (`workbench.budget_curves`; dashed when there is one).

# %%
budget_study = budget_curves.load("glass")
print(budget_curves.describe("glass", budget_study))
if budget_study is not None:
    print(budget_curves.provenance(budget_study))
    display(bviz.claims_curve(budget_study, budget_curves.UNITS["glass"]))

# %% [markdown]
# ## 11. Your turn
# - Rebuild with another codebook: `methods.build("glass", "demo", {"codebook": "8,8,8"})`.
# - Noisier embeddings: `{"noise": 0.3}` — watch the SID statistics and GLASS's gain.
# - Real data: `workbench build glass --dataset movielens --data-path ../shared/data/movielens-latest-small`.
# - SIDs by RQ-VAE instead of residual k-means, on these embeddings:

# %%
pd.DataFrame(sid_stats(build_sids(data.item_emb, config.codebook, method="rqvae", seed=SEED))).round(3)
