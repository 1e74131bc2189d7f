"""How figures read: percentages never rounded up, durations in words, and the minimum amounts of
data below which a figure says "not enough data" instead of a number."""

from __future__ import annotations

from datetime import timedelta

# Minimums: below these a figure is shown as "not enough data (n …)", never as a number.
MIN_RUNS_PASS_RATE = 3  # pass rate over the period
MIN_RUNS_PASS_RATE_NOW = 1  # latest run of each suite
MIN_RUNS_PER_HALF_TREND = 2  # trend compares the two halves of the period
MIN_DAYS_FREQUENCY = 7  # deploy frequency needs a week to mean anything
MIN_DEPLOYS_CFR = 5  # change failure rate
MIN_DEPLOYS_LEAD_TIME = 3  # deploys with a known commit time
MIN_RESTORES = 2  # failure episodes that ended in a green run
# Probe checks (uptime, p95 latency): health.selectors.uptime.MIN_PROBE_CHECKS, the one rule the
# health page shares.


def percent_text(numerator: int, denominator: int) -> str:
    """``numerator / denominator`` as a percentage with one decimal, truncated, never rounded up:
    99.96 % reads "99.9 %" and only an exact 100 % reads "100.0 %". Integer arithmetic only."""
    if denominator <= 0:
        raise ValueError("a percentage needs a positive denominator")
    tenths = (numerator * 1000) // denominator
    return f"{tenths // 10}.{tenths % 10} %"


def fraction_text(value: float) -> str:
    """A fraction as a truncated percentage (for values computed in SQL as floats)."""
    tenths = int(value * 1000 + 1e-9) if value >= 0 else -int(-value * 1000 + 1e-9)
    sign = "-" if tenths < 0 else ""
    tenths = abs(tenths)
    # Guard: a float a hair under 1 must not print as 100.0.
    if tenths >= 1000 and value < 1:
        tenths = 999
    return f"{sign}{tenths // 10}.{tenths % 10} %"


def points_text(delta_points: float) -> str:
    """A change in percentage points, truncated toward zero, with its sign."""
    tenths = int(delta_points * 10)
    sign = "+" if tenths > 0 else ("-" if tenths < 0 else "±")
    tenths = abs(tenths)
    return f"{sign}{tenths // 10}.{tenths % 10} pp"


def hours_text(hours: float) -> str:
    """A duration for people: minutes under two hours, hours under two days, else days."""
    if hours < 2:
        return f"{int(hours * 60)} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"


def to_hours(value: timedelta | float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds() / 3600
    # SQLite may hand back microseconds for a duration expression.
    return float(value) / 3_600_000_000


def not_enough(n: int, what: str, needs: int) -> str:
    return f"not enough data ({n} {what}, needs {needs})"
