"""Which rollups answer a time range on the health page, derived from the range's span."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from runs.time_range import PRESETS
from runs.time_range import TimeRange as AppRange


@dataclass(frozen=True)
class TimeRange:
    key: str
    label: str
    span: timedelta
    rollup: str  # "minute" or "hour": minute rollups up to 24 h, hour rollups beyond
    step_seconds: int  # width of one chart point


# Chart steps for the presets: between about 60 and 170 points per chart.
_STEPS = {"1h": 60, "6h": 300, "24h": 900, "7d": 3600, "30d": 6 * 3600, "90d": 12 * 3600}
RANGES: dict[str, TimeRange] = {
    key: TimeRange(
        key, label, span, "minute" if span <= timedelta(hours=24) else "hour", _STEPS[key]
    )
    for key, (label, span) in PRESETS.items()
}
_MAX_POINTS = 180


def health_range(time_range: AppRange) -> TimeRange:
    """The rollup and chart step for the app's range: a preset's own, or for a custom span
    those of the smallest preset at least as long (longer spans: hour steps, ≤ 180 points)."""
    if time_range.key:
        return RANGES[time_range.key]
    span = time_range.span
    fitting = next((r for r in RANGES.values() if r.span >= span), None)
    if fitting is not None:
        rollup, step = fitting.rollup, fitting.step_seconds
    else:
        hours = -(-int(span.total_seconds()) // (3600 * _MAX_POINTS))
        rollup, step = "hour", hours * 3600
    return TimeRange("", time_range.label, span, rollup, step)
