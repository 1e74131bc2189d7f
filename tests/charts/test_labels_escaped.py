"""User-supplied names go into figures as text: plotly must never render them as HTML."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from health.charts import latency_figure
from health.selectors import DeployMarker
from runs import charts
from tests.pages.conftest import build_history

EVIL = '<a href="https://evil.example/">click</a>'


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def test_revision_names_in_the_suite_charts_are_text():
    at = datetime(2026, 11, 1, tzinfo=UTC)
    figures = [
        charts.pass_rate_per_revision([{"revision__name": EVIL, "rate": 0.5, "runs": 2}]),
        charts.pass_rate_over_time(
            [SimpleNamespace(at=at, pass_rate=0.5, runs=1)],
            bucket="run",
            deploys=[{"created_at": at, "revision__name": EVIL}],
        ),
        charts.sparkline([at], [0.5], name=EVIL),
    ]
    for figure in figures:
        assert not [s for s in _strings(figure) if "<a" in s], figure


def test_revision_names_in_the_health_chart_are_text():
    at = datetime(2026, 11, 1, tzinfo=UTC)
    series = [
        SimpleNamespace(
            revision_name=EVIL, points=[SimpleNamespace(time=at, p50=1.0, p95=2.0, p99=3.0)]
        )
    ]
    marker = DeployMarker(time=at, label=EVIL, status="succeeded", url="/deploys/1/")
    figure = latency_figure(series, [marker], start=at, end=at)
    assert not [s for s in _strings(figure) if "<a" in s]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_revision_named_like_a_link_is_not_a_link_in_the_suite_chart(
    browser_login, viewer, live_server, js_errors
):
    h = build_history(runs=3, tests=2)
    h["revisions"][0].__class__.objects.filter(pk=h["revisions"][0].pk).update(name=EVIL)
    page = browser_login(viewer)

    page.goto(f"{live_server.url}/suites/{h['suite'].pk}/")
    page.wait_for_selector("#chart-per-revision .main-svg")

    # plotly draws a label's <a> as an SVG link (xlink:href), clickable off-site
    links = page.evaluate("document.querySelectorAll('.js-plotly-plot svg a').length")
    assert links == 0
    ticks = page.locator("#chart-per-revision .xtick text").all_text_contents()
    assert any("<a" in t for t in ticks), ticks  # shown as the characters, shortened
    hover_names = page.evaluate(
        "document.getElementById('chart-per-revision').data[0].customdata.map(c => c[1])"
    )
    assert EVIL.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;") in hover_names
    assert js_errors == []
