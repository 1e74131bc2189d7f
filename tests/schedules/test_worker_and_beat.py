"""A real `celery beat` process and a real Celery worker (Redis or the filesystem broker, as the
mode says) run a suite on its schedule: two scheduled runs of a real suite, never at the same
time, and the occurrence due while the first still ran skipped and recorded.

Only the schedule's clock is moved: instead of waiting a minute for the next occurrence, the test
sets the suite's next due time to now, as a minute passing would; everything else (beat sending
the tick by name, the tick's claim, the outbox, the worker running the suite) is real.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.utils import timezone

from dashboard.celery import app
from runs.models import ScheduleSkip, Suite, TestRun
from runs.services.schedules import suite_schedule_set
from tests.schedules.conftest import monitored_suite

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def wait_for(predicate, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.2)
    pytest.fail(f"waited {timeout:.0f} s for {what}")


@contextlib.contextmanager
def beat(tmp_path: Path) -> Iterator[subprocess.Popen]:
    """`celery -A dashboard beat` on this test's broker, looking for due suites every second."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "STAGELOOP_VAR_DIR": str(settings.VAR_DIR),
        "STAGELOOP_SCHEDULE_TICK": "1",
    }
    log = tmp_path / "beat.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "dashboard",
                "beat",
                "-l",
                "INFO",
                "-s",
                str(tmp_path / "celerybeat-schedule"),
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        print(log.read_text(errors="replace")[-3000:])


def next_occurrence_now(suite: Suite) -> None:
    """A minute passes, as far as the schedule knows."""
    Suite.objects.filter(pk=suite.pk).update(schedule_next_at=timezone.now())


def test_beat_and_a_worker_run_the_schedule_without_overlap_and_record_the_skip(tmp_path):
    monitor = monitored_suite(tmp_path)
    suite = monitor.suite
    monitor.hold()  # the first run overruns the next occurrence: it goes on until released
    suite_schedule_set(suite_id=suite.pk, every_minutes="1", enabled=True)

    # Two pool threads: the tick runs while the first run's suite still runs.
    with (
        start_worker(app, pool="threads", concurrency=2, perform_ping_check=False),
        beat(tmp_path),
    ):
        first = wait_for(
            lambda: TestRun.objects.filter(suite=suite, status="running").first(),
            "the first scheduled run to start",
        )
        next_occurrence_now(suite)
        skip = wait_for(lambda: ScheduleSkip.objects.first(), "the overlapping occurrence's skip")
        monitor.release()
        wait_for(
            lambda: TestRun.objects.filter(pk=first.pk, status="passed").exists(),
            "the first run to pass",
        )
        next_occurrence_now(suite)
        second = wait_for(
            lambda: (
                TestRun.objects.filter(suite=suite, status="passed").exclude(pk=first.pk).first()
            ),
            "the second scheduled run to pass",
        )

    runs = list(TestRun.objects.filter(suite=suite).order_by("pk"))
    assert [(r.pk, r.trigger, r.status) for r in runs] == [
        (first.pk, "scheduled", "passed"),
        (second.pk, "scheduled", "passed"),
    ]
    assert (skip.reason, skip.active_run_id) == ("overlap", first.pk)
    assert f"run #{first.pk} (scheduled," in skip.detail
    # The suite itself ran twice, one run after the other, against the current revision.
    (a_start, a_end, a_rev), (b_start, b_end, b_rev) = monitor.spans()
    assert a_start < a_end
    assert a_end <= b_start < b_end
    assert a_rev == b_rev == suite.service.current_revision.name
    assert runs[0].finished_at <= runs[1].started_at
