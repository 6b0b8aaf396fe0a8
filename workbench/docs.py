"""Write every table of measured numbers in the README and docs/ from committed result files.

A page marks where a table goes with an HTML comment that names its source, and this module fills
the region between the marks::

    <!-- generated:table workbench/reference/needs-budget.json table="budget curve" -->
    ... (written here, never by hand) ...
    <!-- /generated -->

Kinds of region:

- ``table PATH [key=value ...]``: a result file's ``rows`` as a markdown table, with its command,
  commit and date underneath. ``key=value`` keeps only the rows whose field ``key`` equals ``value``;
  ``columns="a,b"`` picks and orders the columns; ``provenance_line=short`` names only the file;
  ``part=NAME`` reads the file's list ``NAME`` instead of ``rows``. A file that is not committed (yet) gives one line
  saying "not measured yet", so a page can reserve a place for a study before it lands.
- ``verdicts [link=PREFIX]``: the committed reference's verdict per claim, each claim linked to its
  method's section of the results page (the README's short table).
- ``claims [METHOD]``: the committed reference's full rows (value, interval, verdict, note).
- ``recipes METHOD``: the recipe files of ``recipes/*.toml`` for that method (``all``: the reference's),
  each with the comment that says what it is and the command that runs it.
- ``stable-budgets [METHOD]``: each method's committed budget study (``workbench.budget_curves``): the
  budgets studied and the stable budget its rule picks, with the reason; with METHOD, also each claim's
  estimate [interval] and verdict at every budget studied.

``python -m workbench.docs`` rewrites the regions in place; ``--check`` writes nothing and exits 1
naming each page whose committed text differs from what the result files give now (the test suite
runs it, so a number edited by hand, or a result file changed without its pages, fails a test).

Result files live in the repository (``workbench/reference/*.json``, ``docs/data/*.json``), so this is a
tool for a clone of the project, not for an installed package: it sits in the top layer beside the CLI.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
import tomllib
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
REGION = re.compile(r"(<!-- generated:(?P<spec>[^>]*?) -->\n)(?P<body>.*?)(<!-- /generated -->)", re.S)
METHOD_TITLES = {"needs": "Living needs", "glass": "GLASS", "merging": "Thinking spectrum"}
# the results page's section of each method (its heading "## Living needs (`needs`)" and so on)
ANCHORS = {"needs": "living-needs-needs", "glass": "glass-glass", "merging": "thinking-spectrum-merging"}
PROVENANCE = ("command", "commit", "created", "measured", "source")


def pages(root: Path) -> list[Path]:
    """The pages that may hold generated regions: the README and every markdown file under docs/."""
    return [root / "README.md", *sorted((root / "docs").rglob("*.md"))]


# ---- formatting -----------------------------------------------------------------------------------
def number(value, signed: bool = False) -> str:
    """A measured value as the docs print it: 3 decimals for fractions, thousands for counts."""
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if not isinstance(value, (int, float)):
        return str(value).replace("|", "\\|").replace("\n", " ")
    if isinstance(value, int) or float(value).is_integer() and abs(value) >= 10:
        return f"{int(value):,}"
    text = f"{value:+.3f}" if signed else f"{value:.3f}"
    return text.replace("-", "−")


def markdown_table(columns: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(number(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(number(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def provenance(doc: dict, path: str, short: bool = False) -> str:
    """One line under a table: where its numbers come from and how to make them again (``short``:
    only the file, which holds the rest — the README keeps commits and dates in docs/)."""
    if short:
        return f"*Source: `{path}`.*"
    parts = [f"source `{path}`"]
    if doc.get("command"):
        parts.append(f"command `{doc['command']}`")
    if doc.get("commit"):
        parts.append(f"commit {doc['commit']}")
    if doc.get("created"):
        parts.append(f"date {doc['created']}")
    if doc.get("measured"):
        parts.append(str(doc["measured"]))
    line = "*" + "; ".join(parts) + ".*"
    if doc.get("source"):
        line += f" *{doc['source']}*"
    return line


def verdict(reproduced: bool | None) -> str:
    return {True: "reproduced", False: "**not reproduced**"}.get(reproduced, "not measured")


# ---- region kinds ---------------------------------------------------------------------------------
def table(root: Path, path: str, columns: str | None = None, provenance_line: str = "full", part: str = "rows",
          **where: str) -> str:
    source = root / path
    if not source.exists():
        return f"*Not measured yet: `{path}` is not committed. This table is generated from it once it is.*"
    doc = json.loads(source.read_text())
    rows = doc[part]
    if rows and isinstance(rows[0], dict):  # a study: rows are records; `where` filters them
        rows = [r for r in rows if all(str(r.get(k)) == v for k, v in where.items())]
        names = columns.split(",") if columns else [k for k in rows[0] if k not in where] if rows else []
        body = [[r.get(c) for c in names] for r in rows]
    else:  # a transcribed table: columns + rows of cells, as measured
        names, body = doc["columns"], rows
        if columns:
            keep = [names.index(c) for c in columns.split(",")]
            names, body = [names[i] for i in keep], [[r[i] for i in keep] for r in body]
    text = markdown_table(names, body) + "\n\n" + provenance(doc, path, short=provenance_line == "short")
    if doc.get("note") and provenance_line != "short":
        text += "\n\n" + doc["note"]
    return text


def _reference(root: Path) -> tuple[dict, str]:
    """The committed demo reference the pages show: the one at the stable budgets (``demo-stable-*``)
    when committed, then the one with the most seeds (as Home and `workbench claims` choose)."""
    folder = root / "workbench" / "reference"
    found = sorted(folder.glob("demo-*seeds.json"), key=lambda p: ("-stable-" in p.name, int(p.stem.split("-")[-1][:-5])))
    if not found:
        raise ValueError(f"no committed reference in {folder} (run `workbench reference`)")
    return json.loads(found[-1].read_text()), found[-1].relative_to(root).as_posix()


def _reference_line(ref: dict, path: str, rows: list[dict], short: bool = False) -> str:
    held = sum(1 for r in rows if r.get("reproduced"))
    minutes = round(ref.get("wall_seconds", 0) / 60)
    from workbench import report

    at = f"the {ref['profile']} budget"
    if ref.get("budgets") and report.at_stable_budget(ref):
        unnamed = [METHOD_TITLES.get(m, m) for m, s in report.budget_standing(ref).items() if s["stable"] is None]
        at = "the stable budget" + (f" ({', '.join(unnamed)}: the largest budget studied, none is stable yet)" if unnamed else "")
    return (f"{held} of {len(rows)} claims reproduce over {len(ref['seeds'])} seeds "
            f"({', '.join(map(str, ref['seeds']))}) at {at} — "
            + provenance({**ref, "measured": f"{minutes} min on 2 CPU cores"}, path, short))


def verdicts(root: Path, link: str = "docs/results.md") -> str:
    ref, path = _reference(root)
    lines = ["| method | claim | verdict (3 seeds) |", "|---|---|---|"]
    for row in ref["claims"]:
        method = row["method"]
        lines.append(f"| {METHOD_TITLES.get(method, method)} | [{row['claim']}]({link}#{ANCHORS.get(method, method)}) | "
                     f"{verdict(row.get('reproduced'))} |")
    return "\n".join(lines) + "\n\n" + _reference_line(ref, path, ref["claims"], short=True)


def claims(root: Path, method: str | None = None) -> str:
    ref, path = _reference(root)
    rows = [r for r in ref["claims"] if method in (None, r["method"])]
    lines = ["| claim | measured | value [95% interval] | verdict | note |", "|---|---|---|---|---|"]
    for r in rows:
        low, high = r.get("interval") or (None, None)
        value = f"{number(r.get('value'), True)} [{number(low, True)}, {number(high, True)}]"
        lines.append(f"| `{r['id']}` {number(r['claim'])} | {number(r['metric'])} | {value} | "
                     f"{verdict(r.get('reproduced'))} | {number(r.get('note') or '')} |")
    return "\n".join(lines) + "\n\n" + _reference_line(ref, path, rows)


def recipes(root: Path, method: str) -> str:
    found = []
    for path in sorted((root / "recipes").glob("*.toml")):
        text = path.read_text()
        recipe = tomllib.loads(text)
        if recipe.get("method") != method:
            continue
        about = " ".join(line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#"))
        command = (f"workbench reference --recipe {path.stem}" if method == "all"
                   else f"workbench build {method} --recipe {path.stem}")
        if recipe.get("data_path"):
            command += " --data-path DIR"
        found.append([f"`{path.stem}`", about, f"`{command}`"])
    if not found:
        return f"*No recipe files for `{method}` yet (`recipes/*.toml`).*"
    return markdown_table(["recipe", "what it is", "command"], found)


def stable_budgets(root: Path, method: str | None = None) -> str:
    from workbench import budget_curves

    names = [method] if method else list(budget_curves.BUDGETS)
    lines = ["| method | budget varied | budgets studied | stable budget | why |", "|---|---|---|---|---|"]
    sources, curve = [], None
    for name in names:
        path = f"workbench/reference/{name}-budget.json"
        study = budget_curves.load(name, root / path)
        if study is None:
            lines.append(f"| {METHOD_TITLES.get(name, name)} | {budget_curves.UNITS[name]} (`{budget_curves.BUDGETS[name]}`) | not measured yet "
                         f"(`python benchmarks/run.py {name}_budget`) | – | – |")
            continue
        studied = ", ".join(f"{b:,}" for b in study["built"])
        if study.get("not built"):
            studied += f" ({', '.join(f'{b:,}' for b in study['not built'])} not built"
            studied += f": {number(study['cut'])})" if study.get("cut") else ")"
        stable = study["stable"]
        shown = f"**{stable['budget']:,}**" if stable["budget"] is not None else "none within the budgets studied"
        lines.append(f"| {METHOD_TITLES.get(name, name)} | {budget_curves.UNITS[name]} (`{budget_curves.BUDGETS[name]}`) | "
                     f"{studied} | {shown} | {number(stable['why'])} |")
        sources.append(provenance(study, path).strip("*").rstrip("."))
        curve = study["curve"]
    text = "\n".join(lines)
    if method and curve is not None:
        budgets = sorted(curve["budget"].unique())
        mark = {True: "reproduced", False: "not reproduced"}
        cells = lambda r: (f"{number(r['estimate'], True)} [{number(r['low'], True)}, {number(r['high'], True)}] "  # noqa: E731
                           f"{mark.get(r['reproduced'], '')}".strip())
        rows = [[f"`{claim}`", *(cells(part.set_index("budget").loc[b]) if b in set(part["budget"]) else "–" for b in budgets)]
                for claim, part in curve.groupby("claim", sort=False)]
        text += "\n\n" + markdown_table(["claim", *(f"{b:,}" for b in budgets)], rows)
    if sources:
        text += "\n\n*" + "; ".join(sources) + ".*"
    return text


def budget_verdicts(root: Path, profile: str = "demo", seeds: str = "3") -> str:
    """Claim by claim, the 3-seed reference at the profile's own budget beside the one at the stable
    budgets: the interval and verdict at each, and whether the verdict changed (what the longer
    budget settled). Says what is missing while either reference is not committed."""
    folder = root / "workbench" / "reference"
    paths = {"own": folder / f"{profile}-{seeds}seeds.json", "stable": folder / f"{profile}-stable-{seeds}seeds.json"}
    missing = [p.relative_to(root).as_posix() for p in paths.values() if not p.exists()]
    if missing:
        return f"*Not measured yet: {', '.join(f'`{m}`' for m in missing)} not committed. This table is generated from both once they are.*"
    docs = {k: json.loads(p.read_text()) for k, p in paths.items()}
    rows_by = {k: {r["id"]: r for r in d["claims"]} for k, d in docs.items()}
    # the interval, not the value: it is always of the quantity the verdict rests on, while an older
    # reference's GLASS rows carry the system's own number as their value
    def cell(r: dict) -> str:
        low, high = r.get("interval") or (None, None)
        return f"[{number(low, True)}, {number(high, True)}] {verdict(r.get('reproduced'))}"

    lines = [f"| claim | {profile} budget: 95% interval, verdict | stable budget: 95% interval, verdict | verdict changed |",
             "|---|---|---|---|"]
    changed = 0
    for cid in dict.fromkeys([*rows_by["own"], *rows_by["stable"]]):
        own, stable = rows_by["own"].get(cid), rows_by["stable"].get(cid)
        moved = own is not None and stable is not None and own.get("reproduced") != stable.get("reproduced")
        changed += moved
        lines.append(f"| `{cid}` | {cell(own) if own else '–'} | {cell(stable) if stable else '–'} | "
                     f"{'**yes**' if moved else 'no' if own and stable else '–'} |")
    budgets = "; ".join(f"{m} {b:,}" for m, b in (docs["stable"].get("budgets") or {}).items())
    text = "\n".join(lines) + f"\n\n{changed} of {len(rows_by['stable'])} verdicts change at the stable budgets ({budgets})."
    return text + "\n\n*" + "; ".join(provenance(d, paths[k].relative_to(root).as_posix()).strip("*").rstrip(".")
                                       for k, d in docs.items()) + ".*"


KINDS = {"table": table, "verdicts": verdicts, "claims": claims, "recipes": recipes, "stable-budgets": stable_budgets,
         "budget-verdicts": budget_verdicts}


def render_region(spec: str, root: Path) -> str:
    """The text of one region from its spec (``kind arg key=value ...``)."""
    words = shlex.split(spec)
    kind, args = words[0], words[1:]
    if kind not in KINDS:
        raise ValueError(f"unknown generated region {kind!r}: use one of {', '.join(KINDS)}")
    positional = [a for a in args if "=" not in a]
    named = dict(a.split("=", 1) for a in args if "=" in a)
    return KINDS[kind](root, *positional, **named)


def render(text: str, root: Path) -> str:
    """``text`` with every generated region written afresh."""
    return REGION.sub(lambda m: m.group(1) + render_region(m.group("spec"), root) + "\n" + m.group(4), text)


def stale(root: Path = ROOT) -> list[Path]:
    """The pages whose committed text differs from what the result files give now."""
    return [p for p in pages(root) if p.exists() and render(p.read_text(), root) != p.read_text()]


def write(root: Path = ROOT) -> list[Path]:
    """Rewrite every page's regions in place; return the pages that changed."""
    changed = stale(root)
    for page in changed:
        page.write_text(render(page.read_text(), root))
    return changed


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    check = "--check" in argv
    root = Path(argv[argv.index("--root") + 1]) if "--root" in argv else ROOT
    if not (root / "README.md").exists() or not (root / "docs").is_dir():
        print(f"{root} is not a clone of the project (no README.md and docs/): pass --root DIR", file=sys.stderr)
        return 2
    try:
        found = stale(root) if check else write(root)
    except (ValueError, KeyError, OSError) as e:
        print(f"cannot generate the docs: {e}", file=sys.stderr)
        return 2
    for page in found:
        print(("differs from its result files: " if check else "wrote ") + str(page.relative_to(root)))
    if check and found:
        print("run `python -m workbench.docs` to regenerate them", file=sys.stderr)
    return 1 if check and found else 0


if __name__ == "__main__":
    raise SystemExit(main())
