"""Template filters for the dashboard pages."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from engine.formatting import percent_text

register = template.Library()


@register.filter
def percent(value: float | str | None, digits: int = 1) -> str:
    """0.973 -> "97.3 %", truncated so that only 100 % reads 100 %; None -> "—"."""
    if value is None or value == "":
        return "—"
    return percent_text(float(value), int(digits))


@register.filter
def seconds(value: float | None) -> str:
    """A duration for people: 0.0004 -> "0.4 ms", 2.5 -> "2.50 s", 3700 -> "1 h 1 min"."""
    if value is None:
        return "—"
    value = float(value)
    if value < 1:
        return f"{value * 1000:.1f} ms"
    if value < 120:
        return f"{value:.2f} s"
    minutes = int(value // 60)
    if minutes < 120:
        return f"{minutes} min {int(value % 60)} s"
    return f"{minutes // 60} h {minutes % 60} min"


@register.filter
def get_item(mapping: dict | None, key: str):
    """mapping[key] in a template, for keys with spaces."""
    return (mapping or {}).get(key, 0)


@register.simple_tag
def chart(chart_id: str, figure: str, label: str, small: bool = False) -> SafeString:
    """A chart's element and its figure (JSON that figure_json made safe inside a script
    element), as runs/_chart.html draws it: a tag, not an include, because the overview draws
    three per service and each include pushes a context and renders a template of its own."""
    return format_html(
        '<div id="{}" class="chart{}" role="img" aria-label="{}"></div>\n'
        '<script type="application/json" data-chart="{}">{}</script>\n',
        chart_id,
        " chart-small" if small else "",
        label,
        chart_id,
        mark_safe(figure),  # noqa: S308 - figure_json escaped <, > and &
    )
