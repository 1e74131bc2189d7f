"""Template filters for showing one test's failure."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from runs.highlight import failure_html

register = template.Library()


@register.filter(name="failure_html")
def failure_html_filter(text: str | None) -> SafeString:
    return failure_html(text or "")


@register.filter
def filesize(size: int | None) -> str:
    size = int(size or 0)
    for unit, factor in (("MB", 1024**2), ("kB", 1024)):
        if size >= factor:
            return f"{size / factor:.1f} {unit}"
    return f"{size} bytes"
