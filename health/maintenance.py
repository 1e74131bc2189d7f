"""When maintenance windows are open, as pure functions of their definition (no Django).

Two kinds, kept deliberately simple:

- **once**: from ``starts_at`` to ``ends_at`` (aware datetimes);
- **weekly**: on some weekdays (ISO numbers, 1 = Monday) at a wall-clock time in the site's time
  zone, for a duration in minutes. Each occurrence starts at that local time on that local date,
  whatever the UTC offset is that day, so a 03:00 window stays at 03:00 across a daylight-saving
  change. A start time the clocks skip (02:30 on the spring-forward night) begins at the
  instant it would have with the old offset (03:30 by the new clock); one the clocks repeat
  (02:30 on the fall-back night) begins at the first of the two. The duration is elapsed time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_DURATION_MINUTES = 7 * 24 * 60


@dataclass(frozen=True)
class Spec:
    """What a window says, whichever kind; ``ident`` is the row's id, for callers."""

    kind: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    weekdays: Sequence[int] = ()
    local_start: time | None = None
    duration_minutes: int | None = None
    ident: int | None = None


@dataclass(frozen=True)
class Occurrence:
    start: datetime
    end: datetime
    ident: int | None = None

    def covers(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def occurrences(spec: Spec, *, start: datetime, end: datetime, tz: ZoneInfo) -> list[Occurrence]:
    """The occurrences of ``spec`` that overlap ``[start, end)``, in order, as UTC datetimes."""
    if spec.kind == "once":
        if spec.starts_at is None or spec.ends_at is None:
            return []
        if spec.starts_at < end and spec.ends_at > start:
            return [
                Occurrence(spec.starts_at.astimezone(UTC), spec.ends_at.astimezone(UTC), spec.ident)
            ]
        return []
    if spec.local_start is None or not spec.duration_minutes or not spec.weekdays:
        return []
    duration = timedelta(minutes=spec.duration_minutes)
    days = set(spec.weekdays)
    # An occurrence that began up to a duration (plus a day of offsets) earlier may still be open.
    first: date = (start - duration).astimezone(tz).date() - timedelta(days=1)
    last: date = end.astimezone(tz).date() + timedelta(days=1)
    found = []
    day = first
    while day <= last:
        if day.isoweekday() in days:
            begin = datetime.combine(day, spec.local_start, tzinfo=tz).astimezone(UTC)
            finish = begin + duration
            if begin < end and finish > start:
                found.append(Occurrence(begin, finish, spec.ident))
        day += timedelta(days=1)
    return found


def all_occurrences(
    specs: Iterable[Spec], *, start: datetime, end: datetime, tz: ZoneInfo
) -> list[Occurrence]:
    """Every occurrence of ``specs`` overlapping ``[start, end)``, by start time."""
    found = [o for spec in specs for o in occurrences(spec, start=start, end=end, tz=tz)]
    return sorted(found, key=lambda o: (o.start, o.end))


def covering(found: Sequence[Occurrence], moment: datetime) -> Occurrence | None:
    """The occurrence open at ``moment`` (the one ending last, if several), or None."""
    open_now = [o for o in found if o.covers(moment)]
    return max(open_now, key=lambda o: o.end) if open_now else None


def spec_errors(spec: Spec) -> list[str]:
    """What is wrong with ``spec``, as sentences a person can act on; empty when it is fine."""
    if spec.kind == "once":
        if spec.starts_at is None or spec.ends_at is None:
            return ["A one-off window needs both a start and an end."]
        if spec.ends_at <= spec.starts_at:
            return ["The end must come after the start: a window cannot end before it begins."]
        return []
    if spec.kind != "weekly":
        return [f"“{spec.kind}” is not a kind of window: choose once or weekly."]
    errors = []
    if not spec.weekdays:
        errors.append("Choose at least one weekday for a weekly window.")
    elif any(not isinstance(d, int) or not 1 <= d <= 7 for d in spec.weekdays):
        errors.append("Weekdays are 1 (Monday) to 7 (Sunday).")
    if spec.local_start is None:
        errors.append("A weekly window needs a start time.")
    if not spec.duration_minutes or spec.duration_minutes < 1:
        errors.append("The duration must be at least one minute.")
    elif spec.duration_minutes > MAX_DURATION_MINUTES:
        errors.append("The duration can be at most a week (10,080 minutes).")
    return errors
