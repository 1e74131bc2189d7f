"""Every chart in Chromium, at 1, 10 and 1,000 points: nothing clipped, nothing overlapping (read
from bounding boxes); charts follow their card's width; a click opens the run or revision behind
a point; a zoom sets the page's time range in the URL."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from runs.models import Suite
from tests.charts.geometry import assert_reads, shot
from tests.conftest import PASSWORD
from tests.factories import chart_history

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PLOTS = {
    "overview": ("/", ["day-demo-checkout", "runs-demo-checkout", "latency-demo-checkout"]),
    "suite": ("/suites/{suite}/", ["chart-pass-rate", "chart-per-revision", "chart-durations"]),
    "test": ("/tests/{case}/", ["chart-test-duration"]),
    "health": ("/services/demo-checkout/health/", ["latency-chart", "uptime-chart"]),
}


def _open(page, live_server, path: str, h: dict) -> None:
    page.goto(live_server.url + path.format(suite=h["suite"].pk, case=h["case"].pk))


def _drawn(page, chart_id: str) -> None:
    page.wait_for_selector(f"#{chart_id} .main-svg")


def _check_pages(page, live_server, h: dict, label: str) -> dict:
    found = {}
    for name, (path, chart_ids) in PLOTS.items():
        _open(page, live_server, path, h)
        for chart_id in chart_ids:
            _drawn(page, chart_id)
            found[chart_id] = assert_reads(page, f"#{chart_id}")
        shot(page, f"{label}-{name}")
    page.goto(f"{live_server.url}/reports/summary")
    for index in (1, 2):
        found[f"summary-{index}"] = assert_reads(page, f".chart-box >> nth={index - 1}")
    shot(page, f"{label}-summary")
    return found


@pytest.mark.parametrize(
    "points",
    # ten points in every pass; one and a thousand (about 25 s each) in the matrix pass
    [pytest.param(1, marks=pytest.mark.matrix), 10, pytest.param(1000, marks=pytest.mark.matrix)],
)
def test_every_chart_reads_at_1_10_and_1000_points(
    points, browser_login, manager, live_server, js_errors
):
    h = chart_history(points)
    page = browser_login(manager)
    page.set_viewport_size({"width": 1280, "height": 900})

    found = _check_pages(page, live_server, h, f"after-{points}")

    # the health legend: one entry per revision (at most six and one for older revisions)
    legend = [b["text"] for b in found["latency-chart"]["legend"]]
    assert len(legend) == min(len(h["revisions"]), 7), legend
    # sparkline ticks are few and unrotated
    day_ticks = found["runs-demo-checkout"]["xticks"]
    assert len(day_ticks) <= 4 and all(b["w"] > b["h"] for b in day_ticks)
    # revision bars say what differs, not the prefix they share
    bars = found["chart-per-revision"]["xticks"]
    if len(h["revisions"]) > 1:
        assert all(not b["text"].startswith("demo-") for b in bars), bars
    assert js_errors == []


@pytest.mark.matrix
@pytest.mark.parametrize("width", [390, 1920])
def test_every_chart_reads_on_a_phone_and_a_wide_screen(
    width, browser_login, manager, live_server, js_errors
):
    h = chart_history(100)
    page = browser_login(manager)
    page.set_viewport_size({"width": width, "height": 900})

    _check_pages(page, live_server, h, f"after-{width}px")
    assert js_errors == []


def test_a_chart_follows_its_cards_width(browser_login, viewer, live_server, js_errors):
    h = chart_history(10)
    page = browser_login(viewer)
    page.set_viewport_size({"width": 1280, "height": 900})
    _open(page, live_server, "/suites/{suite}/", h)
    _drawn(page, "chart-pass-rate")
    wide = page.locator("#chart-pass-rate .main-svg").first.bounding_box()

    page.set_viewport_size({"width": 420, "height": 900})
    page.wait_for_function(
        "document.querySelector('#chart-pass-rate .main-svg').getBoundingClientRect().width < 420"
    )

    narrow = page.locator("#chart-pass-rate .main-svg").first.bounding_box()
    card = page.locator("#chart-pass-rate").bounding_box()
    assert narrow["width"] < wide["width"]
    assert abs(narrow["width"] - card["width"]) <= 2
    assert_reads(page, "#chart-pass-rate")
    assert js_errors == []


def test_a_click_on_a_point_opens_its_run(browser_login, viewer, live_server, js_errors):
    h = chart_history(10)
    page = browser_login(viewer)
    _open(page, live_server, "/suites/{suite}/", h)
    _drawn(page, "chart-pass-rate")

    point = page.locator(
        "#chart-pass-rate .subplot.xy .scatterlayer .trace:first-child .point"
    ).last
    box = point.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    page.wait_for_url(f"**/runs/{h['runs'][-1].pk}/")
    assert js_errors == []


def test_a_click_on_a_revision_bar_opens_the_revision(
    browser_login, viewer, live_server, js_errors
):
    h = chart_history(10)
    page = browser_login(viewer)
    _open(page, live_server, "/suites/{suite}/", h)
    _drawn(page, "chart-per-revision")

    page.locator("#chart-per-revision .bars .point").first.click(force=True)

    page.wait_for_url(f"**/revisions/{h['revisions'][0].pk}/")
    assert js_errors == []


def test_a_zoom_sets_the_time_range_of_the_page(browser_login, viewer, live_server, js_errors):
    h = chart_history(10)
    page = browser_login(viewer)
    _open(page, live_server, "/suites/{suite}/?page=1&range=7d", h)
    _drawn(page, "chart-pass-rate")

    page.evaluate(
        "Plotly.relayout('chart-pass-rate', "
        "{'xaxis.range[0]': '2026-11-20 10:15:30.25', 'xaxis.range[1]': '2026-11-21 08:00'})"
    )

    page.wait_for_url("**from=*")
    query = parse_qs(urlparse(page.url).query)
    assert query["from"] == ["2026-11-20T10:15:30Z"]
    assert query["to"] == ["2026-11-21T08:00:00Z"]
    assert "range" not in query and "page" not in query
    assert urlparse(page.url).path == f"/suites/{h['suite'].pk}/"
    assert js_errors == []


def test_a_drag_across_the_chart_sets_the_time_range(browser_login, viewer, live_server, js_errors):
    h = chart_history(10)
    page = browser_login(viewer)
    _open(page, live_server, "/suites/{suite}/", h)
    _drawn(page, "chart-pass-rate")
    area = page.locator("#chart-pass-rate .nsewdrag").first.bounding_box()

    page.mouse.move(area["x"] + area["width"] * 0.3, area["y"] + area["height"] / 2)
    page.mouse.down()
    page.mouse.move(area["x"] + area["width"] * 0.7, area["y"] + area["height"] / 2, steps=8)
    page.mouse.up()

    page.wait_for_url("**from=*")
    query = parse_qs(urlparse(page.url).query)
    # The axis is the page's time range (the last 30 days): the drag picked its middle 40 %.
    start, end = (
        datetime.fromisoformat(query[k][0].replace("Z", "+00:00")) for k in ("from", "to")
    )
    now = h["runs"][-1].created_at
    assert now - timedelta(days=30, minutes=5) <= start < end <= now + timedelta(minutes=5)
    assert timedelta(days=10) < end - start < timedelta(days=14)
    assert js_errors == []


def test_a_double_click_does_not_change_the_page(browser_login, viewer, live_server, js_errors):
    h = chart_history(10)
    page = browser_login(viewer)
    _open(page, live_server, "/suites/{suite}/", h)
    _drawn(page, "chart-pass-rate")
    before = page.url

    page.evaluate("Plotly.relayout('chart-pass-rate', {'xaxis.autorange': true})")
    page.wait_for_timeout(300)

    assert page.url == before
    assert js_errors == []


def test_charts_take_the_dark_themes_colours(browser_login, viewer, live_server, js_errors):
    h = chart_history(10)
    page = browser_login(viewer)
    _open(page, live_server, "/suites/{suite}/", h)
    _drawn(page, "chart-pass-rate")

    # what the dark theme's stylesheet does when the system turns dark
    page.evaluate(
        "document.documentElement.style.setProperty('--fg', 'rgb(230, 231, 235)');"
        "document.documentElement.style.setProperty('--muted', 'rgb(150, 160, 170)');"
    )
    page.emulate_media(color_scheme="dark")

    tick = page.locator("#chart-pass-rate .xtick text").first
    page.wait_for_function(
        "document.querySelector('#chart-pass-rate .xtick text').style.fill === 'rgb(150, 160, 170)'"
    )
    assert tick.is_visible()
    assert js_errors == []


def test_a_click_on_a_deploy_marker_opens_the_deploy(browser_login, viewer, live_server, js_errors):
    h = chart_history(10)
    page = browser_login(viewer)
    _open(page, live_server, "/suites/{suite}/", h)
    _drawn(page, "chart-pass-rate")

    marker = page.locator("#chart-pass-rate .subplot.x2y2 .scatterlayer .point").last
    box = marker.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    page.wait_for_url("**/deploys/*/")
    assert js_errors == []


@pytest.mark.matrix
def test_every_chart_reads_on_the_seeded_demo(browser_login, live_server, js_errors):
    call_command("seed_demo", password=PASSWORD, stdout=open("/dev/null", "w"))  # noqa: SIM115
    page = browser_login(get_user_model().objects.get(username="admin"))
    page.set_viewport_size({"width": 1280, "height": 900})
    for chart in page.locator(".trend-pair .chart").all():
        chart.locator(".main-svg").first.wait_for()
        assert_reads(page, f"#{chart.get_attribute('id')}")
    shot(page, "demo-overview")
    for suite in Suite.objects.select_related("service"):
        page.goto(f"{live_server.url}/suites/{suite.pk}/")
        for chart_id in ("chart-pass-rate", "chart-per-revision", "chart-durations"):
            if page.locator(f"#{chart_id}").count():
                _drawn(page, chart_id)
                assert_reads(page, f"#{chart_id}")
        shot(page, f"demo-suite-{suite.service.name}")
        page.goto(f"{live_server.url}/services/{suite.service.name}/health/")
        for chart_id in ("latency-chart", "uptime-chart"):
            _drawn(page, chart_id)
            assert_reads(page, f"#{chart_id}")
        shot(page, f"demo-health-{suite.service.name}")
    page.goto(f"{live_server.url}/reports/summary")
    for index in range(page.locator(".chart-box").count()):
        assert_reads(page, f".chart-box >> nth={index}")
    shot(page, "demo-summary")
    assert js_errors == []
