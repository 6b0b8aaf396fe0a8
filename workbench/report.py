"""The claims report across methods: gathers each built run's ``claims.json`` for a profile, and
the committed reference verdicts over several seeds (``workbench/reference/*.json``); and the
shareable report (``html``): one self-contained HTML file with the claims, each method's key figure,
data card and settings, and the versions — what a presenter sends after a talk.

It sits above the method registry (it asks every method for its claims), so the claim types and the
comparison rule (``workbench.claims``) stay below the methods that use them.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
from pathlib import Path

from workbench import budget_curves, methods
from workbench.atomic import atomic_write_text
from workbench.claims import Claim, ClaimSpec, budget, read_run_claims, sentence
from workbench.errors import WorkbenchError
from workbench.store import ArtifactStore, versions


def collect(store: ArtifactStore | None = None, profile: str = "demo") -> list[Claim]:
    """Every registered claim for ``profile``: measured rows from built runs, null rows otherwise."""
    store = store or ArtifactStore()
    rows: list[Claim] = []
    for name in methods.available():
        module = methods.load(name)
        specs: list[ClaimSpec] = list(getattr(module, "CLAIMS", []))
        measured: dict[str, Claim] = {}
        extra: list[Claim] = []
        for dataset in store.datasets(name, profile) or ["synthetic"]:
            run = methods.latest(store, name, profile, dataset)
            if run is None:
                continue
            try:
                found = read_run_claims(run)
            except (OSError, ValueError, TypeError, AttributeError):  # damaged in a way the cheap listing check misses
                continue  # its rows stay null; `workbench doctor --verify` names the run
            for claim in found:
                if claim.id in measured or claim.id not in {s.id for s in specs}:
                    extra.append(claim)
                else:
                    measured[claim.id] = claim
        for spec in specs:
            rows.append(measured.get(spec.id) or Claim.from_spec(spec, profile=profile))
        rows.extend(extra)
    return rows


# ---- reference verdicts over seeds --------------------------------------------------------------------
REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
"""Committed reference results: ``<profile>-<n>seeds.json`` (``<profile>-stable-<n>seeds.json`` when
built at the stable budgets) with the command and commit that made them."""


def reference_path(profile: str, n_seeds: int, stable: bool = False) -> Path:
    """Where a reference is committed; one built at the stable budgets has its own name, so it sits
    beside the profile-budget one (which verdicts the budget changes is read from the two)."""
    return REFERENCE_DIR / f"{profile}-{'stable-' if stable else ''}{n_seeds}seeds.json"


def load_reference(profile: str = "demo") -> dict | None:
    """The committed reference of ``profile`` to show: one at the stable budgets (``at_stable_budget``)
    before one that is not, then the one with the most seeds; None when there is none."""
    docs = []
    for path in REFERENCE_DIR.glob(f"{profile}-*seeds.json"):
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and doc.get("claims"):
            docs.append(doc)
    return max(docs, key=lambda d: (at_stable_budget(d), len(d.get("seeds", []))), default=None)


def reference_budgets(ref: dict) -> dict[str, int]:
    """Method -> the budget its budget study varies (``budget_curves.BUDGETS``) that ``ref`` was built at:
    recorded under ``budgets`` by ``build_reference``; for a reference made before that field, the
    profile's setting with the command's ``--set METHOD.key=value`` overrides."""
    if isinstance(ref.get("budgets"), dict):
        return {m: int(v) for m, v in ref["budgets"].items()}
    given = dict(((m, k), v) for m, k, v in re.findall(r"--set (\w+)\.(\w+)=(\S+)", ref.get("command", "")))
    out = {}
    for method in dict.fromkeys(r.get("method") for r in ref.get("claims", [])):
        setting = budget_curves.BUDGETS.get(method)
        if setting is None or method not in methods.METHODS:
            continue
        value = given.get((method, setting))
        out[method] = int(value) if value is not None else int(getattr(methods.make_config(method, ref["profile"]), setting))
    return out


def budget_standing(ref: dict) -> dict[str, dict]:
    """Per method of ``ref`` with a budget study: the budget it was built at, the study's stable budget
    (None: not stable within the budgets studied) and the largest budget studied."""
    stable = budget_curves.stable_budgets()
    return {m: {"built": b, "stable": stable[m]["budget"], "largest": stable[m]["largest"], "why": stable[m]["why"]}
            for m, b in reference_budgets(ref).items() if m in stable}


def at_stable_budget(ref: dict) -> bool:
    """How a reference at the stable budgets is recognised: every method of it whose committed study
    names a stable budget was built at exactly that budget (its ``budgets`` field), and at least one
    was. A method whose study names none (still moving at its largest budget) does not decide it; the
    headline says which budget that method was read at."""
    named = [s for s in budget_standing(ref).values() if s["stable"] is not None]
    return bool(named) and all(s["built"] == s["stable"] for s in named)


def reference_headline(ref: dict) -> str:
    """What the shown reference is, in one paragraph (Home and ``workbench claims`` lead with it)."""
    from workbench.budget_curves import UNITS

    standing = budget_standing(ref)
    n = len(ref.get("seeds", []))
    minutes = f" ({ref['wall_seconds'] / 60:.0f} min" if ref.get("wall_seconds") else ""
    minutes += (f", {ref['cpu_seconds']:,.0f} CPU s)" if ref.get("cpu_seconds") else ")") if minutes else ""
    made = f"`{ref.get('command', '')}` at commit {ref.get('commit', '?')} on {ref.get('created', '?')}{minutes}"
    if at_stable_budget(ref):
        at = "; ".join(f"{m} {s['built']:,} {UNITS[m]}" if s["stable"] is not None else
                       f"{m} {s['built']:,} {UNITS[m]} (no stable budget within the budgets studied: "
                       f"{'the largest studied' if s['built'] == s['largest'] else 'not the largest studied'})"
                       for m, s in standing.items())
        return (f"reference: {n} seeds at the stable budget ({at}); made by {made}. "
                "your run: the built run's own verdict (one seed, at its own budget), beside it.")
    unstable = [f"{m} (stable from {s['stable']:,} {UNITS[m]}; the reference has {s['built']:,})" if s["stable"] is not None
                else f"{m} (its study names no stable budget up to {s['largest']:,} {UNITS[m]}; the reference has "
                     f"{s['built']:,})" for m, s in standing.items() if s["built"] != s["stable"]]
    where = re.sub(r"\s*\(see [^)]*\)$", "", ref.get("budget") or f"the {ref.get('profile')} profile's settings")
    return (f"reference: {n} seeds at {where}, not at the stable budget"
            + (f" — the budget curves show that budget is not stable for {', '.join(unstable)}" if unstable else "")
            + f"; made by {made}. A verdict at an unstable budget can change with a longer run; read both.")


def reference_verdicts(profile: str = "demo") -> dict[str, Claim]:
    """Claim id (+ dataset) -> the reference row, for showing beside the one-seed verdict."""
    ref = load_reference(profile)
    if not ref:
        return {}
    known = {f.name for f in dataclasses.fields(Claim)}
    # stated once for the document (rows made before rows carried a budget have none); the pointer to
    # --show-settings is for the Home caption, not for every sentence
    spent = re.sub(r"\s*\(see [^)]*\)$", "", ref.get("budget") or "") or None
    return {row["id"]: Claim(**{"budget": spent, **{k: v for k, v in row.items() if k in known and v is not None}})
            for row in ref["claims"]}


def planned_budgets(configs: list) -> dict[str, int]:
    """Method -> the value of its budget-study setting in ``configs`` (what ``at_stable_budget`` reads)."""
    return {c.METHOD: int(getattr(c, budget_curves.BUDGETS[c.METHOD])) for c in configs if c.METHOD in budget_curves.BUDGETS}


def reference_configs(profile: str, n_seeds: int, method_names: list[str] | None = None,
                      overrides: list[str] | None = None) -> list:
    """Every method's ``profile`` settings with seeds 0..n-1 and the ``method.key=value`` overrides."""
    names = method_names or methods.available()
    seeds = tuple(range(1, n_seeds))
    per_method: dict[str, list[str]] = {name: [] for name in names}
    for item in overrides or []:
        method, _, setting = item.partition(".")
        if method not in per_method or "=" not in setting:
            raise WorkbenchError(f"Override {item!r} must look like METHOD.key=value with METHOD one of {', '.join(names)}.")
        per_method[method].append(setting)
    return [methods.make_config(name, profile, [*per_method[name], f"seeds={','.join(map(str, seeds))}"]) for name in names]


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process and its finished children: the local executor's pool
    workers are joined when a build ends, so their time is in; Ray workers' (other processes) is not."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def build_reference(profile: str, n_seeds: int, store: ArtifactStore, runner=None, progress=None,
                    method_names: list[str] | None = None, overrides: list[str] | None = None) -> dict:
    """Build every method's ``profile`` settings with seeds 0..n-1 (one runner for all their jobs) and
    return the reference document: the claims of those runs, the command, commit, date, wall time.

    ``overrides`` are ``method.key=value`` strings (``glass.steps=2400``): the budget to read the
    verdicts at, when the budget curves show the profile's own budget is not yet stable."""
    configs = reference_configs(profile, n_seeds, method_names, overrides)
    seeds = tuple(range(1, n_seeds))
    start, cpu = time.perf_counter(), _cpu_seconds()
    runs = methods.build_many(configs, store, progress, runner)
    rows = [row for run in runs for row in read_run_claims(run)]
    return {
        "profile": profile,
        "seeds": [0, *seeds],
        "budget": f"the {profile} profile's settings" + (f" with {', '.join(overrides)}" if overrides else ""),
        "budgets": planned_budgets(configs),
        "stable budgets": {m: s["budget"] for m, s in budget_curves.stable_budgets().items()},
        "command": f"workbench reference --profile {profile} --seeds {n_seeds}" + "".join(f" --set {o}" for o in overrides or []),
        "commit": versions()["commit"],
        "created": time.strftime("%Y-%m-%d"),
        "wall_seconds": round(time.perf_counter() - start, 1),
        "cpu_seconds": round(_cpu_seconds() - cpu, 1),
        "build_seconds": {run.method: run.manifest.get("build_seconds") for run in runs},
        "claims": [row.to_dict() for row in rows],
    }


