"""`workbench app` stops its Streamlit server when it is stopped (issue 11, item 8): SIGTERM is passed on
and waited for, and a SIGKILLed command takes the server with it (Linux: the parent-death signal)."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import psutil
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Nothing listens on the port: a new server could bind it. SO_REUSEADDR as servers (Streamlit's
    tornado included) set it, because the closed health-check connections linger in TIME_WAIT on this
    port for a minute and a plain bind would fail on them although no process holds the port."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def start_app(tmp_path):
    """``workbench app`` on a free port, once it serves; returns (process, port, its child processes)."""
    port = free_port()
    env = {**os.environ, "WORKBENCH_HOME": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "workbench.cli", "app", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("the app did not start: " + proc.stdout.read().decode()[-2000:])
        time.sleep(0.5)
    return proc, port, psutil.Process(proc.pid).children(recursive=True)


def stop_leftovers(proc, children) -> None:
    for p in [*children]:
        if p.is_running():
            p.kill()
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    proc.stdout.close()


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_stopping_the_command_stops_the_server(tmp_path, stop):
    proc, port, children = start_app(tmp_path)
    try:
        assert children, "the server runs as a child process"
        proc.send_signal(stop)
        code = proc.wait(timeout=60)
        _, alive = psutil.wait_procs(children, timeout=30)
        assert not alive, f"still running after {stop.name}: {alive}"
        assert port_is_free(port)
        if stop == signal.SIGTERM:
            assert code == 0  # a requested stop is a normal exit
    finally:
        stop_leftovers(proc, children)
