"""Our merges of two pico Llama checkpoints against mergekit 0.1.5 on the very same checkpoints.

mergekit's ``run_merge`` is the function ``mergekit-yaml`` calls; every method goes through it in
this process (importing mergekit once), and one real ``mergekit-yaml`` subprocess proves the CLI path.
DARE draws random masks (mergekit from the global torch RNG in its own tensor order), so it is compared
exactly at density 1 and in distribution at density 0.5 — where mergekit also rescales each tensor to
its original L1 norm while we (like peft and the DARE paper) divide by the density.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

from workbench.merging.checkpoints import merge_checkpoints
from workbench.merging.pico import make_family

pytestmark = pytest.mark.slow
mergekit = pytest.importorskip("mergekit")

S = 0.3  # weight of a


@pytest.fixture(scope="module")
def family(tmp_path_factory):
    return make_family(tmp_path_factory.mktemp("pico"), hidden=32, layers=2, vocab=64, noise=0.1, seed=3)


def mergekit_config(method: str, family, params: dict, extra: dict | None = None) -> dict:
    a_params = {"weight": S, **params}
    b_params = {"weight": 1 - S, **params}
    if method == "slerp":
        return {"merge_method": "slerp", "base_model": str(family["b"]),
                "models": [{"model": str(family["b"])}, {"model": str(family["a"])}],
                "parameters": {"t": S}, "dtype": "float32"}
    config = {"merge_method": method, "models": [{"model": str(family["a"]), "parameters": a_params},
                                                 {"model": str(family["b"]), "parameters": b_params}],
              "dtype": "float32", **(extra or {})}
    if method != "linear":
        config["base_model"] = str(family["base"])
    return config


def run_mergekit(config: dict, out: Path, seed: int = 0) -> dict[str, torch.Tensor]:
    from mergekit.config import MergeConfiguration
    from mergekit.merge import run_merge
    from mergekit.options import MergeOptions

    run_merge(MergeConfiguration.model_validate(config), str(out), MergeOptions(random_seed=seed, quiet=True))
    return load_file(out / "model.safetensors")


def ours(family, out: Path, method: str, density: float = 1.0, seed: int = 0) -> dict[str, torch.Tensor]:
    merge_checkpoints(family["a"], family["b"], out, family["base"], method=method, strength=S, density=density, seed=seed)
    return load_file(out / "model.safetensors")


def assert_same(x: dict, y: dict, atol: float = 1e-6) -> None:
    assert set(x) == set(y)
    worst = max(float((x[k] - y[k]).abs().max()) for k in x)
    assert worst <= atol, worst


@pytest.mark.parametrize("method, ours_method, params, extra", [
    ("linear", "linear", {}, None),
    ("slerp", "slerp", {}, None),
    ("task_arithmetic", "task_arithmetic", {}, None),
    ("ties", "ties", {"density": 0.5}, None),
    ("dare_linear", "dare_linear", {"density": 1.0}, None),
    ("dare_ties", "dare_ties", {"density": 1.0}, {"parameters": {"normalize": True}}),
    # mergekit has no plain magnitude-prune + task arithmetic; breadcrumbs with no outlier removal is that
    ("breadcrumbs", "magnitude_prune", {"density": 0.5, "gamma": 0.0}, None),
])
def test_our_merge_matches_mergekit(family, tmp_path, method, ours_method, params, extra):
    theirs = run_mergekit(mergekit_config(method, family, params, extra), tmp_path / "mergekit")
    density = params.get("density", 1.0)
    assert_same(ours(family, tmp_path / "ours", ours_method, density), theirs, atol=2e-6)


def test_slerp_is_not_linear_here(family, tmp_path):
    """The SLERP check above is not vacuous: these parents are far enough apart for SLERP to differ."""
    lin = ours(family, tmp_path / "lin", "linear")
    sl = ours(family, tmp_path / "sl", "slerp")
    assert max(float((lin[k] - sl[k]).abs().max()) for k in lin) > 1e-5


def test_dare_matches_mergekit_in_distribution(family, tmp_path):
    density = 0.5
    base = load_file(Path(family["base"]) / "model.safetensors")
    theirs = run_mergekit(mergekit_config("dare_linear", family, {"density": density}), tmp_path / "mergekit", seed=1)
    mine = ours(family, tmp_path / "ours", "dare_linear", density, seed=1)
    big = [k for k in base if base[k].numel() >= 1024]
    for k in big:
        d_theirs, d_mine = theirs[k] - base[k], mine[k] - base[k]
        kept_theirs, kept_mine = float((d_theirs != 0).float().mean()), float((d_mine != 0).float().mean())
        assert abs(kept_theirs - 0.75) < 0.05 and abs(kept_mine - 0.75) < 0.05  # 1 - (1 - 0.5)^2
        l1_theirs, l1_mine = float(d_theirs.abs().mean()), float(d_mine.abs().mean())
        assert abs(l1_mine / l1_theirs - 1) < 0.1, k
        assert not torch.equal(d_theirs, d_mine)  # different random masks, as documented


def test_mergekit_yaml_cli_gives_the_same_linear_merge(family, tmp_path):
    exe = Path(sys.executable).with_name("mergekit-yaml")
    if not exe.exists():
        exe = shutil.which("mergekit-yaml")
    if not exe:
        pytest.skip("mergekit-yaml is not on PATH")
    config = tmp_path / "merge.yml"
    config.write_text(yaml.safe_dump(mergekit_config("linear", family, {})))
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    r = subprocess.run([str(exe), str(config), str(tmp_path / "cli"), "--quiet"], capture_output=True, text=True,
                       env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert_same(ours(family, tmp_path / "ours", "linear"), load_file(tmp_path / "cli" / "model.safetensors"))