# ---- the shareable report -----------------------------------------------------------------------------
def _key_figure(run):
    """The one figure that sums up a method's run (the same ``workbench.viz`` figure the notebooks show)."""
    from workbench.viz import glass as gviz
    from workbench.viz import merging as mviz
    from workbench.viz import needs as nviz

    if run.method == "needs":
        return "HR@3 of every variant, by slice", nviz.metric_bars(run.read_parquet("metrics"), "HR@3")
    if run.method == "glass":
        return "Recall@10 of every system, by slice", gviz.results_bars(run.read_parquet("results"), "Recall@10")
    if run.method == "merging":
        parents = {k: tuple(v) for k, v in run.read_json("metrics")["parent_rows"].items()}
        return ("Accuracy against mean generated tokens, every merge (stars: the parents; rings: significant "
                "Pareto improvements)", mviz.accuracy_vs_tokens(run.read_parquet("summary"), parents=parents,
                                                                 improvements=run.read_parquet("pareto")))
    return None, None


def data_card(run) -> dict[str, str]:
    """What a run was built from and how big it is, in a few lines (method-specific facts where known)."""
    m, config = run.manifest, run.config
    card = {"dataset": run.dataset, "profile": run.profile, "seeds": ", ".join(map(str, [config.get("seed", 0),
                                                                                       *config.get("seeds", ())])),
            "budget": budget(config), "built": f"{m.get('created', '?')} in {m.get('build_seconds', 0):.0f} s"}
    try:
        if run.method == "needs" and run.exists("dataset.json"):
            info = run.read_json("dataset")
            card["data"] = ", ".join(f"{k}: {v}" for k, v in info.items() if k != "variants" and not isinstance(v, (dict, list)))
            card["variants"] = ", ".join(info.get("variants", {}))
        elif run.method == "glass" and run.exists("summary.json"):
            data = run.read_json("summary").get("data", "")
            card["data"] = data if isinstance(data, str) else ", ".join(f"{k}: {v}" for k, v in data.items())
        elif run.method == "merging" and run.exists("metrics.json"):
            mt = run.read_json("metrics")
            card["data"] = (f"{mt['n_problems']} evaluation problems × {mt['samples']} samples, temperature "
                            f"{mt['temperature']}, top-p {mt['top_p']}")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):  # a card is a courtesy: never fail the report on it
        pass
    return card


