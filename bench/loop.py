"""Deploy-and-test overhead: the demo suite by hand vs. the same through Stageloop's worker.

    .venv/bin/python bench/loop.py [--repeat 3]

By hand = start the demo service (fixed build), wait for /healthz, run its e2e suite with pytest.
Stageloop = create the deploy like the button does and wait until a real Celery worker (on Redis,
CELERY_BROKER_URL, default redis://127.0.0.1:6379/9) has deployed, probed, run, imported and
analyzed it. Uses PostgreSQL (DATABASE_URL, default .../stageloop_bench_loop).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FIXED = "stageloop-demo:1.4.1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def by_hand() -> float:
    started = time.perf_counter()
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "STAGELOOP_IMAGE": FIXED, "STAGELOOP_REVISION": "hand"}
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "demo" / "app.py")],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "--junitxml=/tmp/bench-loop-junit.xml"],
            cwd=ROOT / "demo" / "e2e",
            env={**os.environ, "STAGELOOP_BASE_URL": url},
            check=True,
            stdout=subprocess.DEVNULL,
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    opts = parser.parse_args()
    os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/9")
    from bench._django import setup

    setup("stageloop_bench_loop")
    from runs.models import Build, Deploy, Service, Suite, TestRun
    from runs.services.deploys import deploy_and_test_create

    service, _ = Service.objects.update_or_create(
        name="bench-demo",
        defaults={
            "target_kind": "local",
            "target_config": {
                "command": [sys.executable, str(ROOT / "demo" / "app.py")],
                "cwd": str(ROOT),
            },
            "default_image": FIXED,
        },
    )
    Suite.objects.update_or_create(
        service=service,
        name="e2e",
        defaults={
            "command": [sys.executable, "-m", "pytest", "-q"],
            "working_dir": str(ROOT / "demo" / "e2e"),
            "test_timeout_seconds": 10,
        },
    )
    Build.objects.filter(service=service).delete()
    Deploy.objects.filter(service=service, status__in=Deploy.ACTIVE).update(status="failed")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "dashboard",
            "worker",
            "--pool=solo",
            "-l",
            "WARNING",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        start_new_session=True,
    )
    try:
        time.sleep(3)  # let the worker connect before the clock starts
        hand, loop = [], []
        for _ in range(opts.repeat):
            hand.append(by_hand())
            started = time.perf_counter()
            _deploy, run = deploy_and_test_create(service=service)
            while not TestRun.objects.filter(pk=run.pk, status__in=TestRun.FINISHED).exists():
                time.sleep(0.05)
            loop.append(time.perf_counter() - started)
            run.refresh_from_db()
            assert run.status == "passed", (run.status, run.error)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait()
        for state in service.revisions.values_list("target_state", flat=True):
            if state.get("pid"):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(state["pid"], signal.SIGKILL)
    h, s = statistics.median(hand), statistics.median(loop)
    print(
        f"demo suite by hand (start service, wait healthy, pytest): median {h:.2f} s "
        f"over {opts.repeat} ({', '.join(f'{x:.2f}' for x in hand)})"
    )
    print(
        f"deploy and test through Stageloop (worker on Redis, deploy, probe, run, import, "
        f"analyze): median {s:.2f} s ({', '.join(f'{x:.2f}' for x in loop)})"
    )
    print(f"overhead: {s - h:.2f} s (target < 2 s); ratio {s / h:.2f}x")


if __name__ == "__main__":
    main()
