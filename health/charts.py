"""Plotly figures for the health page: pure functions of selector output.

Figures are plain dicts in plotly's JSON schema (``{"data": [...], "layout": {...}}``) rather
than ``plotly.graph_objects``: building validated graph objects cost the page 50-100 ms per
request, and ``Plotly.newPlot`` takes the same JSON either way.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from engine import charts as c
from engine.charts import chart_text
from health.maintenance import Occurrence
from health.selectors import DeployMarker, LatencySeries, UptimeDay
from health.selectors.slos import BurnPoint

Figure = dict

_STRIP_COLORS = {
    "up": c.OUTCOME["passed"],
    "partial": c.OUTCOME["flaky"],
    "downish": c.OUTCOME["failed"],
    "none": c.NEUTRAL,
}


# Revisions with a legend entry (and a colour) of their own; older ones share one grey entry.
LEGEND_REVISIONS = 6


def _revision_url(revision_id: int | None) -> str:
    return f"/revisions/{revision_id}/" if revision_id else ""


def latency_figure(
    series: Sequence[LatencySeries],
    deploys: Sequence[DeployMarker],
    *,
    start: datetime,
    end: datetime,
    x_range: c.XRange = None,
) -> Figure:
    """p50, p95 and p99 latency per revision: one colour and one legend entry per revision (the
    percentiles are line styles, c.PERCENTILE_KEY, explained once under the chart), deploys as
    triangles on the time axis. A click on a line opens its revision."""
    traces = []
    labels = c.short_labels([item.revision_name for item in series])
    # the newest revisions get a colour and a legend entry each; older ones share one grey entry
    older = max(0, len(series) - LEGEND_REVISIONS)
    for index, item in enumerate(series):
        is_old = index < older
        color = c.NEUTRAL if is_old else c.SERIES[(index - older) % len(c.SERIES)]
        times = [p.time for p in item.points]
        full = chart_text(item.revision_name)
        url = _revision_url(getattr(item, "revision_id", None))
        for name, (dash, width) in c.PERCENTILE_STYLES.items():
            traces.append(
                {
                    "type": "scatter",
                    "x": times,
                    "y": [round(getattr(p, name), 1) for p in item.points],
                    "name": f"{older} older revisions" if is_old else chart_text(labels[index]),
                    "legendgroup": "older" if is_old else f"revision-{index}",
                    "showlegend": name == "p95" and (not is_old or index == 0),
                    "mode": "lines+markers" if len(times) < 3 else "lines",
                    "line": {"color": color, "dash": dash, "width": width},
                    "opacity": 0.6 if is_old else 1,
                    "customdata": [[url, full]] * len(times),
                    "hovertemplate": f"%{{customdata[1]}} {name}: %{{y:,.0f}} ms<extra></extra>",
                }
            )
    markers = [c.Deploy(time=d.time, label=d.label, status=d.status, url=d.url) for d in deploys]
    span = x_range or (start, end)
    marker_trace = c.deploy_trace(markers, span=span)
    layout = c.layout(
        height=320,
        legend=True,
        xaxis=c.date_axis(x_range=span),
        yaxis=c.value_axis("ms", title="latency"),
    )
    c.add_deploys(traces, layout, marker_trace)
    return c.figure(traces, layout)


def uptime_figure(days: Sequence[UptimeDay], *, x_range: c.XRange = None) -> Figure:
    """Uptime per day as bars (percent), coloured like the strip; days without checks are empty."""
    bars = {
        "type": "bar",
        "x": [d.day for d in days],
        "y": [round(d.uptime * 100, 3) if d.uptime is not None else None for d in days],
        "marker": {"color": [_STRIP_COLORS[d.css] for d in days]},
        "customdata": [["", d.checks] for d in days],
        "hovertemplate": "%{x}: %{y:.2f} % of %{customdata[1]} checks<extra></extra>",
        "name": "uptime",
    }
    layout = c.layout(
        height=220,
        xaxis=c.date_axis(x_range=x_range, days=True),
        yaxis=c.value_axis("%", title="uptime"),
    )
    return c.figure([bars], layout)


def burn_down_figure(
    points: Sequence[BurnPoint], *, start: datetime, end: datetime, name: str
) -> Figure:
    """Error budget remaining (percent) over the SLO's window: a falling line from 100 %, a
    dashed line at 0 % (the budget spent); below 0 the objective is missed."""
    values = [round(p.remaining_percent, 2) for p in points]
    line = {
        "type": "scatter",
        "x": [p.time for p in points],
        "y": values,
        "name": chart_text(name),
        "mode": "lines+markers" if len(points) < 3 else "lines",
        "line": {"color": c.LINE, "width": 2, "shape": "hv"},
        "customdata": [["", chart_text(name)]] * len(points),
        "hovertemplate": "%{customdata[1]}: %{y:.1f} % of the budget left at %{x}<extra></extra>",
    }
    zero = {
        "type": "scatter",
        "x": [start, end],
        "y": [0, 0],
        "mode": "lines",
        "line": {"color": c.OUTCOME["failed"], "dash": "dash", "width": 1},
        "hoverinfo": "skip",
        "showlegend": False,
        "name": "budget spent",
    }
    yaxis = c.value_axis("%", title="budget left")
    low = min(values, default=0)
    if low < 0:
        yaxis["range"] = [low - 5, 103]
        yaxis.pop("tickvals", None)
    layout = c.layout(height=220, xaxis=c.date_axis(x_range=(start, end)), yaxis=yaxis)
    return c.figure([line, zero], layout)


def _band(x0: datetime, x1: datetime) -> dict:
    """A maintenance band: a grey rectangle across the chart's height, behind the data."""
    return {
        "type": "rect",
        "xref": "x",
        "yref": "paper",
        "x0": x0,
        "x1": x1,
        "y0": 0,
        "y1": 1,
        "layer": "below",
        "line": {"width": 0},
        "fillcolor": c.NEUTRAL,
        "opacity": 0.18,
        "name": "maintenance",
    }


