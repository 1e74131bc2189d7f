"""What the dashboard itself records: the Celery workers' heartbeats."""

from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """The last beat a worker wrote, so the overview can tell when no worker runs."""

    hostname = models.CharField(max_length=255, unique=True)
    pid = models.PositiveIntegerField(default=0)
    last_beat_at = models.DateTimeField(db_index=True)
    beats = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-last_beat_at"]

    def __str__(self) -> str:
        return self.hostname
