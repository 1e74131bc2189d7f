"""kill -9 of a real prefork worker, its main process or the pool child running the task, in the
middle of a deploy (a local revision slow to become healthy) and of a run (a suite that sleeps):
the lease runs out, the sweeper marks the row lost, stops the process group the work started,
removes the run's temp folder, the loop holding it moves on, and the service is free again
within about a minute."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction

from runs.models import Build, Deploy, Loop, Service, Suite, TestRun
from runs.services.deploys import DeployInProgress, deploy_and_test_create
from runs.services.loops import loop_start
from runs.services.sweeper import runs_sweep
from tests.loop.conftest import process_alive, stop_revisions

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
FREED_WITHIN = 75  # seconds: lease (30) + sweep period (15) + the sweep's own work, with margin

SERVER = """
import os, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
if sys.argv[1] == "slow":
    time.sleep(600)  # becomes healthy long after the worker is gone
class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *args):
        pass
ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
"""


def _database_url() -> str:
    """The test database, as the worker process must reach it."""
    db = connection.settings_dict
    if "sqlite" in db["ENGINE"]:
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextlib.contextmanager
def prefork_worker(tmp_path: Path):
    """A `celery worker --pool=prefork -c 1` process on this test's database and broker."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "STAGELOOP_VAR_DIR": str(settings.VAR_DIR),
    }
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "dashboard",
                "worker",
                "--pool=prefork",
                "--concurrency=1",
                "-l",
                "INFO",
                "-n",
                f"killed-{uuid.uuid4().hex[:8]}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield worker
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        print(log.read_text(errors="replace")[-3000:])


def _service(tmp_path: Path, *, revision: str) -> Service:
    server = tmp_path / "server.py"
    server.write_text(SERVER)
    service = Service.objects.create(
        name="killed",
        target_kind=Service.TargetKind.LOCAL,
        target_config={
            "command": [sys.executable, str(server), revision],
            "cwd": str(tmp_path),
            "start_timeout": 600,
            "state_dir": str(tmp_path / "local-deploy"),
        },
        health_path="/healthz",
        default_image="killed:1",
    )
    Suite.objects.create(
        service=service,
        name="sleeps",
        command=[
            sys.executable,
            "-c",
            "import time; print('sleeping', flush=True); time.sleep(600)",
        ],
        working_dir=str(tmp_path),
        timeout_seconds=900,
    )
    Build.objects.create(service=service, image="killed:1", commit_sha="abc1234")
    return service


class _Rollback(Exception):
    pass


def _accepts_a_new_deploy(service: Service) -> bool:
    """Whether a click on Deploy would be accepted now (rolled back, nothing is sent)."""
    try:
        with transaction.atomic():
            deploy_and_test_create(service=service, image="killed:2")
            raise _Rollback
    except _Rollback:
        return True
    except DeployInProgress:
        return False


def _free(service: Service) -> bool:
    busy = Deploy.objects.filter(service=service, status__in=Deploy.ACTIVE).exists() or (
        TestRun.objects.filter(service=service, status__in=TestRun.ACTIVE).exists()
    )
    return not busy and _accepts_a_new_deploy(service)


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("victim", ["main", "child"])
@pytest.mark.parametrize("stage", ["deploy", "run"])
def test_work_of_a_killed_worker_is_recovered_within_a_minute(tmp_path, stage, victim):
    service = _service(tmp_path, revision="slow" if stage == "deploy" else "ok")
    try:
        with prefork_worker(tmp_path) as worker:
            loop = loop_start(service=service, suite=service.suites.get())
            iteration = loop.iterations.get()
            model, pk = (
                (Deploy, iteration.deploy_id) if stage == "deploy" else (TestRun, iteration.run_id)
            )
            row = _wait(
                lambda: model.objects.filter(
                    pk=pk, status="running", child_pgid__isnull=False
                ).first(),
                90,
                f"the {stage} to start its process",
            )
            pgid = row.child_pgid
            scratch = getattr(row, "scratch_dir", "")
            assert process_alive(pgid)
            if stage == "run":
                assert scratch and Path(scratch).is_dir()
            assert not _accepts_a_new_deploy(service) or stage == "run"
            time.sleep(1)
            holder_pid = int(row.lease_holder.rsplit(":", 1)[1])
            killed = worker.pid if victim == "main" else holder_pid
            assert holder_pid != worker.pid  # the task runs in the pool child

            os.kill(killed, signal.SIGKILL)
            t0 = time.monotonic()
            next_sweep = t0
            while not _free(service):
                assert time.monotonic() - t0 < FREED_WITHIN + 30, "never freed"
                if time.monotonic() >= next_sweep:
                    runs_sweep()
                    next_sweep += settings.SWEEP_INTERVAL
                time.sleep(0.5)
            freed_after = time.monotonic() - t0
            print(
                f"\n[leases] kill -9 of the {victim} mid-{stage}: service free after "
                f"{freed_after:.1f} s"
            )

            row.refresh_from_db()
            assert row.status == "lost"
            assert row.error.startswith("Lost: the worker holding it")
            assert f"stopped process group {pgid}" in row.error
            assert not process_alive(pgid)
            if stage == "run":
                assert f"removed {scratch}" in row.error
                assert not Path(scratch).exists()
                assert Deploy.objects.get(pk=iteration.deploy_id).status == "succeeded"
            else:
                assert TestRun.objects.get(pk=iteration.run_id).status == "lost"
            loop.refresh_from_db()
            iteration.refresh_from_db()
            assert loop.status == Loop.Status.WAITING  # moved on: waits for the next build
            assert iteration.goal_met is False
            assert "lost" in iteration.note
            assert freed_after <= FREED_WITHIN
    finally:
        stop_revisions()