def add_maintenance_bands(figure: Figure, windows: Sequence[Occurrence]) -> None:
    """Shade each maintenance window across the chart's height, behind the lines."""
    shapes = figure.setdefault("layout", {}).setdefault("shapes", [])
    shapes.extend(_band(window.start, window.end) for window in windows)


def add_maintenance_day_bands(figure: Figure, windows: Sequence[Occurrence]) -> None:
    """Shade the bars of the local days that a maintenance window touches, one band per run of
    such days, behind the bars. A day's bar is centred on its date: a band at the window's own
    hours would fall on the next day's bar for an evening window, and a 30-minute window would
    be a hairline on a bar a day wide."""
    touched: set[date] = set()
    for window in windows:
        day = timezone.localdate(window.start)
        last = timezone.localdate(max(window.start, window.end - timedelta(microseconds=1)))
        while day <= last:
            touched.add(day)
            day += timedelta(days=1)
    shapes = figure.setdefault("layout", {}).setdefault("shapes", [])
    days = sorted(touched)
    while days:
        first = last_day = days.pop(0)
        while days and days[0] == last_day + timedelta(days=1):
            last_day = days.pop(0)
        # naive datetimes on the days' dates, as the bars' x values (plain dates) are read
        shapes.append(
            _band(
                datetime.combine(first, time()) - timedelta(hours=12),
                datetime.combine(last_day, time()) + timedelta(hours=12),
            )
        )


def _default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot put a {type(value).__name__} into a figure")


def figure_json(figure: Figure) -> SafeString:
    """The figure as JSON safe to put inside a <script type="application/json"> element."""
    text = json.dumps(figure, default=_default, separators=(",", ":"))
    # Django's json_script escapes: these characters only occur inside JSON strings, where
    # \\uXXXX means the same, and no "</script>" can end the element early.
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    return mark_safe(text)  # noqa: S308 - escaped just above
