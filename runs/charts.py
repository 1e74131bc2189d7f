"""Plotly figures built from selector output: pure functions, no database access.

Each returns a plotly figure as a plain dict (``{"data": [...], "layout": {...}}``), the form
plotly.js draws; building `plotly.graph_objects.Figure` objects costs tens of milliseconds a page
in validation and deep copies. `figure_json` serializes one with plotly's own encoder, escaped
so it is safe inside a <script type="application/json"> tag for static/js/charts.js to draw.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from plotly.io.json import to_json_plotly

OK, BAD, INFO, MUTED = "#1a7f37", "#c62828", "#1f5fbf", "#8a8f98"
GRID = "#eef0f3"


def chart_text(value: object) -> str:
    """A user-supplied string (a revision, service or test name) as plotly text: plotly renders
    a subset of HTML in labels, hover text and ticks (``<a href>`` becomes a link), so every such
    string is escaped; plotly shows the entities as the characters they stand for."""
    return html.escape("" if value is None else str(value), quote=True)


def _percent(values: Sequence[float | None]) -> list[float | None]:
    return [None if v is None else round(100 * v, 2) for v in values]


def _figure(
    data: list[dict], *, height: int, y_title: str = "", percent: bool = False, **layout
) -> dict:
    yaxis: dict = {"title": {"text": y_title}, "gridcolor": GRID, "zeroline": False}
    if percent:
        yaxis.update(range=[0, 101], ticksuffix=" %")
    return {
        "data": data,
        "layout": {
            "height": height,
            "margin": {"l": 44, "r": 12, "t": 8, "b": 32},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "font": {"size": 11},
            "showlegend": False,
            "hovermode": "closest",
            "xaxis": {"gridcolor": GRID},
            "yaxis": yaxis,
            **layout,
        },
    }


def figure_json(fig: dict) -> str:
    """The figure as JSON with <, > and & escaped, so it cannot close the script tag."""
    return (
        to_json_plotly(fig).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    )


def sparkline(xs: Sequence, rates: Sequence[float | None], *, name: str, height: int = 110) -> dict:
    """A small pass-rate line for an overview card."""
    trace = {
        "type": "scatter",
        "x": list(xs),
        "y": _percent(rates),
        "name": chart_text(name),
        "mode": "lines+markers",
        "line": {"color": INFO, "width": 1.5},
        "marker": {"size": 3},
        "hovertemplate": "%{x}<br>%{y:.1f} % pass<extra></extra>",
    }
    return _figure([trace], height=height, percent=True, margin={"l": 36, "r": 6, "t": 4, "b": 22})


def latency_sparkline(xs: Sequence, p95_ms: Sequence[float], *, height: int = 110) -> dict:
    """A small p95 latency line (milliseconds) for an overview card."""
    trace = {
        "type": "scatter",
        "x": list(xs),
        "y": [round(v, 1) for v in p95_ms],
        "name": "p95 latency",
        "mode": "lines",
        "line": {"color": "#b26a00", "width": 1.5},
        "hovertemplate": "%{x}<br>p95 %{y:.0f} ms<extra></extra>",
    }
    return _figure([trace], height=height, margin={"l": 44, "r": 6, "t": 4, "b": 22}, y_title="ms")


def pass_rate_over_time(
    points: Sequence, *, bucket: str, deploys: Sequence[Mapping[str, Any]] = (), height: int = 260
) -> dict:
    """Pass rate per run (or per day/week) with a marker on the time axis for each deploy."""
    data = [
        {
            "type": "scatter",
            "x": [p.at for p in points],
            "y": _percent([p.pass_rate for p in points]),
            "name": f"pass rate per {bucket}",
            "mode": "lines",
            "line": {"color": INFO, "width": 1.5},
            "customdata": [p.runs for p in points],
            "hovertemplate": "%{x}<br>%{y:.1f} % pass (%{customdata} runs)<extra></extra>",
        }
    ]
    if deploys:
        data.append(
            {
                "type": "scatter",
                "x": [d["created_at"] for d in deploys],
                "y": [0] * len(deploys),
                "name": "deploys",
                "mode": "markers",
                "marker": {"symbol": "triangle-up", "size": 7, "color": MUTED},
                "text": [chart_text(d["revision__name"]) for d in deploys],
                "hovertemplate": "deploy %{text}<br>%{x}<extra></extra>",
            }
        )
    return _figure(data, height=height, y_title="pass rate", percent=True)


def pass_rate_per_revision(rows: Sequence[dict], *, height: int = 240) -> dict:
    """One bar per revision, in deploy order; green when (nearly) everything passed."""
    rates = _percent([r["rate"] for r in rows])
    trace = {
        "type": "bar",
        "x": [chart_text(r["revision__name"]) for r in rows],
        "y": rates,
        "name": "pass rate per revision",
        "marker": {"color": [OK if (v or 0) >= 99.5 else BAD for v in rates]},
        "customdata": [r["runs"] for r in rows],
        "hovertemplate": "%{x}<br>%{y:.1f} % pass over %{customdata} runs<extra></extra>",
    }
    fig = _figure([trace], height=height, y_title="pass rate", percent=True)
    fig["layout"]["xaxis"].update(type="category", showticklabels=len(rows) <= 30)
    return fig


def run_durations(points: Sequence, *, bucket: str, height: int = 220) -> dict:
    """Duration of each run (mean per day/week when aggregated), in seconds."""
    trace = {
        "type": "scatter",
        "x": [p.at for p in points],
        "y": [None if p.duration is None else round(p.duration, 3) for p in points],
        "name": "run duration" if bucket == "run" else f"mean run duration per {bucket}",
        "mode": "lines",
        "line": {"color": MUTED, "width": 1.5},
        "hovertemplate": "%{x}<br>%{y:.1f} s<extra></extra>",
    }
    return _figure([trace], height=height, y_title="seconds")


def case_durations(history: Sequence[Mapping[str, Any]], *, height: int = 220) -> dict:
    """One test's duration per run, each point coloured by its outcome."""
    colour = {"passed": OK, "failed": BAD, "error": BAD, "skipped": MUTED}
    trace = {
        "type": "scatter",
        "x": [h["run__created_at"] for h in history],
        "y": [round(h["duration"], 4) for h in history],
        "name": "duration",
        "mode": "lines+markers",
        "line": {"color": "#c9ced6", "width": 1},
        "marker": {"size": 4, "color": [colour[h["outcome"]] for h in history]},
        "customdata": [h["run_id"] for h in history],
        "hovertemplate": "run #%{customdata}<br>%{x}<br>%{y:.3f} s<extra></extra>",
    }
    return _figure([trace], height=height, y_title="seconds")
