"""Deleting old health data in small batches, so no delete holds a table for long."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from health.models import (
    LatencyPoint,
    ProbeResult,
    ProbeRollupDay,
    ProbeRollupHour,
    ProbeRollupMinute,
)

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
    """Delete raw results, minute, hour and day rollups (and the latency points sealed from
    them) older than their retention; return counts.

    Each batch of at most ``batch`` ids is its own short statement (autocommit), so writers of
    new results are never blocked behind one long delete.
    """
    days = retention_days()
    plan = (
        ("results", ProbeResult.objects.all(), "checked_at", days["results"]),
        ("minute_rollups", ProbeRollupMinute.objects.all(), "bucket_start", days["minute_rollups"]),
        ("hour_rollups", ProbeRollupHour.objects.all(), "bucket_start", days["hour_rollups"]),
        ("day_rollups", ProbeRollupDay.objects.all(), "bucket_start", days["day_rollups"]),
        # Sealed chart points go with the rollups they were computed from.
        (
            "hour_points",
            LatencyPoint.objects.filter(step=LatencyPoint.Step.HOUR),
            "bucket_start",
            days["hour_rollups"],
        ),
        (
            "day_points",
            LatencyPoint.objects.filter(step=LatencyPoint.Step.DAY),
            "bucket_start",
            days["day_rollups"],
        ),
    )
    deleted: dict[str, int] = {}
    for name, rows, column, kept_days in plan:
        cutoff = now - timedelta(days=kept_days)
        total = 0
        while True:
            ids = list(
                rows.filter(**{f"{column}__lt": cutoff}).values_list("pk", flat=True)[:batch]
            )
            if not ids:
                break
            count, _ = rows.model.objects.filter(pk__in=ids).delete()
            total += count
            if len(ids) < batch:
                break
        deleted[name] = total
    return deleted
