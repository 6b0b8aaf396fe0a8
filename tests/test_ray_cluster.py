"""The cluster path (issue 26, item 4): a two-node Ray cluster started with ``ray start`` on this machine
— a head and a worker, each with its own temp folder and one CPU, on 127.0.0.1 only — runs ``workbench
build toy --executor ray --address …`` with one shared store; the jobs run on both nodes and the run's
files equal a local build's byte for byte. Both nodes are stopped in the fixture's finalizer, by their
own process groups (never ``ray stop``, which would stop every Ray on the machine).

docs/clusters.md says how to do the same on a real cluster.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import toy_pipeline
from workbench.store import ArtifactStore

pytest.importorskip("ray")
# seeds that each hold their node's one CPU for a moment, so both nodes get work
TOY = ["toy", "--profile", "smoke", "--set", "seeds=1,2,3", "--set", "pause=1.0"]


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def start_node(args: list[str], temp_dir: str, log: Path, env: dict) -> subprocess.Popen:
    """``ray start --block`` in its own process group, waiting until the node has joined the cluster
    (``ray start`` prints ``--block`` once its raylet is registered)."""
    # the agents' ports given up front: on a loaded machine the raylet otherwise times out waiting for
    # the agents to report the ports they picked
    grpc, listen, runtime_env, metrics = free_ports(4)
    command = [str(Path(sys.executable).parent / "ray"), "start", "--block", *args, "--node-ip-address", "127.0.0.1",
               "--num-cpus", "1", "--temp-dir", temp_dir, "--disable-usage-stats",
               "--dashboard-agent-grpc-port", str(grpc), "--dashboard-agent-listen-port", str(listen),
               "--runtime-env-agent-port", str(runtime_env), "--metrics-export-port", str(metrics)]
    out = open(log, "w")
    proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    out.close()
    deadline = time.monotonic() + 240
    while "--block" not in log.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_node(proc)
            pytest.fail(f"ray start {' '.join(args)} did not come up:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)
    return proc


def stop_node(proc: subprocess.Popen) -> None:
    """SIGTERM to the node's process group (ray start and the processes it started), SIGKILL to what
    is left after a grace period."""
    for sig, grace in ((signal.SIGTERM, 60), (signal.SIGKILL, 30)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # members that outlived the leader
    except ProcessLookupError:
        pass
    proc.wait()


@pytest.fixture
def two_nodes(tmp_path):
    """(address, environment) of a running two-node cluster; both nodes stop at the end, always."""
    token = secrets.token_hex(32)  # Ray 2.60 authenticates nodes and drivers with a shared token
    env = {**os.environ, **toy_pipeline.cli_env(tmp_path / "shim"), "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token,
           "RAY_USAGE_STATS_ENABLED": "0"}
    temp_dirs = [tempfile.mkdtemp(prefix="wb-ray-") for _ in range(2)]  # short: Ray's socket paths have a limit
    nodes: list[subprocess.Popen] = []
    try:
        (port,) = free_ports(1)
        nodes.append(start_node(["--head", "--port", str(port), "--include-dashboard", "false"], temp_dirs[0],
                                tmp_path / "head.log", env))
        nodes.append(start_node(["--address", f"127.0.0.1:{port}"], temp_dirs[1], tmp_path / "worker.log", env))
        yield f"127.0.0.1:{port}", env
    finally:
        for proc in reversed(nodes):
            stop_node(proc)
        for folder in temp_dirs:
            shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
def test_a_build_on_two_ray_nodes_equals_a_local_build(tmp_path, two_nodes):
    address, env = two_nodes

    def build(home: Path, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "workbench.cli", "build", *TOY, *args], capture_output=True,
                              text=True, env={**env, "WORKBENCH_HOME": str(home)}, timeout=600)

    r = build(tmp_path / "shared", "--executor", "ray", "--address", address)
    assert r.returncode == 0 and "toy: built" in r.stdout, r.stderr[-3000:]
    (on_ray,) = ArtifactStore(tmp_path / "shared").runs()
    jobs = on_ray.read_json("jobs")
    assert len(jobs) == 4 and len({t["node"] for t in jobs.values()}) == 2, jobs  # both nodes ran jobs
    assert on_ray.manifest["runner"]["executor"] == "ray"

    r = build(tmp_path / "local", "--workers", "1")
    assert r.returncode == 0, r.stderr[-3000:]
    (local,) = ArtifactStore(tmp_path / "local").runs()
    assert "node" not in next(iter(local.read_json("jobs").values()))
    files = toy_pipeline.run_files(on_ray)
    assert files == toy_pipeline.run_files(local) and {"cases.parquet", "claims.json"} <= set(files)
