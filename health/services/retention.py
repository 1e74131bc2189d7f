"""Deleting old health data in small batches, so no delete holds a table for long."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from health.models import ProbeResult, ProbeRollupDay, ProbeRollupHour, ProbeRollupMinute

BATCH = 5_000


def retention_days() -> dict[str, int]:
    """Days each kind of row is kept (settings, with the documented defaults)."""
    return {
        "results": int(getattr(settings, "HEALTH_RESULTS_RETENTION_DAYS", 14)),
        "minute_rollups": int(getattr(settings, "HEALTH_MINUTE_ROLLUPS_RETENTION_DAYS", 30)),
        "hour_rollups": int(getattr(settings, "HEALTH_HOUR_ROLLUPS_RETENTION_DAYS", 400)),
        "day_rollups": int(getattr(settings, "HEALTH_DAY_ROLLUPS_RETENTION_DAYS", 400)),
    }


def retention_prune(*, now: datetime, batch: int = BATCH) -> dict[str, int]:
    """Delete raw results, minute, hour and day rollups older than their retention; return counts.

    Each batch of at most ``batch`` ids is its own short statement (autocommit), so writers of
    new results are never blocked behind one long delete.
    """
    days = retention_days()
    plan = (
        ("results", ProbeResult, "checked_at"),
        ("minute_rollups", ProbeRollupMinute, "bucket_start"),
        ("hour_rollups", ProbeRollupHour, "bucket_start"),
        ("day_rollups", ProbeRollupDay, "bucket_start"),
    )
    deleted: dict[str, int] = {}
    for name, model, column in plan:
        cutoff = now - timedelta(days=days[name])
        total = 0
        while True:
            ids = list(
                model.objects.filter(**{f"{column}__lt": cutoff}).values_list("pk", flat=True)[
                    :batch
                ]
            )
            if not ids:
                break
            count, _ = model.objects.filter(pk__in=ids).delete()
            total += count
            if len(ids) < batch:
                break
        deleted[name] = total
    return deleted
