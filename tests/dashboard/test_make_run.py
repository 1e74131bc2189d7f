"""`make run` on a fresh copy sets itself up, serves the page, the worker beats, Ctrl-C stops."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _fresh_copy(target: Path) -> None:
    """Copy what a clone would hold: tracked and new files, nothing ignored (no .venv, no var)."""
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, files):
        source = ROOT / name.decode()
        if source.is_file():
            (target / name.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name.decode())


def test_make_run_serves_the_dashboard_with_a_live_worker_and_stops_on_ctrl_c(tmp_path):
    copy = tmp_path / "stageloop"
    _fresh_copy(copy)
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "STAGELOOP_VAR_DIR", "VIRTUAL_ENV"}
        and not k.startswith(("PYTEST", "DJANGO"))
    }
    env.update(STAGELOOP_PORT=str(port), STAGELOOP_HEARTBEAT_INTERVAL="2")
    started = time.monotonic()
    proc = subprocess.Popen(
        ["make", "run"],
        cwd=copy,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        served_after = None
        deadline = time.monotonic() + 400
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/login/", timeout=2).status_code == 200:
                    served_after = time.monotonic() - started
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        assert served_after is not None, "the login page never answered"

        def heartbeats() -> int:
            with sqlite3.connect(copy / "var" / "stageloop.sqlite3") as db:
                return db.execute("SELECT count(*) FROM dashboard_workerheartbeat").fetchone()[0]

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not heartbeats():
            time.sleep(1)
        assert heartbeats() == 1, "no worker heartbeat was recorded"
        print(f"make run: fresh copy to served login page in {served_after:.1f} s")
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            output = proc.communicate(timeout=30)[0].decode(errors="replace")
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            output = proc.communicate()[0].decode(errors="replace")
            pytest.fail(f"make run did not stop on Ctrl-C:\n{output[-3000:]}")
    assert "Log in at http://127.0.0.1:8000/ as admin / stageloop-demo" in output
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)  # nothing of web, worker or beat is left running
