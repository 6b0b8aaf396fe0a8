"""The README and the docs site: the site builds strictly, every generated table matches the committed
result file it comes from, and the drift check catches a number edited by hand."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from markdown.extensions.toc import slugify

from workbench import docs

ROOT = Path(__file__).resolve().parent.parent


def copy_project(tmp_path: Path) -> Path:
    """The parts of the project the generator reads and writes, copied so a test may edit them."""
    root = tmp_path / "clone"
    shutil.copytree(ROOT / "docs", root / "docs", symlinks=True)
    shutil.copytree(ROOT / "workbench" / "reference", root / "workbench" / "reference")
    shutil.copytree(ROOT / "recipes", root / "recipes")  # the pages' recipe tables are generated from them
    shutil.copy(ROOT / "README.md", root / "README.md")
    return root


def test_readme_fits_on_a_few_screens():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 250


def test_every_page_matches_its_result_files():
    assert docs.stale(ROOT) == [], "run `python -m workbench.docs` and commit the pages it rewrites"


def test_a_number_edited_by_hand_is_caught(tmp_path, capsys):
    root = copy_project(tmp_path)
    page = root / "docs" / "methods" / "needs.md"
    text = page.read_text()
    region = re.search(r"<!-- generated:table workbench/reference/needs-budget\.json.*?<!-- /generated -->", text, re.S)
    assert region and "| 0.686 |" in region.group(0)  # clustered SFT's need accuracy at 1,000 steps
    edited = text[: region.start()] + region.group(0).replace("| 0.686 |", "| 0.706 |", 1) + text[region.end():]
    page.write_text(edited)

    assert docs.stale(root) == [page]
    assert docs.main(["--check", "--root", str(root)]) == 1
    assert "docs/methods/needs.md" in capsys.readouterr().out
    docs.write(root)  # regenerating restores the measured number
    assert "| 0.686 |" in page.read_text() and docs.stale(root) == []


def test_a_changed_result_file_makes_its_pages_stale(tmp_path):
    root = copy_project(tmp_path)
    data = root / "docs" / "data" / "peers-merges.json"
    data.write_text(data.read_text().replace('"0.26"', '"0.27"', 1))
    assert docs.stale(root) == [root / "docs" / "benchmarks.md"]


def test_a_study_not_committed_yet_says_so(tmp_path):
    text = docs.render_region("table workbench/reference/not-there.json", tmp_path)
    assert text.startswith("*Not measured yet")


def test_an_unknown_region_kind_is_one_clear_error(tmp_path):
    root = copy_project(tmp_path)
    (root / "docs" / "bad.md").write_text("<!-- generated:chart x -->\n<!-- /generated -->\n")
    assert docs.main(["--check", "--root", str(root)]) == 2


def test_not_a_clone_exits_2(tmp_path, capsys):
    assert docs.main(["--root", str(tmp_path)]) == 2
    assert "not a clone" in capsys.readouterr().err


def _anchors(page: Path) -> set[str]:
    heads = [re.sub(r"`", "", line.lstrip("#").strip()) for line in page.read_text().splitlines()
             if re.match(r"#{1,6} ", line)]
    return {slugify(h, "-") for h in heads}


def test_readme_links_point_at_files_and_headings_that_exist():
    text = (ROOT / "README.md").read_text()
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+://", target):
            continue
        path, _, anchor = target.partition("#")
        file = ROOT / path if path else ROOT / "README.md"
        assert file.exists(), f"README links to {path}, which does not exist"
        if anchor and file.suffix == ".md":
            assert anchor in _anchors(file), f"README links to #{anchor}, not a heading of {path}"


@pytest.mark.slow
def test_the_site_builds_strictly(tmp_path):
    """`mkdocs build --strict`: a broken link or anchor, a page missing from the nav, a notebook or an
    API docstring that does not render fails it."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for page in ("index.html", "methods/needs/index.html", "notebooks/02_glass/index.html", "api/index.html"):
        assert (tmp_path / "site" / page).exists(), page


def test_recipe_files_are_listed_with_their_command(tmp_path):
    (tmp_path / "recipes").mkdir()
    (tmp_path / "recipes" / "tiny.toml").write_text('# A tiny run.\n# Two lines of why.\nmethod = "glass"\n'
                                                   'data_path = "x"\n[settings]\nsteps = 5\n')
    (tmp_path / "recipes" / "other.toml").write_text('method = "needs"\n')
    text = docs.render_region("recipes glass", tmp_path)
    assert "| `tiny` | A tiny run. Two lines of why. | `workbench build glass --recipe tiny --data-path DIR` |" in text
    assert "other" not in text
    assert docs.render_region("recipes merging", tmp_path).startswith("*No recipe files")


def test_the_stable_budgets_come_from_the_committed_studies(tmp_path):
    """Each method's stable budget on the pages is the one rule's answer on its committed study (issue 26):
    a study that lands or changes makes the pages stale; a missing study says "not measured yet"."""
    from workbench import budget_curves

    root = copy_project(tmp_path)
    assert docs.stale(root) == []
    text = docs.render_region("stable-budgets", root)
    for method in budget_curves.BUDGETS:
        study = budget_curves.load(method, root / "workbench" / "reference" / f"{method}-budget.json")
        if study is None:
            assert f"`{budget_curves.BUDGETS[method]}`) | not measured yet" in text
        elif study["stable"]["budget"] is not None:
            assert f"| **{study['stable']['budget']:,}** |" in text
    (root / "workbench" / "reference" / "glass-budget.json").unlink()
    assert root / "docs" / "results.md" in docs.stale(root) and root / "docs" / "methods" / "glass.md" in docs.stale(root)
    assert "training steps (`steps`) | not measured yet (`python benchmarks/run.py glass_budget`)" in \
        docs.render_region("stable-budgets glass", root)


def test_the_budget_verdicts_table_sets_the_two_references_side_by_side(tmp_path):
    """Claim by claim, the demo-budget reference beside the stable-budget one; a verdict that differs is
    marked and counted; while the stable one is not committed the region says so."""
    import json

    folder = tmp_path / "workbench" / "reference"
    folder.mkdir(parents=True)
    own = {"profile": "demo", "seeds": [0, 1, 2], "command": "workbench reference", "commit": "a", "created": "d",
           "claims": [{"id": "m.one", "value": 0.1, "interval": [0.0, 0.2], "reproduced": True},
                      {"id": "m.two", "value": -0.1, "interval": [-0.2, 0.0], "reproduced": False}]}
    (folder / "demo-3seeds.json").write_text(json.dumps(own))
    assert "demo-stable-3seeds.json` not committed" in docs.render_region("budget-verdicts", tmp_path)
    stable = {**own, "budgets": {"m": 3000}, "claims": [own["claims"][0], {**own["claims"][1], "value": 0.3,
                                                                          "interval": [0.2, 0.4], "reproduced": True}]}
    (folder / "demo-stable-3seeds.json").write_text(json.dumps(stable))
    text = docs.render_region("budget-verdicts", tmp_path)
    lines = {line.split(" | ")[0].strip("| `"): line for line in text.splitlines() if line.startswith("| `")}
    assert lines["m.one"].endswith("| no |") and lines["m.two"].endswith("| **yes** |")
    assert "| [+0.200, +0.400] reproduced |" in lines["m.two"] and "[−0.200, +0.000] **not reproduced**" in lines["m.two"]
    assert "1 of 2 verdicts change at the stable budgets (m 3,000)." in text
