"""Plotly figures for the health page: pure functions of selector output.

Figures are plain dicts in plotly's JSON schema (``{"data": [...], "layout": {...}}``) rather
than ``plotly.graph_objects``: building validated graph objects cost the page 50-100 ms per
request, and ``Plotly.newPlot`` takes the same JSON either way.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime

from django.utils.safestring import SafeString, mark_safe

from health.selectors import DeployMarker, LatencySeries, UptimeDay
from runs.charts import chart_text

Figure = dict

_COLORS = ("#1f5fbf", "#1a7f37", "#b26a00", "#7c3aed", "#c62828", "#0e7490", "#a21caf")
_PERCENTILES = (("p50", "dot", 1.2), ("p95", "solid", 2.2), ("p99", "dash", 1.2))
_DEPLOY_COLORS = {"succeeded": "#1a7f37", "failed": "#c62828"}
_STRIP_COLORS = {"up": "#1a7f37", "partial": "#b26a00", "downish": "#c62828", "none": "#d0d5dd"}


def _layout(**extra) -> dict:
    return {
        "margin": {"l": 56, "r": 16, "t": 28, "b": 40},
        "height": 320,
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "font": {"family": "system-ui, sans-serif", "size": 12},
        "legend": {"orientation": "h", "y": -0.18},
        "hovermode": "x unified",
        **extra,
    }


def latency_figure(
    series: Sequence[LatencySeries],
    deploys: Sequence[DeployMarker],
    *,
    start: datetime,
    end: datetime,
) -> Figure:
    """p50 (dotted), p95 (solid) and p99 (dashed) latency per revision, one colour per revision,
    with a vertical dotted line and a label at each deploy."""
    traces = []
    for index, item in enumerate(series):
        color = _COLORS[index % len(_COLORS)]
        times = [p.time for p in item.points]
        label = chart_text(item.revision_name)
        for name, dash, width in _PERCENTILES:
            traces.append(
                {
                    "type": "scatter",
                    "x": times,
                    "y": [round(getattr(p, name), 1) for p in item.points],
                    "name": f"{label} {name}",
                    "legendgroup": label,
                    "mode": "lines+markers" if len(times) < 3 else "lines",
                    "line": {"color": color, "dash": dash, "width": width},
                    "text": [label] * len(times),
                    "hovertemplate": f"%{{text}} {name}: %{{y:.0f}} ms<extra></extra>",
                }
            )
    shapes, annotations = [], []
    for deploy in deploys:
        color = _DEPLOY_COLORS.get(deploy.status, "#667085")
        shapes.append(
            {
                "type": "line",
                "x0": deploy.time,
                "x1": deploy.time,
                "y0": 0,
                "y1": 1,
                "yref": "paper",
                "line": {"color": color, "width": 1, "dash": "dot"},
            }
        )
        annotations.append(
            {
                "x": deploy.time,
                "y": 1,
                "yref": "paper",
                "text": f"deploy {chart_text(deploy.label)}",
                "showarrow": False,
                "textangle": -90,
                "xanchor": "right",
                "yanchor": "top",
                "font": {"size": 10, "color": color},
            }
        )
    layout = _layout(
        yaxis={"title": {"text": "latency (ms)"}, "rangemode": "tozero"},
        xaxis={"range": [start, end], "type": "date"},
        shapes=shapes,
        annotations=annotations,
    )
    return {"data": traces, "layout": layout}


def uptime_figure(days: Sequence[UptimeDay]) -> Figure:
    """Uptime per day as bars (percent), coloured like the strip; days without checks are empty."""
    bars = {
        "type": "bar",
        "x": [d.day for d in days],
        "y": [round(d.uptime * 100, 3) if d.uptime is not None else None for d in days],
        "marker": {"color": [_STRIP_COLORS[d.css] for d in days]},
        "customdata": [d.checks for d in days],
        "hovertemplate": "%{x}: %{y:.2f} % of %{customdata} checks<extra></extra>",
        "name": "uptime",
    }
    layout = _layout(
        height=220,
        showlegend=False,
        yaxis={"title": {"text": "uptime (%)"}, "range": [0, 100]},
        xaxis={"type": "date"},
    )
    return {"data": [bars], "layout": layout}


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
