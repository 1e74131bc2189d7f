"""The figure builders are pure functions: what each figure promises, without a browser."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from types import SimpleNamespace

from engine import charts as c
from health.charts import LEGEND_REVISIONS, latency_figure, uptime_figure
from health.selectors import DeployMarker
from reports import svg
from reports.figures import DeployBucket, DeploySeries, Point
from runs import charts

T0 = datetime(2026, 11, 1, tzinfo=UTC)
RANGE = (T0, T0 + timedelta(days=7))


def _points(n: int) -> list[SimpleNamespace]:
    return [
        SimpleNamespace(
            at=T0 + timedelta(hours=i), pass_rate=0.9, duration=3.0, runs=1, run_id=100 + i
        )
        for i in range(n)
    ]


def _all_strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _all_strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _all_strings(item)


def _figures() -> list[dict]:
    deploys = [{"pk": 1, "created_at": T0, "revision__name": "web-1"}]
    history = [
        {"run_id": 7, "run__created_at": T0, "duration": 0.5, "outcome": "passed", "flaky": False}
    ]
    return [
        charts.sparkline([T0], [0.5], name="rate"),
        charts.latency_sparkline([T0], [12.0]),
        charts.pass_rate_over_time(_points(3), bucket="run", deploys=deploys),
        charts.pass_rate_per_revision(
            [{"revision_id": 1, "revision__name": "web-1", "rate": 1.0, "runs": 2}]
        ),
        charts.run_durations(_points(3), bucket="run"),
        charts.case_durations(history),
        latency_figure([], [], start=T0, end=T0 + timedelta(hours=1)),
        uptime_figure([]),
    ]


def test_no_figure_has_a_width_or_names_a_text_or_grid_colour():
    for figure in _figures():
        layout = figure["layout"]
        assert "width" not in layout
        assert "color" not in layout.get("font", {})
        for key in ("xaxis", "yaxis"):
            assert "gridcolor" not in layout[key] and "tickfont" not in layout[key]
        assert layout["paper_bgcolor"] == "rgba(0,0,0,0)"


def test_every_time_figure_takes_the_pages_time_range():
    expected = [RANGE[0].isoformat(), RANGE[1].isoformat()]
    figures = [
        charts.sparkline([T0], [0.5], name="rate", x_range=RANGE),
        charts.latency_sparkline([T0], [12.0], x_range=RANGE),
        charts.pass_rate_over_time(_points(3), bucket="run", x_range=RANGE),
        charts.run_durations(_points(3), bucket="run", x_range=RANGE),
        charts.case_durations([], x_range=RANGE),
        latency_figure([], [], start=T0, end=T0, x_range=RANGE),
        uptime_figure([], x_range=RANGE),
    ]
    for figure in figures:
        assert figure["layout"]["xaxis"]["range"] == expected, figure["layout"]["xaxis"]
        assert figure["layout"]["xaxis"]["autorange"] is False


def test_a_point_of_a_run_links_to_the_run():
    figure = charts.pass_rate_over_time(_points(2), bucket="run")
    assert [d[0] for d in figure["data"][0]["customdata"]] == ["/runs/100/", "/runs/101/"]


def test_an_aggregated_point_links_nowhere():
    figure = charts.pass_rate_over_time(_points(2), bucket="day")
    assert [d[0] for d in figure["data"][0]["customdata"]] == ["", ""]


def test_revision_bars_drop_the_shared_prefix_and_keep_the_full_name_in_the_hover():
    rows = [
        {"revision_id": i, "revision__name": f"demo-checkout-{sha}", "rate": 1.0, "runs": 1}
        for i, sha in enumerate(["7f3a1c2", "9b1c004", "e0d2f11"], start=1)
    ]
    bar = charts.pass_rate_per_revision(rows)["data"][0]
    assert bar["x"] == ["7f3a1c2", "9b1c004", "e0d2f11"]
    assert [d[1] for d in bar["customdata"]] == [r["revision__name"] for r in rows]
    assert [d[0] for d in bar["customdata"]] == ["/revisions/1/", "/revisions/2/", "/revisions/3/"]


def test_short_labels_keep_the_end_that_differs_and_stay_unique():
    assert c.short_labels(["a-1", "a-2"]) == ["1", "2"]
    assert c.short_labels(["solo-name"]) == ["solo-name"]
    long = c.short_labels(["x-" + "a" * 30 + "1", "x-" + "a" * 30 + "2"])
    assert all(len(label) <= 14 for label in long) and long[0] != long[1]
    assert c.short_labels(["p-x", "p-x"]) == ["x", "x (2)"]


def test_revision_bars_are_coloured_by_how_much_passed():
    rows = [
        {"revision_id": i, "revision__name": f"r{i}", "rate": rate, "runs": 1}
        for i, rate in enumerate([1.0, 0.95, 0.5])
    ]
    colours = charts.pass_rate_per_revision(rows)["data"][0]["marker"]["color"]
    assert colours == [c.OUTCOME["passed"], c.OUTCOME["flaky"], c.OUTCOME["failed"]]


def test_the_latency_sparkline_shows_at_most_24_medians():
    times = [T0 + timedelta(minutes=m) for m in range(1440)]
    zigzag = [10.0 if m % 2 else 90.0 for m in range(1440)]
    trace = charts.latency_sparkline(times, zigzag)["data"][0]
    assert len(trace["x"]) == 24
    assert set(trace["y"]) == {50.0}  # the median of an even mix: the zig-zag is gone


def test_sparkline_ticks_are_the_two_ends_unrotated():
    axis = charts.sparkline([T0, T0 + timedelta(days=3)], [1, 1], name="r")["layout"]["xaxis"]
    assert axis["ticktext"] == ["Nov 1", "Nov 4"] and axis["tickangle"] == 0
    single = charts.sparkline([T0], [1], name="r")["layout"]["xaxis"]
    assert single["ticktext"] == ["23:30", "00:30"]


def _latency_series(n: int):
    return [
        SimpleNamespace(
            revision_id=i + 1,
            revision_name=f"demo-checkout-{i:04d}",
            points=[SimpleNamespace(time=T0 + timedelta(hours=i), p50=1.0, p95=2.0, p99=3.0)],
        )
        for i in range(n)
    ]


def test_the_latency_legend_has_one_entry_per_revision():
    figure = latency_figure(_latency_series(3), [], start=T0, end=T0 + timedelta(days=1))
    legend = [t["name"] for t in figure["data"] if t["showlegend"]]
    assert legend == ["0000", "0001", "0002"]
    assert len(figure["data"]) == 9  # p50, p95, p99 each, styled by dash
    assert {t["line"]["dash"] for t in figure["data"]} == {"dot", "solid", "dash"}
    assert figure["data"][0]["customdata"][0] == ["/revisions/1/", "demo-checkout-0000"]


def test_older_revisions_share_one_legend_entry():
    figure = latency_figure(_latency_series(10), [], start=T0, end=T0 + timedelta(days=1))
    legend = [t["name"] for t in figure["data"] if t["showlegend"]]
    assert legend[0] == "4 older revisions"
    assert len(legend) == LEGEND_REVISIONS + 1


def test_deploys_are_markers_on_the_axis_never_rotated_text():
    deploys = [
        DeployMarker(time=T0 + timedelta(minutes=m), label=f"r{m}", status=s, url=f"/deploys/{m}/")
        for m, s in [(0, "succeeded"), (1, "failed"), (600, "succeeded")]
    ]
    figure = latency_figure([], deploys, start=T0, end=T0 + timedelta(days=1))
    assert "annotations" not in figure["layout"] and "shapes" not in figure["layout"]
    markers = figure["data"][-1]
    assert markers["yaxis"] == "y2" and markers["y"] == [0.5, 0.5]  # two within a slot: one marker
    assert markers["text"][0].startswith("2 deploys") and "r1 (failed)" in markers["text"][0]
    assert markers["marker"]["color"][0] == c.OUTCOME["failed"]
    assert markers["customdata"] == [["/deploys/1/"], ["/deploys/600/"]]


def test_deploy_markers_are_at_least_a_slot_apart():
    deploys = [c.Deploy(time=T0 + timedelta(minutes=7 * i), label="r") for i in range(1000)]
    trace = c.deploy_trace(deploys, span=(T0, T0 + timedelta(minutes=7000)), slots=30)
    xs = [datetime.fromisoformat(x) for x in trace["x"]]
    slot = timedelta(minutes=7000) / 30
    assert all(b - a > slot for a, b in pairwise(xs))


def test_the_figure_json_cannot_close_its_script_tag():
    text = c.figure_json(charts.sparkline([T0], [0.5], name="</script><b>"))
    assert "</script>" not in text and "<" not in text
    assert json.loads(text)["data"][0]["name"] == "&lt;/script&gt;&lt;b&gt;"


def test_the_summary_deploys_chart_stacks_failed_on_succeeded_per_bucket():
    series = DeploySeries(
        bucket="day",
        buckets=[
            DeployBucket(date(2026, 11, d), succeeded=d % 3, failed=d % 2) for d in range(1, 31)
        ],
    )
    markup = svg.deploys_chart("Deploys per day", series)
    assert markup.count(c.OUTCOME["passed"]) == sum(1 for d in range(1, 31) if d % 3) + 1
    assert markup.count(c.OUTCOME["failed"]) == sum(1 for d in range(1, 31) if d % 2) + 1
    assert "day of 2026-11-02: 2 succeeded, 0 failed" in markup
    assert 'width="' not in markup.split(">", 1)[0]  # the svg itself has no pixel width


def test_a_summary_without_deploys_says_so():
    series = DeploySeries(bucket="day", buckets=[DeployBucket(date(2026, 11, 1), 0, 0)])
    assert "no deploys in this period" in svg.deploys_chart("Deploys", series)


def test_summary_text_takes_the_pages_colour():
    markup = svg.line_chart("Pass rate", [Point(date(2026, 11, d), 0.9) for d in range(1, 4)])
    assert 'fill="currentColor"' in markup and "#667085" not in markup


def test_a_pass_rate_axis_starts_under_the_lowest_value_when_all_are_high():
    rows = [
        {"revision_id": i, "revision__name": f"r{i}", "rate": rate, "runs": 1}
        for i, rate in enumerate([1.0, 0.96, 0.99])
    ]
    axis = charts.pass_rate_per_revision(rows)["layout"]["yaxis"]
    assert axis["range"][0] == 92 and axis["tickvals"] == [92, 94, 96, 98, 100]
    low = [{"revision_id": 1, "revision__name": "r", "rate": 0.3, "runs": 1}]
    assert charts.pass_rate_per_revision(low)["layout"]["yaxis"]["range"] == [0, 103]


def test_a_days_sparkline_names_the_days_at_its_ends():
    axis = charts.latency_sparkline([T0], [1.0], x_range=(T0, T0 + timedelta(hours=24)))
    assert axis["layout"]["xaxis"]["ticktext"] == ["Nov 1", "Nov 2"]
