"""A real Celery worker (on Redis in CI, on the filesystem broker embedded) runs the nightly
retention task that beat sends by name."""

from __future__ import annotations

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from dashboard.celery import app
from runs.models import RetentionPass, RetentionPolicy
from tests.retention.conftest import alive, make_run

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_worker_runs_the_task_beat_sends_and_deletes_the_expired_runs(suite):
    old, new = make_run(suite, days_ago=100, attachment=True), make_run(suite, days_ago=1)
    RetentionPolicy.objects.create(suite=suite, keep_days=30)

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        app.send_task(settings.CELERY_BEAT_SCHEDULE["retention-pass"]["task"])
        deadline = time.monotonic() + 60
        while (
            time.monotonic() < deadline
            and not RetentionPass.objects.filter(status="succeeded").exists()
        ):
            time.sleep(0.3)

    record = RetentionPass.objects.get()
    assert (record.status, record.runs_deleted, record.attachments_deleted) == ("succeeded", 1, 1)
    assert alive(old, new) == [False, True]
