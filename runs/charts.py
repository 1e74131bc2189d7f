"""Plotly figures for the run pages built from selector output: pure functions, no database.

Each returns a plotly figure as a plain dict (building `plotly.graph_objects.Figure` objects
costs tens of milliseconds a page in validation and deep copies), following the conventions of
`engine.charts` (palette, axes, deploy markers, click-through URLs in ``customdata``).
Every time-axis figure takes ``x_range=(start, end)`` to fix its axis to the page's time range.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from engine import charts as c
from engine.charts import chart_text, figure_json

__all__ = [
    "case_durations",
    "chart_text",
    "figure_json",
    "latency_sparkline",
    "pass_rate_over_time",
    "pass_rate_per_revision",
    "run_durations",
    "sparkline",
]

SPARK_HEIGHT = 110
# A sparkline shows the trend, not the noise: at most this many points (see latency_sparkline).
SPARK_POINTS = 24


def _run_url(run_id: int | None) -> str:
    return f"/runs/{run_id}/" if run_id else ""


def _revision_url(revision_id: int | None) -> str:
    return f"/revisions/{revision_id}/" if revision_id else ""


def sparkline(
    xs: Sequence,
    rates: Sequence[float | None],
    *,
    name: str,
    run_ids: Sequence[int | None] | None = None,
    x_range: c.XRange = None,
    height: int = SPARK_HEIGHT,
) -> dict:
    """A small pass-rate line for an overview card; a click on a point opens its run when
    ``run_ids`` are given."""
    days = run_ids is None
    trace = {
        "type": "scatter",
        "x": list(xs),
        "y": c.percent(rates),
        "name": chart_text(name),
        "mode": "lines+markers",
        "line": {"color": c.LINE, "width": 1.5},
        "marker": {"size": 4},
        "cliponaxis": False,
        "customdata": [[_run_url(r)] for r in (run_ids or [None] * len(xs))],
        "hovertemplate": (
            "%{x}<br>%{y:.1f} % passed" + ("" if days else "<br>click to open the run")
        )
        + "<extra></extra>",
    }
    return c.figure(
        [trace],
        c.layout(
            height=height,
            small=True,
            xaxis=c.spark_axis(list(xs), x_range=x_range),
            yaxis=c.value_axis("%", small=True),
        ),
    )


def latency_sparkline(
    xs: Sequence[datetime],
    p95_ms: Sequence[float],
    *,
    x_range: c.XRange = None,
    height: int = SPARK_HEIGHT,
) -> dict:
    """A small p95 latency line (milliseconds) for an overview card.

    Minute rollups make a day of p95 values 1,440 points of noise that zig-zags at card width;
    the line shows at most SPARK_POINTS buckets (an hour each over a day), each the median of
    its p95 values: a median keeps a trend and drops single-minute spikes, which the health
    page (full resolution, p99 too) is for.
    """
    times, values = _bucket_medians(xs, p95_ms, SPARK_POINTS)
    trace = {
        "type": "scatter",
        "x": times,
        "y": [round(v, 1) for v in values],
        "name": "p95 latency",
        "mode": "lines+markers" if len(times) < 3 else "lines",
        "cliponaxis": False,
        "line": {"color": c.OUTCOME["flaky"], "width": 1.5, "shape": "spline", "smoothing": 0.6},
        "hovertemplate": "%{x}<br>p95 %{y:,.0f} ms (median of the bucket)<extra></extra>",
    }
    return c.figure(
        [trace],
        c.layout(
            height=height,
            small=True,
            xaxis=c.spark_axis(times, x_range=x_range),
            yaxis=c.value_axis("ms", small=True),
        ),
    )


def _bucket_medians(
    xs: Sequence[datetime], values: Sequence[float], buckets: int
) -> tuple[list[datetime], list[float]]:
    """At most ``buckets`` points: the series cut in equal time slices, each slice's median
    value at its middle point's time."""
    pairs = sorted(zip(xs, values, strict=True))
    if len(pairs) <= buckets:
        return [t for t, _ in pairs], [v for _, v in pairs]
    first, last = pairs[0][0], pairs[-1][0]
    width = (last - first) / buckets
    slices: list[list[tuple[datetime, float]]] = [[] for _ in range(buckets)]
    for at, value in pairs:
        index = min(int((at - first) / width), buckets - 1) if width else 0
        slices[index].append((at, value))
    times, medians = [], []
    for part in slices:
        if part:
            ordered = sorted(v for _, v in part)
            mid = len(ordered) // 2
            median = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
            times.append(part[len(part) // 2][0])
            medians.append(median)
    return times, medians


def _suite_deploys(deploys: Sequence[Mapping[str, Any]]) -> list[c.Deploy]:
    return [
        c.Deploy(
            time=d["created_at"],
            label=d.get("revision__name") or f"deploy #{d.get('pk')}",
            status=d.get("status", "succeeded"),
            url=f"/deploys/{d['pk']}/" if d.get("pk") else "",
        )
        for d in deploys
    ]


def pass_rate_over_time(
    points: Sequence,
    *,
    bucket: str,
    deploys: Sequence[Mapping[str, Any]] = (),
    x_range: c.XRange = None,
    height: int = 260,
) -> dict:
    """Pass rate per run (or per day/week) with a triangle on the time axis for each deploy; a
    click on a run's point opens the run."""
    per_run = bucket == "run"
    rates = c.percent([p.pass_rate for p in points])
    data = [
        {
            "type": "scatter",
            "x": [p.at for p in points],
            "y": rates,
            "name": f"pass rate per {bucket}",
            "mode": "lines+markers" if len(points) <= 60 else "lines",
            "line": {"color": c.LINE, "width": 1.5},
            "marker": {"size": 5},
            "customdata": [
                [_run_url(getattr(p, "run_id", None) if per_run else None), p.runs] for p in points
            ],
            "hovertemplate": "%{x}<br>%{y:.1f} % passed ("
            + ("run, click to open" if per_run else "%{customdata[1]} runs")
            + ")<extra></extra>",
        }
    ]
    span = x_range or _span([p.at for p in points])
    marker = c.deploy_trace(_suite_deploys(deploys), span=span)
    lay = c.layout(
        height=height,
        xaxis=c.date_axis(x_range=x_range, days=bucket != "run"),
        yaxis=c.percent_axis(rates, title="pass rate"),
    )
    c.add_deploys(data, lay, marker)
    return c.figure(data, lay)


def _span(times: Sequence[datetime]) -> tuple[datetime, datetime] | None:
    return (min(times), max(times)) if times else None


def pass_rate_per_revision(rows: Sequence[dict], *, height: int = 240) -> dict:
    """One bar per revision, in deploy order, coloured by how much passed; labels drop the
    prefix all revisions share (the full name is in the hover); a click opens the revision."""
    rates = c.percent([r["rate"] for r in rows])
    names = [str(r["revision__name"]) for r in rows]

    def colour(v: float | None) -> str:
        if v is None:
            return c.OUTCOME["skipped"]
        if v >= 99.5:
            return c.OUTCOME["passed"]
        return c.OUTCOME["flaky"] if v >= 90 else c.OUTCOME["failed"]

    yaxis = c.percent_axis(rates, title="pass rate")
    floor = yaxis["range"][0]  # bars stand on the axis floor, not below the plot
    trace = {
        "type": "bar",
        "x": [chart_text(s) for s in c.short_labels(names)],
        "y": [None if v is None else round(v - floor, 2) for v in rates],
        "base": floor,
        "name": "pass rate per revision",
        "marker": {"color": [colour(v) for v in rates]},
        "text": [None if v is None else f"{v:.0f}%" for v in rates],
        "textposition": "inside" if len(rows) <= 20 else "none",
        "insidetextanchor": "end",
        "textfont": {"color": "#ffffff", "size": 10},
        "customdata": [
            [_revision_url(r.get("revision_id")), chart_text(r["revision__name"]), r["runs"], v]
            for r, v in zip(rows, rates, strict=True)
        ],
        "hovertemplate": "%{customdata[1]}<br>%{customdata[3]:.1f} % passed over "
        "%{customdata[2]} runs<extra></extra>",
    }
    xaxis = {
        "type": "category",
        "tickangle": 0,
        "automargin": True,
        # past about 12 bars the labels would crowd a card; the hover names each bar
        "showticklabels": len(rows) <= 12,
    }
    return c.figure([trace], c.layout(height=height, xaxis=xaxis, yaxis=yaxis))


def run_durations(
    points: Sequence, *, bucket: str, x_range: c.XRange = None, height: int = 220
) -> dict:
    """Duration of each run (mean per day/week when aggregated), in seconds."""
    per_run = bucket == "run"
    trace = {
        "type": "scatter",
        "x": [p.at for p in points],
        "y": [None if p.duration is None else round(p.duration, 3) for p in points],
        "name": "run duration" if per_run else f"mean run duration per {bucket}",
        "mode": "lines+markers" if len(points) <= 60 else "lines",
        "line": {"color": c.NEUTRAL, "width": 1.5},
        "marker": {"size": 5},
        "customdata": [[_run_url(getattr(p, "run_id", None) if per_run else None)] for p in points],
        "hovertemplate": "%{x}<br>%{y:,.1f} s"
        + (" (run)" if per_run else f" (mean per {bucket})")
        + "<extra></extra>",
    }
    return c.figure(
        [trace],
        c.layout(
            height=height,
            xaxis=c.date_axis(x_range=x_range, days=not per_run),
            yaxis=c.value_axis("s", title="duration"),
        ),
    )


def case_durations(
    history: Sequence[Mapping[str, Any]], *, x_range: c.XRange = None, height: int = 220
) -> dict:
    """One test's duration per run, each point coloured by its outcome; a click opens the run."""
    colour = {**c.OUTCOME}
    trace = {
        "type": "scatter",
        "x": [h["run__created_at"] for h in history],
        "y": [round(h["duration"], 4) for h in history],
        "name": "duration",
        "mode": "lines+markers",
        "line": {"color": c.NEUTRAL, "width": 1},
        "marker": {
            "size": 6,
            "color": [
                colour["flaky"] if h.get("flaky") else colour.get(h["outcome"], c.NEUTRAL)
                for h in history
            ],
        },
        "customdata": [
            [_run_url(h["run_id"]), h["run_id"], "flaky" if h.get("flaky") else h["outcome"]]
            for h in history
        ],
        "hovertemplate": "run #%{customdata[1]} · %{customdata[2]}<br>%{x}<br>%{y:.3f} s"
        "<extra></extra>",
    }
    return c.figure(
        [trace],
        c.layout(height=height, xaxis=c.date_axis(x_range=x_range), yaxis=c.value_axis("s")),
    )
