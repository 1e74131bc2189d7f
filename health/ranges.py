"""The time ranges the health page offers, and which rollups answer each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class TimeRange:
    key: str
    label: str
    span: timedelta
    rollup: str  # "minute" or "hour": minute rollups up to 24 h, hour rollups beyond
    step_seconds: int  # width of one chart point


RANGES: dict[str, TimeRange] = {
    r.key: r
    for r in (
        TimeRange("1h", "1 h", timedelta(hours=1), "minute", 60),
        TimeRange("6h", "6 h", timedelta(hours=6), "minute", 300),
        TimeRange("24h", "24 h", timedelta(hours=24), "minute", 900),
        TimeRange("7d", "7 d", timedelta(days=7), "hour", 3600),
        TimeRange("30d", "30 d", timedelta(days=30), "hour", 6 * 3600),
        TimeRange("90d", "90 d", timedelta(days=90), "hour", 12 * 3600),
    )
}
DEFAULT_RANGE = "24h"


class BadRange(ValueError):
    """A range parameter that is not one of ``RANGES``; its message is a sentence for the user."""


def range_parse(value: str | None) -> TimeRange:
    """Return the range named by ``value`` (the default when empty), or raise ``BadRange``."""
    if not value:
        return RANGES[DEFAULT_RANGE]
    try:
        return RANGES[value]
    except KeyError:
        choices = ", ".join(RANGES)
        shown = value if len(value) <= 20 else value[:20] + "…"
        raise BadRange(
            f"The time range {shown!r} is not one the health page offers; choose one of {choices}."
        ) from None
