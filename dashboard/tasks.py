"""Periodic tasks of the dashboard app."""

from __future__ import annotations

import os

from celery import shared_task

from dashboard.services import worker_heartbeat_record


@shared_task(bind=True, acks_late=True, time_limit=30, soft_time_limit=20, ignore_result=True)
def worker_heartbeat(self) -> None:
    """Write this worker's beat, so the overview shows whether a worker runs."""
    worker_heartbeat_record(hostname=self.request.hostname or "unknown", pid=os.getpid())
