"""Reads for a suite's schedule: its state, and its recent skipped occurrences."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from runs.models import ScheduleSkip, Suite

SKIPS_SHOWN = 10


@dataclass(frozen=True)
class ScheduleState:
    """What the suite page and the API say of a suite's schedule."""

    # on: runs start every `every_minutes`; paused: the interval is kept, no run starts;
    # off: never scheduled.
    state: str
    every_minutes: int | None
    next_run_at: datetime | None
    skips: list[ScheduleSkip]


def schedule_skips(*, suite: Suite, limit: int = SKIPS_SHOWN) -> list[ScheduleSkip]:
    """The suite's latest skipped occurrences, newest first, with the run that was going."""
    return list(
        ScheduleSkip.objects.filter(suite=suite)
        .select_related("active_run")
        .order_by("-recorded_at", "-pk")[:limit]
    )


def schedule_state(*, suite: Suite, limit: int = SKIPS_SHOWN) -> ScheduleState:
    """The suite's schedule as it stands (read from ``suite``), with its latest skips."""
    if suite.schedule_enabled:
        state = "on"
    elif suite.schedule_minutes is not None:
        state = "paused"
    else:
        state = "off"
    return ScheduleState(
        state=state,
        every_minutes=suite.schedule_minutes,
        # A paused schedule's stored due time is stale: re-enabling makes it due at once.
        next_run_at=suite.schedule_next_at if suite.schedule_enabled else None,
        skips=schedule_skips(suite=suite, limit=limit),
    )
