"""Reads for a suite's schedule: its recent skipped occurrences."""

from __future__ import annotations

from runs.models import ScheduleSkip, Suite

SKIPS_SHOWN = 10


def schedule_skips(*, suite: Suite, limit: int = SKIPS_SHOWN) -> list[ScheduleSkip]:
    """The suite's latest skipped occurrences, newest first, with the run that was going."""
    return list(
        ScheduleSkip.objects.filter(suite=suite)
        .select_related("active_run")
        .order_by("-recorded_at", "-pk")[:limit]
    )
