"""Small SVG charts for the summary (page and PDF): no browser, no kaleido, just markup.

Each function returns a self-contained ``<svg>`` string (escaped text only) following the
conventions of `engine.charts`: the outcome palette, unrotated ticks that cannot overlap (at most
one label per LABEL_SLOT of width), exact values in each mark's <title> (the hover), and no
width of its own (the viewBox scales to the card). Text and axes are drawn in ``currentColor``,
so they take the page's text colour on the light and the dark theme and black in the PDF.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from html import escape

from engine.charts import LINE, OUTCOME
from reports.figures import DeploySeries, Point

# A narrow viewBox, so text stays legible on a phone; max-width keeps it from growing on a wide
# screen (the chart scales, text with it).
WIDTH, HEIGHT = 480, 200
LEFT, RIGHT, TOP, BOTTOM = 40, 12, 26, 28  # plot area insets: ticks left, legend on top
LABEL_SLOT = 60  # the width one date label needs ("Nov 30" at 11 px, with a gap)
FONT = 'font-size="11" fill="currentColor"'


def _frame(title: str, body: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'preserveAspectRatio="xMinYMin meet" role="img" aria-label="{escape(title)}" '
        'class="chart-svg" style="width:100%;max-width:720px;height:auto">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def _plot_x(fraction: float) -> float:
    return LEFT + (WIDTH - LEFT - RIGHT) * fraction


def _plot_y(value: float, top: float) -> float:
    inner = HEIGHT - TOP - BOTTOM
    return HEIGHT - BOTTOM - (inner * value / top if top else 0)


def _day_label(day: date) -> str:
    return f"{day:%b} {day.day}"


def _y_axis(top: float, ticks: list[float], suffix: str) -> str:
    parts = []
    for tick in ticks:
        y = _plot_y(tick, top)
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
            'stroke="currentColor" stroke-opacity=".15"/>'
            f'<text x="{LEFT - 6}" y="{y + 3.5:.1f}" {FONT} text-anchor="end" '
            f'class="tick">{tick:g}{suffix}</text>'
        )
    return "".join(parts)


def _x_labels(positions: list[tuple[float, date]]) -> str:
    """Date labels under the plot, every k-th so none overlap, centred on their position and
    kept inside the frame."""
    if not positions:
        return ""
    room = max(1, int((WIDTH - LEFT - RIGHT) // LABEL_SLOT))
    every = max(1, math.ceil(len(positions) / room))
    y = HEIGHT - BOTTOM + 16
    parts = []
    for x, day in positions[::every]:
        x = min(max(x, LEFT + LABEL_SLOT / 2 - 8), WIDTH - RIGHT - LABEL_SLOT / 2 + 8)
        parts.append(
            f'<text x="{x:.1f}" y="{y}" {FONT} text-anchor="middle" class="tick">'
            f"{_day_label(day)}</text>"
        )
    return "".join(parts)


def _even_days(first: date, last: date, fx) -> list[tuple[float, date]]:
    """Evenly spaced days from ``first`` to ``last`` (whole days), as many as fit unrotated."""
    room = max(1, int((WIDTH - LEFT - RIGHT) // LABEL_SLOT))
    span = (last - first).days
    step = max(1, math.ceil(span / max(room - 1, 1)))
    days = [first + timedelta(days=d) for d in range(0, span + 1, step)]
    return [(fx(day), day) for day in days]


def _legend(items: list[tuple[str, str]]) -> str:
    parts, x = [], float(LEFT)
    for colour, label in items:
        parts.append(
            f'<rect x="{x:.0f}" y="6" width="10" height="10" rx="2" fill="{colour}"/>'
            f'<text x="{x + 14:.0f}" y="15" {FONT} class="legend">{escape(label)}</text>'
        )
        x += 26 + 6.8 * len(label)
    return "".join(parts)


def empty_chart(title: str, message: str) -> str:
    body = (
        f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" font-size="13" fill="currentColor" '
        f'fill-opacity=".7" text-anchor="middle">{escape(message)}</text>'
    )
    return _frame(title, body)


def _nice_top(value: float) -> tuple[float, list[float]]:
    """An axis top at or above ``value`` with 2-5 round ticks from zero."""
    if value <= 0:
        return 1, [0, 1]
    step = 10 ** math.floor(math.log10(value))
    for factor in (1, 2, 5, 10):
        if value / (step * factor) <= 4:
            step *= factor
            break
    step = max(step, 1)
    top = step * math.ceil(value / step)
    return top, [step * i for i in range(int(top / step) + 1)]


def line_chart(title: str, points: list[Point], *, percent: bool = True) -> str:
    """A line of the points' y values by date (0..1 as 0..100 % when ``percent``); gaps where
    y is None."""
    known = [p for p in points if p.y is not None]
    if not known:
        return empty_chart(title, "no data in this period")
    first, last = points[0].x, points[-1].x
    days = max((last - first).days, 1)

    def fx(day: date) -> float:
        return _plot_x((day - first).days / days) if last != first else _plot_x(0.5)

    if percent:
        top, ticks, scale, suffix = 100.0, [0.0, 50.0, 100.0], 100.0, " %"
    else:
        top, ticks = _nice_top(max(p.y or 0 for p in known))
        scale, suffix = 1.0, ""
    coords = [(fx(p.x), _plot_y((p.y or 0) * scale, top), p) for p in known]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in coords)
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{LINE}" class="mark">'
        f"<title>{p.x.isoformat()}: {(p.y or 0) * scale:.1f}{suffix}"
        f"{f' ({escape(p.label)} runs)' if p.label else ''}</title></circle>"
        for x, y, p in coords
    )
    body = (
        _y_axis(top, ticks, suffix)
        + f'<polyline points="{path}" fill="none" stroke="{LINE}" stroke-width="2"/>'
        + dots
        + _x_labels(_even_days(first, last, fx))
        + _legend([(LINE, "pass rate per day")])
    )
    return _frame(title, body)


def deploys_chart(title: str, series: DeploySeries) -> str:
    """Deploys per day or week as stacked bars: succeeded below, failed above."""
    buckets = series.buckets
    if not any(b.succeeded or b.failed for b in buckets):
        return empty_chart(title, "no deploys in this period")
    top, ticks = _nice_top(max(b.succeeded + b.failed for b in buckets))
    slot = (WIDTH - LEFT - RIGHT) / len(buckets)
    width = max(1.0, min(slot * 0.75, 48))
    bars, positions = [], []
    for i, b in enumerate(buckets):
        x = LEFT + i * slot + (slot - width) / 2
        positions.append((x + width / 2, b.start))
        label = (
            f"{series.bucket} of {b.start.isoformat()}: {b.succeeded} succeeded, {b.failed} failed"
        )
        y_ok = _plot_y(b.succeeded, top)
        y_all = _plot_y(b.succeeded + b.failed, top)
        base = _plot_y(0, top)
        if b.succeeded:
            bars.append(
                f'<rect x="{x:.1f}" y="{y_ok:.1f}" width="{width:.1f}" height="{base - y_ok:.1f}" '
                f'fill="{OUTCOME["passed"]}" class="mark"><title>{label}</title></rect>'
            )
        if b.failed:
            bars.append(
                f'<rect x="{x:.1f}" y="{y_all:.1f}" width="{width:.1f}" '
                f'height="{y_ok - y_all:.1f}" fill="{OUTCOME["failed"]}" class="mark">'
                f"<title>{label}</title></rect>"
            )
    body = (
        _y_axis(top, ticks, "")
        + "".join(bars)
        + _x_labels(positions)
        + _legend([(OUTCOME["passed"], "succeeded"), (OUTCOME["failed"], "failed")])
    )
    return _frame(title, body)
