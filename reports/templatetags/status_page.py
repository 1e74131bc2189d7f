"""The status page's daily uptime strip, built in one pass: 50 services x 90 days is 4,500
spans, which the template language took about 5 times longer to render one by one. Most days
share a figure (a day at 100 % of 8,640 checks looks like the next), so each figure's class and
title are worked out once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import lru_cache

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from engine.formatting import percent_text
from health.selectors import UptimeDay, UptimeFigure

register = template.Library()


def _title(day: UptimeDay) -> str:
    if not day.checks:
        return "no checks"
    share = day.uptime
    return "too few checks to say" if share is None else percent_text(share, 2)


@lru_cache(maxsize=4096)
def _class_and_title(figure: UptimeFigure) -> tuple[str, str]:
    day = UptimeDay(day=date.min, figure=figure)  # the class and title do not depend on the day
    return day.css, escape(_title(day))


@register.filter
def uptime_strip(days: Sequence[UptimeDay]) -> SafeString:
    """One <span> per day, coloured by its class, titled with the date and the uptime."""
    spans = []
    for day in days:
        css, title = _class_and_title(day.figure)
        spans.append(f'<span class="{css}" title="{day.day.isoformat()}: {title}"></span>')
    return mark_safe("".join(spans))  # noqa: S308 - classes and dates are ours; titles escaped
