"""Formatting of health figures in templates."""

from __future__ import annotations

from django import template

from engine.formatting import percent_text

register = template.Library()


@register.filter
def percent(value: float | None, digits: int = 2) -> str:
    """0.99871 → "99.87 %", truncated so that only 100 % reads 100 %; None → "no data"."""
    if value is None:
        return "no data"
    return percent_text(value, int(digits))


@register.filter
def duration(seconds: float | None) -> str:
    """A duration in seconds as "45 s", "12 min 5 s", "3 h 20 min" or "2 d 4 h"."""
    if seconds is None:
        return ""
    total = round(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"
