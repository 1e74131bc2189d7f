"""Suites as monitors: a schedule per suite, and the beat's tick that starts or skips its runs.

The database is the work queue. Each tick claims a due suite by moving its ``schedule_next_at``
forward with a conditional UPDATE (only the tick that saw the old value moves it), so two ticks,
or a tick sent twice, never act on one occurrence twice. The claimed occurrence then either
starts a normal run (trigger ``scheduled``) against the service's current revision, through the
test-only chain of runs.services.pipeline, or is recorded as a ScheduleSkip saying why:

- a run of the suite is still queued or running (runs never overlap);
- the service has no current revision that is ready (either reason, lasting many occurrences,
  stays one row whose count grows);
- occurrences went by while no tick ran (the beat was down): one run starts for the latest, and
  the earlier ones are recorded in one row as missed: no burst of catch-up runs.

The next occurrence stays on the suite's grid (the first due time plus whole intervals), so a
late tick does not make the schedule drift.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.utils import timezone

from runs.models import Revision, ScheduleSkip, Suite, TestRun
from runs.models.testing import MAX_SCHEDULE_MINUTES
from runs.services.enqueue import RESEND_AFTER, revision_test_enqueue, revision_test_send

logger = logging.getLogger(__name__)

# At most this many due suites per tick; the rest are due still and the next tick takes them.
TICK_BATCH = 200


class ScheduleError(ValueError):
    """A schedule that was not saved; ``str()`` says why, ``field`` names the input at fault
    (empty when the suite itself cannot be scheduled)."""

    def __init__(self, message: str, *, field: str = "every_minutes") -> None:
        super().__init__(message)
        self.field = field


def _minutes(value: object) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ScheduleError("The interval must be a whole number of minutes.")
    if isinstance(value, int):  # from the API's JSON: a negative number is out of range
        number = value
    else:
        text = value.strip()
        if not (text.isascii() and text.isdigit()):
            raise ScheduleError(
                f"The interval must be a whole number of minutes, not {text[:40]!r}."
            )
        number = int(text)
    if not 1 <= number <= MAX_SCHEDULE_MINUTES:
        # A number of thousands of digits is not worth printing (nor cheap to).
        got = f"{number:,}" if abs(number) < 10**15 else "a far larger number"
        raise ScheduleError(
            f"The interval must be between 1 and {MAX_SCHEDULE_MINUTES:,} minutes (a week); "
            f"got {got}."
        )
    return number


def suite_schedule_set(
    *,
    suite_id: int,
    every_minutes: object,
    enabled: bool,
    user: User | AnonymousUser | None = None,
    now: datetime | None = None,
) -> Suite:
    """Schedule a suite every ``every_minutes`` minutes (or pause it, keeping the interval).

    A schedule newly enabled is due at once (its first run starts at the next tick); changing
    the interval of an enabled schedule keeps its next occurrence unless the new interval brings
    it closer. Raises ScheduleError, changing nothing, on a bad interval or a suite that cannot
    run (no command).
    """
    now = now or timezone.now()
    minutes = _minutes(every_minutes)
    with transaction.atomic():
        suite = Suite.objects.select_for_update().select_related("service").get(pk=suite_id)
        if minutes is None:
            minutes = suite.schedule_minutes
        if enabled and minutes is None:
            raise ScheduleError("Give an interval in minutes to schedule this suite.")
        if enabled and not suite.command:
            raise ScheduleError(
                f"Suite {suite.name} has no command, so Stageloop cannot run it; an admin sets "
                "its command first.",
                field="",
            )
        next_at = suite.schedule_next_at
        if enabled and minutes is not None:
            if not suite.schedule_enabled or next_at is None:
                next_at = now
            else:
                next_at = min(next_at, now + timedelta(minutes=minutes))
        suite.schedule_minutes = minutes
        suite.schedule_enabled = enabled
        suite.schedule_next_at = next_at
        suite.save(update_fields=["schedule_minutes", "schedule_enabled", "schedule_next_at"])
    logger.info(
        "suite %s: schedule %s every %s minutes by %s",
        suite.pk,
        "enabled" if enabled else "paused",
        minutes,
        getattr(user, "username", None) or "the system",
    )
    return suite


@dataclass
class Tick:
    """What one tick did: runs started, occurrences skipped (rows), runs sent again."""

    started: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    resent: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Claim:
    suite_id: int
    due_at: datetime
    # Occurrences after due_at that are already due too (the beat was down).
    later: int


def _claim(*, suite_id: int, due_at: datetime, minutes: int, now: datetime) -> _Claim | None:
    """Move the suite's next occurrence past ``now`` if it is still ``due_at``; None when
    another tick took it (or an operator changed the schedule) in between."""
    interval = timedelta(minutes=minutes)
    later = int((now - due_at) / interval)
    moved = Suite.objects.filter(
        pk=suite_id,
        schedule_enabled=True,
        schedule_minutes=minutes,
        schedule_next_at=due_at,
    ).update(schedule_next_at=due_at + interval * (later + 1))
    return _Claim(suite_id, due_at, later) if moved else None


def _occurrences(count: int) -> str:
    return "1 occurrence" if count == 1 else f"{count} occurrences"


def _skip(
    claim: _Claim,
    *,
    reason: str,
    detail: str,
    now: datetime,
    due_at: datetime | None = None,
    missed: int | None = None,
    active_run: TestRun | None = None,
) -> ScheduleSkip:
    return ScheduleSkip.objects.create(
        suite_id=claim.suite_id,
        reason=reason,
        due_at=due_at or claim.due_at,
        missed=missed if missed is not None else claim.later + 1,
        active_run=active_run,
        detail=detail,
        recorded_at=now,
    )


def _skip_or_extend(
    claim: _Claim,
    *,
    reason: str,
    active_run: TestRun | None,
    detail: Callable[[int], str],
    minutes: int,
    now: datetime,
) -> ScheduleSkip:
    """Record the claimed occurrences as skipped, extending the suite's latest skip when it is
    the same story told one occurrence earlier (same reason, same run still going, and it ends
    right where this claim begins): a run overrunning for a day, or a service with nothing
    deployed for a week, is one row whose count grows, not a row per occurrence."""
    count = claim.later + 1
    latest = (
        ScheduleSkip.objects.select_for_update()
        .filter(suite_id=claim.suite_id)
        .order_by("-recorded_at", "-pk")
        .first()
    )
    if (
        latest is not None
        and latest.reason == reason
        and latest.active_run_id == (active_run.pk if active_run else None)
        and latest.due_at + timedelta(minutes=minutes) * latest.missed == claim.due_at
    ):
        latest.missed += count
        latest.detail = detail(latest.missed)
        latest.recorded_at = now
        latest.save(update_fields=["missed", "detail", "recorded_at"])
        return latest
    return _skip(claim, reason=reason, active_run=active_run, detail=detail(count), now=now)


def _earlier_record(
    claim: _Claim, *, suite: Suite, minutes: int, now: datetime, tick: Tick
) -> None:
    """Record the occurrences before the latest that no tick took: those due while the run going
    at the first of them still went (the ticks waited behind busy workers) as an overlap with that
    run, the rest as missed (no tick ran: the beat was down). One run starts for the latest."""
    interval = timedelta(minutes=minutes)
    overlapped = 0
    ended = (
        suite.runs.filter(created_at__lte=claim.due_at, finished_at__gte=claim.due_at)
        .order_by("-finished_at")
        .first()
    )
    if ended is not None and ended.finished_at is not None:
        overlapped = min(claim.later, int((ended.finished_at - claim.due_at) / interval) + 1)
        tick.skipped.append(
            _skip(
                claim,
                reason=ScheduleSkip.Reason.OVERLAP,
                missed=overlapped,
                active_run=ended,
                detail=f"Skipped {_occurrences(overlapped)}: run #{ended.pk} "
                f"({ended.get_trigger_display().lower()}) was still going until "
                f"{timezone.localtime(ended.finished_at):%Y-%m-%d %H:%M:%S}, and no tick "
                "could start the next run while it went.",
                now=now,
            ).pk
        )
    missed = claim.later - overlapped
    if missed:
        first = claim.due_at + interval * overlapped
        last = claim.due_at + interval * (claim.later - 1)
        tick.skipped.append(
            _skip(
                claim,
                reason=ScheduleSkip.Reason.MISSED,
                due_at=first,
                missed=missed,
                detail=f"Missed {_occurrences(missed)} from "
                f"{timezone.localtime(first):%Y-%m-%d %H:%M} to "
                f"{timezone.localtime(last):%Y-%m-%d %H:%M}: no scheduler tick ran then; one "
                "run started for the latest instead of catching up.",
                now=now,
            ).pk
        )


def _occurrence_take(claim: _Claim, *, minutes: int, now: datetime, tick: Tick) -> None:
    """Start the claimed occurrence's run, or record why it did not start."""
    suite = Suite.objects.select_related("service").get(pk=claim.suite_id)
    service = suite.service
    active = suite.runs.filter(status__in=TestRun.ACTIVE).order_by("created_at").first()
    if active is not None:

        def going(total: int) -> str:
            return (
                f"Skipped {_occurrences(total)}: run #{active.pk} "
                f"({active.get_trigger_display().lower()}, started "
                f"{timezone.localtime(active.created_at):%Y-%m-%d %H:%M:%S}) was still "
                f"{active.status}."
            )

        tick.skipped.append(
            _skip_or_extend(
                claim,
                reason=ScheduleSkip.Reason.OVERLAP,
                active_run=active,
                detail=going,
                minutes=minutes,
                now=now,
            ).pk
        )
        return
    revision = (
        Revision.objects.filter(pk=service.current_revision_id).first()
        if service.current_revision_id
        else None
    )
    if revision is None or revision.status != Revision.Status.READY:
        why = (
            f"its current revision {revision.name} is {revision.status}"
            if revision
            else "it has no current revision (nothing deployed yet)"
        )

        def nothing(total: int) -> str:
            return (
                f"Skipped {_occurrences(total)}: service {service.name} has nothing to test, {why}."
            )

        tick.skipped.append(
            _skip_or_extend(
                claim,
                reason=ScheduleSkip.Reason.NO_REVISION,
                active_run=None,
                detail=nothing,
                minutes=minutes,
                now=now,
            ).pk
        )
        return
    if claim.later:
        _earlier_record(claim, suite=suite, minutes=minutes, now=now, tick=tick)
    run = TestRun.objects.create(
        suite=suite,
        service=service,
        revision=revision,
        trigger=TestRun.Trigger.SCHEDULED,
        timeout_seconds=suite.timeout_seconds,
    )
    revision_test_enqueue(run_id=run.pk)
    tick.started.append(run.pk)


