"""The conventions every chart shares: palette, axis formats, layout, deploy markers, labels.

Figures are plain dicts in plotly's JSON schema (``{"data": [...], "layout": {...}}``), drawn by
static/js/charts.js, which takes font, grid and paper colours from the page's CSS variables at
draw time (so a figure never names a text or grid colour and reads on light and dark themes),
resizes each chart with its card, opens the URL in a point's ``customdata`` on click and turns a
zoom on a date axis into the page's ``from``/``to`` time range.

Conventions:
- ``customdata`` of a clickable point is a list whose first item is the URL it opens.
- deploys are triangles on the time axis (an overlay axis ``y2``), never rotated text; deploys
  closer than a marker's width are one marker whose hover lists them all.
- a legend has one entry per revision; percentiles are line styles, explained once in a caption.
- no figure has a width: charts follow their card.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from plotly.io.json import to_json_plotly

Figure = dict[str, Any]
XRange = tuple[datetime, datetime] | None

# One palette for outcomes, on every chart; mid tones that read on white and on near-black.
OUTCOME = {
    "passed": "#2da44e",
    "failed": "#d73a49",
    "error": "#a40e26",
    "flaky": "#d97706",
    "quarantined": "#8b5cf6",
    "skipped": "#8a8f98",
}
LINE = "#3b82f6"  # the one series of a single-series chart
NEUTRAL = "#8a8f98"
# One colour per revision (Okabe-Ito order, distinguishable with colour-blindness).
SERIES = ("#3b82f6", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#7c3aed", "#f0c330")
DEPLOY = {"succeeded": OUTCOME["passed"], "failed": OUTCOME["failed"]}
# Percentiles as line styles (dash, width); the caption under a latency chart explains them once.
PERCENTILE_STYLES = {"p50": ("dot", 1.2), "p95": ("solid", 2.2), "p99": ("dash", 1.2)}
PERCENTILE_KEY = "p50 dotted · p95 solid · p99 dashed"

# plotly's d3 formats, one per unit
DATE_HOVER = "%Y-%m-%d %H:%M UTC"
DAY_HOVER = "%Y-%m-%d"


def chart_text(value: object) -> str:
    """A user-supplied string (a revision, service or test name) as plotly text: plotly renders
    a subset of HTML in labels, hover text and ticks (``<a href>`` becomes a link), so every such
    string is escaped; plotly shows the entities as the characters they stand for."""
    return html.escape("" if value is None else str(value), quote=True)


def percent(values: Iterable[float | None]) -> list[float | None]:
    """Shares (0..1) as percentages with two decimals."""
    return [None if v is None else round(100 * v, 2) for v in values]


def date_axis(*, x_range: XRange = None, small: bool = False, days: bool = False) -> dict:
    """A time axis: unrotated ticks, few of them when small; fixed to ``x_range`` when given."""
    axis: dict[str, Any] = {
        "type": "date",
        "tickangle": 0,
        "automargin": True,
        "showgrid": not small,
        "hoverformat": DAY_HOVER if days else DATE_HOVER,
        "nticks": 3 if small else 8,
        # a crosshair across the plot at the pointer, as Grafana draws one
        "showspikes": not small,
        "spikemode": "across",
        "spikesnap": "cursor",
        "spikethickness": 1,
        "spikedash": "dot",
    }
    if small:
        # short ticks that cannot collide: day and month, or the hour within a day
        axis["tickformatstops"] = [
            {"dtickrange": [None, 86_400_000], "value": "%H:%M"},
            {"dtickrange": [86_400_000, None], "value": "%b %-d"},
        ]
    if x_range is not None:
        axis["range"] = [_iso(x_range[0]), _iso(x_range[1])]
        axis["autorange"] = False
    return axis


def spark_axis(times: Sequence[datetime | date], *, x_range: XRange = None) -> dict:
    """The time axis of a sparkline: two unrotated labels, at the two ends of the range (the
    data's, or ``x_range``), so they cannot meet at any card width; the hover has the exact time."""
    axis = date_axis(small=True)
    axis.pop("tickformatstops", None)
    span = x_range or _extent(times)
    if span is None:
        return axis
    lo, hi = span
    if hi - lo < timedelta(hours=1):
        lo, hi = lo - timedelta(minutes=30), hi + timedelta(minutes=30)
    ends = [_iso(lo), _iso(hi)]
    axis.update(
        range=ends,
        autorange=False,
        tickmode="array",
        tickvals=ends,
        ticktext=[_tick(lo, hi - lo), _tick(hi, hi - lo)],
    )
    return axis


def _as_datetime(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _extent(times: Sequence[datetime | date]) -> tuple[datetime, datetime] | None:
    if not times:
        return None
    moments = [_as_datetime(t) for t in times]
    return min(moments), max(moments)


def _tick(at: datetime, span: timedelta) -> str:
    # a day apart, two "17:05" would read alike: past 20 hours the ends are days
    return f"{at:%H:%M}" if span < timedelta(hours=20) else f"{at:%b} {at.day}"


def value_axis(unit: str, *, small: bool = False, title: str = "") -> dict:
    """A y axis in ``%`` (0 to 100), ``ms`` or ``s``; the unit is on each tick, not rotated."""
    axis: dict[str, Any] = {
        "zeroline": False,
        "automargin": True,
        "tickangle": 0,
        "nticks": 3 if small else 6,
        "title": {"text": "" if small else title},
    }
    # a sparkline's card names the unit; its ticks stay short enough for a 100 px chart
    suffix = "" if small else {"%": " %", "ms": " ms", "s": " s"}.get(unit, "")
    axis["ticksuffix"] = suffix
    if unit == "%":
        axis.update(range=[0, 103], tickvals=[0, 50, 100] if small else [0, 25, 50, 75, 100])
    else:
        axis.update(rangemode="tozero", separatethousands=True)
        if small:
            axis.update(tickformat="~s", nticks=3)
    return axis


def percent_axis(values: Iterable[float | None], *, small: bool = False, title: str = "") -> dict:
    """A pass-rate axis that shows the differences: 0-100 % unless every value is at least
    50 %, then from a round floor just under the lowest value, so 96 % and 100 % look different
    (the floor is the first tick, and every bar and point has its exact value in the hover)."""
    axis = value_axis("%", small=small, title=title)
    known = [v for v in values if v is not None]
    low = min(known, default=0)
    if low < 50 or low >= 100:
        return axis
    parts = 2 if small else 4
    step = next(s for s in (1, 2, 5, 10, 20, 25) if 100 - parts * s <= low - 1)
    floor = 100 - parts * step
    axis.update(
        range=[floor, 100 + step / 4], tickvals=[floor + i * step for i in range(parts + 1)]
    )
    return axis


def layout(
    *,
    height: int,
    xaxis: dict,
    yaxis: dict,
    small: bool = False,
    legend: bool = False,
    **extra: Any,
) -> dict:
    """The shared layout: no width (the card decides), transparent paper, theme colours left to
    charts.js, legend above the plot in one row that wraps."""
    result: dict[str, Any] = {
        "height": height,
        "autosize": True,
        # small charts: room for a 4-character tick (automargin gives up at card widths)
        "margin": {"l": 34, "r": 22, "t": 6, "b": 6}
        if small
        else {"l": 8, "r": 12, "t": 8, "b": 8},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 11},
        "hovermode": "closest",
        "showlegend": legend,
        "xaxis": xaxis,
        "yaxis": yaxis,
    }
    if legend:
        result["legend"] = {
            "orientation": "h",
            "x": 0,
            "xanchor": "left",
            "y": 1.02,
            "yanchor": "bottom",
            "itemclick": "toggleothers",
        }
        result["margin"]["t"] = 36
    if small:
        result["xaxis"]["fixedrange"] = True
        result["yaxis"]["fixedrange"] = True
    result.update(extra)
    return result


@dataclass(frozen=True)
class Deploy:
    """One deploy as a chart shows it."""

    time: datetime
    label: str
    status: str = "succeeded"
    url: str = ""


def deploy_trace(
    deploys: Sequence[Deploy], *, span: tuple[datetime, datetime] | None = None, slots: int = 30
) -> dict | None:
    """Deploys as triangles on the time axis, on the axis ``y2`` (see `add_deploys`).
    Deploys within 1/``slots`` of the span of each other become one marker whose hover lists
    them and whose click opens the newest, so markers never overlap: 30 slots leave a 9 px
    marker room on a phone-wide (300 px) plot."""
    if not deploys:
        return None
    ordered = sorted(deploys, key=lambda d: d.time)
    first, last = span or (ordered[0].time, ordered[-1].time)
    gap = (last - first) / slots
    groups: list[list[Deploy]] = []
    for deploy in ordered:
        if groups and deploy.time - groups[-1][0].time <= gap:
            groups[-1].append(deploy)
        else:
            groups.append([deploy])
    texts, colours = [], []
    for group in groups:
        lines = [f"{chart_text(d.label)} ({d.status}) {d.time:%Y-%m-%d %H:%M}" for d in group[-8:]]
        more = f"<br>and {len(group) - 8} earlier" if len(group) > 8 else ""
        head = "deploy" if len(group) == 1 else f"{len(group)} deploys"
        texts.append(f"{head}<br>" + "<br>".join(lines) + more)
        failed = any(d.status == "failed" for d in group)
        colours.append(DEPLOY["failed"] if failed else DEPLOY["succeeded"])
    return {
        "type": "scatter",
        "x": [_iso(g[0].time) for g in groups],  # a group's start: starts are a slot apart
        "y": [0.5] * len(groups),
        "yaxis": "y2",
        "name": "deploys",
        "mode": "markers",
        "cliponaxis": False,
        "showlegend": False,
        "marker": {"symbol": "triangle-up", "size": 9, "color": colours},
        "text": texts,
        "customdata": [[g[-1].url] for g in groups],
        "hovertemplate": "%{text}<extra></extra>",
    }


def add_deploys(data: list[dict], layout_: dict, trace: dict | None) -> None:
    """Put the deploy markers in a strip along the time axis, under the plot: a subplot of its
    own (its x axis matches the plot's), so hovering or clicking the plot finds the plot's
    points and the strip finds deploys."""
    if not trace:
        return
    data.append({**trace, "xaxis": "x2"})
    layout_["yaxis"]["domain"] = [0.12, 1]
    layout_["xaxis"].update(anchor="free", position=0)
    layout_["xaxis2"] = {"matches": "x", "anchor": "y2", "visible": False}
    layout_["yaxis2"] = {
        "domain": [0, 0.08],
        "range": [0, 1],
        "fixedrange": True,
        "visible": False,
    }


def short_labels(names: Sequence[str], *, limit: int = 14) -> list[str]:
    """Names without the prefix they all share (cut at a separator), at most ``limit``
    characters (ellipsis in the middle, so the distinguishing end stays): "demo-checkout-7f3a"
    and "demo-checkout-9b1c" read "7f3a" and "9b1c"."""
    if not names:
        return []
    prefix = _common_prefix(names) if len(names) > 1 else ""
    cut = max((prefix.rfind(sep) for sep in "-_./: "), default=-1)
    strip = cut + 1 if cut >= 0 else 0
    labels = []
    for name in names:
        short = name[strip:] or name
        if len(short) > limit:
            keep = limit - 1
            short = short[: keep // 2] + "…" + short[len(short) - (keep - keep // 2) :]
        labels.append(short)
    # two revisions may shorten alike: number the repeats so bars stay apart
    seen: dict[str, int] = {}
    unique = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        unique.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return unique


def _common_prefix(names: Sequence[str]) -> str:
    shortest, longest = min(names), max(names)
    for index, char in enumerate(shortest):
        if char != longest[index]:
            return shortest[:index]
    return shortest


def _iso(value: datetime | date) -> str:
    return value.isoformat()


def figure(data: list[dict], layout_: dict) -> Figure:
    return {"data": [d for d in data if d], "layout": layout_}


def figure_json(fig: Figure) -> str:
    """The figure as JSON with <, > and & escaped, so it cannot close the script tag."""
    return (
        to_json_plotly(fig).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    )
