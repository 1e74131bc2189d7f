"""The overview tells online, stale and never-seen workers apart."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard.models import WorkerHeartbeat
from dashboard.selectors import worker_status
from dashboard.services import worker_heartbeat_record

pytestmark = pytest.mark.django_db


def test_a_fresh_heartbeat_is_online():
    worker_heartbeat_record(hostname="worker@a", pid=1)

    status = worker_status()

    assert status.online
    assert status.label.startswith("Worker online, last seen 0 s ago (worker@a)")


def test_a_stale_heartbeat_is_offline_and_says_what_may_be_missing(settings):
    WorkerHeartbeat.objects.create(
        hostname="worker@a",
        last_beat_at=timezone.now() - timedelta(seconds=settings.WORKER_OFFLINE_AFTER + 5),
    )

    status = worker_status()

    assert not status.online
    assert "is a worker running, and beat?" in status.label


def test_no_heartbeat_ever_says_so():
    assert worker_status().label.startswith("No worker has ever run")


def test_each_beat_counts_on_one_row_per_worker():
    worker_heartbeat_record(hostname="worker@a", pid=1)
    worker_heartbeat_record(hostname="worker@a", pid=1)

    assert WorkerHeartbeat.objects.get().beats == 2