def schedules_tick(*, now: datetime | None = None) -> Tick:
    """Start the runs of every suite whose schedule is due, or record why not; send again the
    scheduled runs still queued whose message was lost. Each suite in its own transaction."""
    now = now or timezone.now()
    tick = Tick()
    due = list(
        Suite.objects.filter(schedule_enabled=True, schedule_next_at__lte=now)
        .order_by("schedule_next_at")
        .values_list("pk", "schedule_next_at", "schedule_minutes")[:TICK_BATCH]
    )
    for suite_id, due_at, minutes in due:
        if due_at is None or minutes is None:  # the check constraint keeps these set
            continue
        with transaction.atomic():
            claim = _claim(suite_id=suite_id, due_at=due_at, minutes=minutes, now=now)
            if claim is not None:
                _occurrence_take(claim, minutes=minutes, now=now, tick=tick)
    stuck = TestRun.objects.filter(
        trigger=TestRun.Trigger.SCHEDULED,
        status=TestRun.Status.QUEUED,
        created_at__lt=now - RESEND_AFTER,
    ).values_list("pk", flat=True)
    for run_id in stuck:
        try:
            if revision_test_send(run_id=run_id):
                tick.resent.append(run_id)
        except Exception:  # the broker is down: the sweeper sends the outbox row later
            logger.exception("schedules: could not send run %s again", run_id)
    if tick.started or tick.skipped or tick.resent:
        logger.info(
            "schedules: runs %s started, skips %s recorded, runs %s sent again",
            tick.started,
            tick.skipped,
            tick.resent,
        )
    return tick
