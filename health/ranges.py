"""Which rollups answer a time range on the health page, derived from the range's span.

Ranges up to 24 h read minute rollups, up to 7 days hour rollups (one point a minute to an
hour), longer ones day rollups with one point per day of the configured time zone
(``STAGELOOP_TIME_ZONE``): a 90-day chart is 90 points of whole local days, and a year of 50
services' sparklines merges 18,250 day rollups instead of 438,000 hour rollups. Steps under a
day stay on the UTC epoch grid: minute and hour rollups are UTC minutes and hours, which are
the local ones in every zone whose offset is a whole number of hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.utils import timezone

from runs.time_range import PRESETS
from runs.time_range import TimeRange as AppRange

DAY_SECONDS = 24 * 3600


@dataclass(frozen=True)
class TimeRange:
    key: str
    label: str
    span: timedelta
    rollup: str  # "minute" up to 24 h, "hour" up to 7 d, "day" (local days) beyond
    step_seconds: int  # width of one chart point; DAY_SECONDS stands for one local day

    def first_step(self, end: datetime) -> datetime:
        """The start of the step holding ``end - span``: the chart starts on a step boundary,
        so its first point covers a whole step, not a sliver of one."""
        first = end - self.span
        if self.rollup == "day":
            return local_day_start(first)
        seconds = first.timestamp()
        return datetime.fromtimestamp(seconds - seconds % self.step_seconds, tz=UTC)


def local_day_start(moment: datetime) -> datetime:
    """The first instant (UTC) of the configured time zone's day holding ``moment``.

    A day whose midnight is skipped by a daylight-saving change starts at the first local
    time that exists (zoneinfo's reading of a missing midnight is the instant of the change).
    """
    local = timezone.localtime(moment)
    midnight = datetime.combine(local.date(), time.min, tzinfo=local.tzinfo)
    return midnight.astimezone(UTC)


def _rollup(span: timedelta) -> str:
    if span <= timedelta(hours=24):
        return "minute"
    return "hour" if span <= timedelta(days=7) else "day"


# Chart steps for the presets: 60 to 168 points up to 7 days, then one point a local day.
_STEPS = {"1h": 60, "6h": 300, "24h": 900, "7d": 3600, "30d": DAY_SECONDS, "90d": DAY_SECONDS}
RANGES: dict[str, TimeRange] = {
    key: TimeRange(key, label, span, _rollup(span), _STEPS[key])
    for key, (label, span) in PRESETS.items()
}


def health_range(time_range: AppRange) -> TimeRange:
    """The rollup and chart step for the app's range: a preset's own, or for a custom span
    those of the smallest preset at least as long (longer spans: one point a local day)."""
    if time_range.key:
        return RANGES[time_range.key]
    span = time_range.span
    fitting = next((r for r in RANGES.values() if r.span >= span), None)
    if fitting is not None:
        return TimeRange("", time_range.label, span, fitting.rollup, fitting.step_seconds)
    return TimeRange("", time_range.label, span, "day", DAY_SECONDS)