def html(store: ArtifactStore | None = None, profile: str = "demo") -> str:
    """The report of ``profile`` as one self-contained HTML page (plotly inlined once; no server, no CDN)."""
    from html import escape

    store = store or ArtifactStore()
    rows = collect(store, profile)
    reference = reference_verdicts(profile)
    ref_doc = load_reference(profile) or {}
    v = versions()
    verdict_class = {True: "yes", False: "no", None: "none"}

    def table(header: list[str], body: list[list[str]]) -> str:
        head = "".join(f"<th>{escape(h)}</th>" for h in header)
        lines = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in body)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{lines}</tbody></table>"

    claim_rows = []
    for r in rows:
        ref = reference.get(r.id) if (r.dataset or "synthetic") == "synthetic" else None
        cells = [f"<b>{escape(r.id)}</b><br>{escape(r.claim)}",
                 f'<span class="v-{verdict_class[r.reproduced]}">{escape(sentence(r))}</span>']
        if reference:
            cells.append(escape(sentence(ref)) if ref else "—")
        claim_rows.append(cells)
    parts = [f"<h1>Research workbench report — profile {escape(profile)}</h1>",
             f"<p class=meta>Made {time.strftime('%Y-%m-%d %H:%M')} from the artifacts in {escape(str(store.root))}; "
             f"commit {escape(v.get('commit', '?'))}.</p>",
             "<h2>Claims</h2>",
             "<p>Each claim of the papers, measured on the built runs: what is compared, on which quantity, the two "
             "numbers, their difference with its 95% interval, the verdict, and the seeds and budget behind it.</p>",
             table(["claim", "comparison (this run)"] + ([f"reference ({len(ref_doc.get('seeds', []))} seeds)"] if reference else []),
                   claim_rows)]
    if reference:
        parts.append(f"<p class=meta>{escape(reference_headline(ref_doc))}</p>")
    first_figure = True
    for name in methods.available():
        module = methods.load(name)
        for dataset in store.datasets(name, profile) or ["synthetic"]:
            run = methods.latest(store, name, profile, dataset)
            parts.append(f"<h2>{escape(module.TITLE)} — {escape(dataset)}</h2>")
            if run is None:
                parts.append(f"<p>Not built for profile {escape(profile)} (<code>workbench build {escape(name)} "
                             f"--profile {escape(profile)}</code>).</p>")
                continue
            card = data_card(run)
            parts.append("<h3>Data card</h3>" + table(["", ""], [[escape(k), escape(str(x))] for k, x in card.items()]))
            try:
                caption, figure = _key_figure(run)
            except (OSError, ValueError, KeyError) as err:  # a damaged run: say so, keep the rest of the report
                caption, figure = None, None
                parts.append(f"<p>The key figure could not be drawn ({escape(str(err))}); "
                             "<code>workbench doctor --verify</code> checks the run.</p>")
            if figure is not None:
                parts.append(f"<h3>{escape(caption)}</h3>")
                parts.append(figure.to_html(full_html=False, include_plotlyjs=first_figure, config={"displaylogo": False}))
                first_figure = False
            settings = [[escape(k), escape(str(x))] for k, x in sorted(run.config.items())]
            parts.append(f"<details><summary>Settings ({len(settings)})</summary>{table(['setting', 'value'], settings)}"
                         f"</details><p class=meta>Run folder {escape(str(run.path))}</p>")
    parts.append("<h2>Versions</h2>" + table(["", ""], [[escape(k), escape(str(x))] for k, x in v.items()]))
    return _PAGE.format(title=escape(f"Workbench report ({profile})"), body="\n".join(parts))


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }}
table {{ border-collapse: collapse; width: 100%; margin: .5em 0 1em; font-size: 14px; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 6px 8px; text-align: left; vertical-align: top; }}
.v-yes {{ color: #2E7D32; }} .v-no {{ color: #C62828; }} .v-none {{ color: #757575; }}
.meta {{ color: #666; font-size: 13px; }} code {{ background: #f4f4f4; padding: 1px 4px; }}
</style></head>
<body>
{body}
</body></html>
"""


def write_html(out: Path, store: ArtifactStore | None = None, profile: str = "demo") -> Path:
    """Write the report to ``out`` atomically: the file appears complete or not at all."""
    out = Path(out)
    if out.is_dir():
        raise WorkbenchError(f"--out {out} is a folder; give a file name such as {out / 'report.html'}.")
    page = html(store, profile)
    try:
        atomic_write_text(out, page)
    except OSError as err:
        raise WorkbenchError(f"Cannot write the report to {out}: {err.strerror or err}; choose a writable path.") from err
    return out
