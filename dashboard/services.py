"""Writes of the dashboard app."""

from __future__ import annotations

from django.db.models import F
from django.utils import timezone

from dashboard.models import WorkerHeartbeat


def worker_heartbeat_record(*, hostname: str, pid: int) -> WorkerHeartbeat:
    """Record that the worker `hostname` is alive now."""
    now = timezone.now()
    updated = WorkerHeartbeat.objects.filter(hostname=hostname).update(
        last_beat_at=now, pid=pid, beats=F("beats") + 1
    )
    if not updated:
        WorkerHeartbeat.objects.get_or_create(
            hostname=hostname, defaults={"last_beat_at": now, "pid": pid, "beats": 1}
        )
    return WorkerHeartbeat.objects.get(hostname=hostname)
