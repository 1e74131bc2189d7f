"""A suite's schedule for CI and people: read it (state, interval, next run, latest skips), set
it or pause it; the suite page's form does the same through the same service."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import StrictBool, StrictInt

from runs.api.errors import error_body, error_responses
from runs.api.permissions import require_action
from runs.api.suites import no_suite, suite_by_names
from runs.models import ScheduleSkip, Suite
from runs.models.testing import MAX_SCHEDULE_MINUTES
from runs.selectors.schedules import SKIPS_SHOWN, schedule_state
from runs.services.schedules import ScheduleError, suite_schedule_set

router = Router(tags=["schedules"])


class ScheduleIn(Schema):
    enabled: StrictBool = Field(
        description="true: run the suite every `every_minutes` minutes against the service's "
        "current revision; false: pause the schedule (the interval is kept)."
    )
    every_minutes: StrictInt | None = Field(
        None,
        description=f"The interval, a whole number of minutes from 1 to {MAX_SCHEDULE_MINUTES:,} "
        "(a week); null or left out: keep the suite's interval (needed the first time it is "
        "enabled).",
    )


class SkipOut(Schema):
    due_at: datetime = Field(description="The first occurrence skipped.")
    missed: int = Field(description="How many occurrences in a row this skip stands for.")
    reason: Literal["overlap", "no_revision", "missed"] = Field(
        description="overlap: a run of the suite was still going; no_revision: the service had "
        "no ready current revision; missed: no scheduler tick ran then."
    )
    detail: str = Field(description="The sentence the suite page shows.")
    active_run: int | None = Field(description="The id of the run still going (overlap).")
    recorded_at: datetime


class ScheduleOut(Schema):
    service: str
    suite: str
    state: Literal["on", "paused", "off"] = Field(
        description="on: scheduled; paused: the interval is kept but no run starts; off: never "
        "scheduled."
    )
    every_minutes: int | None = Field(description="The interval in minutes; null when off.")
    next_run_at: datetime | None = Field(
        description="When the next scheduled run is due (the scheduler's tick starts it within "
        "STAGELOOP_SCHEDULE_TICK seconds); null unless on."
    )
    skips: list[SkipOut] = Field(
        description=f"The latest {SKIPS_SHOWN} skipped occurrences, newest first."
    )


def _schedule_out(suite: Suite) -> dict:
    found = schedule_state(suite=suite)
    return {
        "service": suite.service.name,
        "suite": suite.name,
        "state": found.state,
        "every_minutes": found.every_minutes,
        "next_run_at": found.next_run_at,
        "skips": [_skip_out(skip) for skip in found.skips],
    }


def _skip_out(skip: ScheduleSkip) -> dict:
    return {
        "due_at": skip.due_at,
        "missed": skip.missed,
        "reason": skip.reason,
        "detail": skip.detail,
        "active_run": skip.active_run_id,
        "recorded_at": skip.recorded_at,
    }


@router.get(
    "/{service}/suites/{suite}/schedule",
    response={200: ScheduleOut, **error_responses(404)},
    summary="A suite's schedule",
)
def schedule_get(request: HttpRequest, service: str, suite: str):
    """Whether the suite runs on a schedule, how often, when its next run is due, and the
    occurrences lately skipped (a run still going, nothing deployed, the scheduler down). 404
    when the service or suite does not exist. Any role."""
    require_action(request, "read")
    found = suite_by_names(service, suite)
    if found is None:
        return no_suite(service, suite)
    return _schedule_out(found)


@router.put(
    "/{service}/suites/{suite}/schedule",
    response={200: ScheduleOut, **error_responses(404)},
    summary="Schedule a suite, or pause its schedule",
)
def schedule_put(request: HttpRequest, service: str, suite: str, payload: ScheduleIn):
    """Run the suite every `every_minutes` minutes against the service's current revision as
    normal runs marked `scheduled` (`enabled: true`), or pause it (`enabled: false`), as the
    suite page's form does. A newly enabled schedule is due at once; a changed interval keeps the
    next due time unless the new interval brings it closer. An interval out of range, none the
    first time, or a suite without a command: 400 `invalid` (field `every_minutes` or `suite`)
    with a sentence, nothing changed. Needs the Operator role."""
    require_action(request, "schedule")
    found = suite_by_names(service, suite)
    if found is None:
        return no_suite(service, suite)
    try:
        updated = suite_schedule_set(
            suite_id=found.pk,
            every_minutes=payload.every_minutes,
            enabled=payload.enabled,
            user=request.user,
        )
    except ScheduleError as exc:
        return Status(400, error_body(str(exc), "invalid", field=exc.field))
    return _schedule_out(updated)
