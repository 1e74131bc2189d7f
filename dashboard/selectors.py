"""Reads of the dashboard app."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from dashboard.models import WorkerHeartbeat


@dataclass(frozen=True)
class WorkerStatus:
    online: bool
    last_seen: datetime | None
    seconds_ago: int | None
    hostname: str

    @property
    def label(self) -> str:
        if self.last_seen is None:
            return "No worker has ever run: deploys and tests will wait in the queue."
        if self.online:
            return f"Worker online, last seen {self.seconds_ago} s ago ({self.hostname})"
        # The heartbeat is a beat-scheduled task run by a worker: either may be the one missing.
        return (
            f"No heartbeat for {self.seconds_ago} s (last from {self.hostname}): is a worker "
            "running, and beat?"
        )


def worker_status() -> WorkerStatus:
    """Whether any Celery worker beat within WORKER_OFFLINE_AFTER seconds."""
    beat = WorkerHeartbeat.objects.order_by("-last_beat_at").first()
    if beat is None:
        return WorkerStatus(online=False, last_seen=None, seconds_ago=None, hostname="")
    age = int((timezone.now() - beat.last_beat_at).total_seconds())
    return WorkerStatus(
        online=age <= settings.WORKER_OFFLINE_AFTER,
        last_seen=beat.last_beat_at,
        seconds_ago=max(age, 0),
        hostname=beat.hostname,
    )
