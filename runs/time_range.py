"""The one time range every page shows: a preset (``range=7d``) or a custom span
(``from=<ISO 8601>&to=<ISO 8601>``), read from the query string.

The default is the last 30 days: the overview trends and the summary already covered 30 days
before there was a shared range, so a page opened without one shows what it showed before, and
a team that releases weekly still sees several releases. Every app may import this module (it
sits beside runs.params, outside the layers of runs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from django.utils import timezone

from runs.params import FIRST_YEAR, LAST_YEAR, BadParam, shown

PRESETS: dict[str, tuple[str, timedelta]] = {
    "1h": ("1 h", timedelta(hours=1)),
    "6h": ("6 h", timedelta(hours=6)),
    "24h": ("24 h", timedelta(hours=24)),
    "7d": ("7 d", timedelta(days=7)),
    "30d": ("30 d", timedelta(days=30)),
    "90d": ("90 d", timedelta(days=90)),
}
# The presets the header offers; 1h and 6h are offered on the health page only, but a link
# that carries them is accepted anywhere.
PICKER_PRESETS = ("24h", "7d", "30d", "90d")
HEALTH_PRESETS = ("1h", "6h", *PICKER_PRESETS)
DEFAULT = "30d"
PARAMS = ("range", "from", "to")


class BadTimeRange(BadParam):
    """A range, from or to parameter that cannot be used; the message is a sentence."""


@dataclass(frozen=True)
class TimeRange:
    """A half-open span of time [start, end) in UTC, and how the URL names it."""

    start: datetime
    end: datetime
    key: str  # the preset's key, or "" for a custom span
    explicit: bool = True  # False when nothing in the URL chose it (the default)

    @property
    def span(self) -> timedelta:
        return self.end - self.start

    @property
    def is_custom(self) -> bool:
        return not self.key

    @property
    def label(self) -> str:
        if self.key:
            return f"last {PRESETS[self.key][0]}"
        return f"{_shown_instant(self.start)} to {_shown_instant(self.end)} UTC"

    @property
    def short_label(self) -> str:
        return PRESETS[self.key][0] if self.key else "custom"

    @property
    def query(self) -> str:
        """The query string that names this range, without a leading ``?``."""
        if self.key:
            return urlencode({"range": self.key})
        return urlencode({"from": _iso(self.start), "to": _iso(self.end)})

    @property
    def suffix(self) -> str:
        """``?`` + query for links that should carry the range; empty for the default range,
        so links stay as they were until a user picks one."""
        return f"?{self.query}" if self.explicit else ""

    @property
    def from_value(self) -> str:
        """The start as a ``datetime-local`` input shows it (UTC, minutes)."""
        return self.start.strftime("%Y-%m-%dT%H:%M")

    @property
    def to_value(self) -> str:
        return self.end.strftime("%Y-%m-%dT%H:%M")


def time_range_preset(key: str, *, now: datetime, explicit: bool = True) -> TimeRange:
    """The preset ``key`` ending at ``now``."""
    return TimeRange(start=now - PRESETS[key][1], end=now, key=key, explicit=explicit)


def time_range_parse(params: Mapping[str, str], *, now: datetime) -> TimeRange:
    """The range ``params`` names, or the default (last 30 days) when they name none.

    ``from``/``to`` win over ``range`` (a chart zoom adds them to a URL that may carry a
    preset). Raises BadTimeRange with a sentence for anything else.
    """
    raw_from, raw_to = params.get("from", "").strip(), params.get("to", "").strip()
    if raw_from or raw_to:
        if not (raw_from and raw_to):
            given, missing = ("from", "to") if raw_from else ("to", "from")
            raise BadTimeRange(
                f"A custom time range needs both from and to; {given} was given without "
                f"{missing}. Add {missing}, or choose a preset such as range=7d.",
                name=missing,
            )
        start = _instant(raw_from, "from")
        end = _instant(raw_to, "to")
        if start >= end:
            raise BadTimeRange(
                f"The time range starts at {_shown_instant(start)} UTC, which is not before its "
                f"end at {_shown_instant(end)} UTC; from must come before to.",
                name="from",
            )
        return TimeRange(start=start, end=end, key="")
    raw = params.get("range", "").strip()
    if not raw:
        return time_range_preset(DEFAULT, now=now, explicit=False)
    if raw not in PRESETS:
        raise BadTimeRange(
            f"{shown(raw)} is not a time range: range takes one of "
            f"{', '.join(PRESETS)}, or give from and to as ISO 8601 dates.",
            name="range",
        )
    return time_range_preset(raw, now=now)


def has_time_range(params: Mapping[str, str]) -> bool:
    return any(params.get(name, "").strip() for name in PARAMS)


def _instant(raw: str, name: str) -> datetime:
    """``raw`` as an aware UTC datetime (UTC when it has no offset)."""
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise BadTimeRange(
            f"{shown(raw)} is not a date and time: {name} takes ISO 8601, such as "
            "2026-11-02 or 2026-11-02T14:30:00Z.",
            name=name,
        ) from None
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise BadTimeRange(
            f"{shown(raw)} is outside the years {FIRST_YEAR} to {LAST_YEAR}; "
            f"give {name} a date in that span.",
            name=name,
        )
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _shown_instant(value: datetime) -> str:
    value = value.astimezone(UTC)
    if value.second or value.microsecond:
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value.strftime("%Y-%m-%d %H:%M")


def request_time_range(request) -> TimeRange:
    """The range dashboard's TimeRangeMiddleware read for this request (parsed here when a
    request did not pass through it). Raises BadTimeRange like time_range_parse."""
    found = getattr(request, "time_range", None)
    if found is None:
        found = time_range_parse(request.GET, now=timezone.now())
        request.time_range = found
    return found


def within(queryset, time_range: TimeRange, *, field: str = "created_at"):
    """``queryset`` restricted to rows whose ``field`` falls in [start, end)."""
    return queryset.filter(**{f"{field}__gte": time_range.start, f"{field}__lt": time_range.end})
