"""The demo service configured as a local-target service, and cleanup of its processes."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from runs.models import Build, Deploy, Loop, LoopIteration, Revision, Service, Suite, TestRun

ROOT = Path(__file__).resolve().parents[2]
FAULTY = "stageloop-demo:1.4.0"
FIXED = "stageloop-demo:1.4.1"


def make_demo_service(tmp_path: Path, *, name: str = "demo-chat", **config) -> Service:
    service = Service.objects.create(
        name=name,
        target_kind=Service.TargetKind.LOCAL,
        target_config={
            "command": [sys.executable, str(ROOT / "demo" / "app.py")],
            "cwd": str(ROOT),
            "start_timeout": 30,
            "state_dir": str(tmp_path / "local-deploy"),
            **config,
        },
        health_path="/healthz",
        default_image=FIXED,
    )
    Suite.objects.create(
        service=service,
        name="e2e",
        command=[sys.executable, "-m", "pytest", "-q"],
        working_dir=str(ROOT / "demo" / "e2e"),
        timeout_seconds=120,
        test_timeout_seconds=10,
    )
    return service


def stop_revisions() -> None:
    """Stop every local revision process the test started, and any canary split proxy."""
    from runs.services.deploy_step import target_for

    for service in Service.objects.filter(target_kind=Service.TargetKind.LOCAL):
        with contextlib.suppress(Exception):
            target_for(service).stop_proxy()
    for state in Revision.objects.values_list("target_state", flat=True):
        pid = (state or {}).get("pid")
        if pid:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)


@pytest.fixture
def demo_service(db, tmp_path):
    service = make_demo_service(tmp_path)
    Build.objects.create(
        service=service, image=FAULTY, commit_sha="4e1f0c2", commit_message="Stream"
    )
    yield service
    stop_revisions()


def process_alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(FileNotFoundError):
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    return False


def waiting_loop_behind_a_deploy(*, name: str = "web") -> tuple[Loop, Deploy]:
    """A loop waiting for a new build after a failed iteration, and a button deploy of the same
    service still running: a build registered now cannot be deployed by the loop yet."""
    service = Service.objects.create(name=name, default_image=f"{name}:1.0")
    suite = Suite.objects.create(service=service, name="e2e")
    first = Build.objects.create(service=service, image=f"{name}:1.0", commit_sha="aaa111")
    loop = Loop.objects.create(service=service, suite=suite, status=Loop.Status.WAITING)
    LoopIteration.objects.create(
        loop=loop,
        number=1,
        build=first,
        deploy=Deploy.objects.create(service=service, build=first, status="succeeded"),
        run=TestRun.objects.create(
            suite=suite, service=service, status="failed", total=3, failed=1
        ),
        goal_met=False,
    )
    active = Deploy.objects.create(
        service=service,
        image=f"{name}:hotfix",
        status="running",
        trigger="button",
        started_at=timezone.now(),
    )
    return loop, active
