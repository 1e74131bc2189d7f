"""Tiny SVG charts for the summary (page and PDF): no browser, no kaleido, just markup.

Each function takes points and returns a self-contained ``<svg>`` string (escaped text only).
"""

from __future__ import annotations

from html import escape

from reports.figures import Point

WIDTH, HEIGHT, PAD = 640, 200, 32


def _frame(title: str, body: str, y_label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(title)}" '
        'class="chart-svg">'
        f"<title>{escape(title)}</title>"
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - 8}" y2="{HEIGHT - PAD}" '
        'stroke="#c9ced6"/>'
        f'<line x1="{PAD}" y1="8" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#c9ced6"/>'
        f'<text x="4" y="16" font-size="10" fill="#667085">{escape(y_label)}</text>'
        f"{body}</svg>"
    )


def _x(i: int, n: int) -> float:
    inner = WIDTH - PAD - 16
    return PAD + 8 + (inner * i / (n - 1) if n > 1 else inner / 2)


def _y(value: float, top: float) -> float:
    inner = HEIGHT - PAD - 16
    return HEIGHT - PAD - (inner * value / top if top else 0)


def _axis_dates(points: list[Point]) -> str:
    if not points:
        return ""
    first, last = points[0].x.isoformat(), points[-1].x.isoformat()
    y = HEIGHT - PAD + 14
    return (
        f'<text x="{PAD}" y="{y}" font-size="10" fill="#667085">{first}</text>'
        f'<text x="{WIDTH - 8}" y="{y}" font-size="10" fill="#667085" '
        f'text-anchor="end">{last}</text>'
    )


def empty_chart(title: str, message: str) -> str:
    body = (
        f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" font-size="13" fill="#667085" '
        f'text-anchor="middle">{escape(message)}</text>'
    )
    return _frame(title, body, "")


def line_chart(title: str, points: list[Point], *, percent: bool = True) -> str:
    """A line of the points' y values (0..1 as 0..100 % when ``percent``); gaps where y is None."""
    known = [p.y for p in points if p.y is not None]
    if not known:
        return empty_chart(title, "no data in this period")
    top = 1.0 if percent else max(known) or 1.0
    coords = [(_x(i, len(points)), _y(p.y, top)) for i, p in enumerate(points) if p.y is not None]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="#1f5fbf"/>' for x, y in coords)
    body = (
        f'<polyline points="{path}" fill="none" stroke="#1f5fbf" stroke-width="2"/>{dots}'
        f'<text x="{PAD - 4}" y="{_y(top, top) + 4:.1f}" font-size="10" fill="#667085" '
        f'text-anchor="end">{"100%" if percent else f"{top:g}"}</text>' + _axis_dates(points)
    )
    return _frame(title, body, "pass rate" if percent else "")


def bar_chart(title: str, points: list[Point], y_label: str) -> str:
    """Bars of the points' y values from zero."""
    if not points:
        return empty_chart(title, "no data in this period")
    top = max(p.y or 0 for p in points) or 1
    slot = (WIDTH - PAD - 16) / len(points)
    width = max(1.0, slot * 0.7)
    bars = "".join(
        f'<rect x="{PAD + 8 + i * slot:.1f}" y="{_y(p.y or 0, top):.1f}" width="{width:.1f}" '
        f'height="{HEIGHT - PAD - _y(p.y or 0, top):.1f}" fill="#1a7f37">'
        f"<title>{p.x.isoformat()}: {p.y:g}</title></rect>"
        for i, p in enumerate(points)
    )
    label = (
        f'<text x="{PAD - 4}" y="{_y(top, top) + 4:.1f}" font-size="10" fill="#667085" '
        f'text-anchor="end">{top:g}</text>'
    )
    return _frame(title, bars + label + _axis_dates(points), y_label)
