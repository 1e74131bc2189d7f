"""A real Celery worker picks up a task enqueued on commit and writes its row."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import transaction

from dashboard.celery import app
from dashboard.models import WorkerHeartbeat
from dashboard.tasks import worker_heartbeat

ROOT = Path(__file__).resolve().parents[2]
REQUIRE = os.environ.get("STAGELOOP_REQUIRE_SERVICES") == "1"


def _wait_for(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.skipif(
    not settings.CELERY_BROKER_URL.startswith("redis") and not REQUIRE,
    reason="CELERY_BROKER_URL is not Redis here; .ci/run sets it and this test then runs",
)
@pytest.mark.django_db(transaction=True)
def test_a_worker_on_redis_runs_a_task_enqueued_on_commit():
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        with transaction.atomic():
            worker_heartbeat.delay_on_commit()
            # Nothing is sent before the transaction commits.
            time.sleep(0.5)
            assert not WorkerHeartbeat.objects.exists()

        assert _wait_for(WorkerHeartbeat.objects.exists)
    assert WorkerHeartbeat.objects.get().beats == 1


@pytest.mark.slow
@pytest.mark.mode_free  # the embedded mode, set by the test whatever the pass's mode
def test_a_worker_on_the_embedded_filesystem_broker_runs_a_task(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    env.update(
        DEBUG="1", STAGELOOP_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="dashboard.settings"
    )
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "dashboard", "worker", "--pool=solo", "-l", "INFO"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        enqueue = (
            "from django.db import transaction\n"
            "from dashboard.tasks import worker_heartbeat\n"
            "with transaction.atomic():\n"
            "    worker_heartbeat.delay_on_commit()\n"
        )
        subprocess.run([*manage, "shell", "-c", enqueue], cwd=ROOT, env=env, check=True, timeout=60)

        def beat_written() -> bool:
            with sqlite3.connect(tmp_path / "stageloop.sqlite3") as db:
                return bool(
                    db.execute("SELECT count(*) FROM dashboard_workerheartbeat").fetchone()[0]
                )

        assert _wait_for(beat_written, timeout=30), "the worker never wrote its heartbeat"
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        output = worker.communicate(timeout=30)[0].decode()
    assert "dashboard.tasks.worker_heartbeat" in output
    assert "succeeded" in output
