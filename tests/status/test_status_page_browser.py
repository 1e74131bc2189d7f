"""Status pages in Chromium: a public one in a fresh anonymous browser context, a private one
for a signed-in user (and a 404 for an anonymous one), with nothing internal in the page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from health.services.maintenance import maintenance_window_create
from tests.status.helpers import CAUSE, SECRETS, planted_status_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _text_and_html(page) -> str:
    # what a visitor can read, plus every attribute (titles, links) of the rendered page
    return page.inner_text("body") + page.content()


def test_a_public_status_page_opens_in_an_anonymous_browser_and_leaks_nothing(browser, live_server):
    planted_status_page(public=True)
    context = browser.new_context()  # no cookies: a stranger on the internet
    page = context.new_page()

    response = page.goto(live_server.url + reverse("status-page", args=["acme"]))

    assert response is not None and response.status == 200
    assert page.url.endswith("/status/acme/")  # not sent to the login page
    assert page.locator("#status-services [data-service='checkout']").count() == 1
    assert page.locator("[data-service='checkout'] .uptime-strip span").count() == 90
    assert CAUSE in page.inner_text("#status-incidents")
    everything = _text_and_html(page)
    for secret in SECRETS:
        assert secret not in everything, secret
    assert page.locator("nav[aria-label=Main]").count() == 0
    context.close()


def test_a_private_status_page_is_a_404_to_strangers_and_opens_after_login(
    browser, browser_login, viewer, live_server
):
    planted_status_page(public=False)
    url = live_server.url + reverse("status-page", args=["acme"])

    stranger = browser.new_context()
    anonymous = stranger.new_page()
    response = anonymous.goto(url)
    assert response is not None and response.status == 404
    assert "Acme status" not in anonymous.content()
    stranger.close()

    page = browser_login(viewer)
    response = page.goto(url)
    assert response is not None and response.status == 200
    assert "Acme status" in page.inner_text("h1")
    everything = _text_and_html(page)
    for secret in SECRETS:
        assert secret not in everything, secret


def test_the_health_page_shows_the_window_now_and_shades_it_on_the_chart(
    browser_login, viewer, live_server, js_errors
):
    status_page = planted_status_page(public=False)
    service = status_page.services.get()
    now = timezone.now()
    maintenance_window_create(
        service_id=service.pk,
        kind="once",
        starts_at=now - timedelta(minutes=20),
        ends_at=now + timedelta(minutes=40),
        reason="database upgrade",
    )

    page = browser_login(viewer)
    page.goto(live_server.url + reverse("service-health", args=[service.name]) + "?range=6h")
    page.wait_for_selector("#latency-chart .main-svg")

    assert "Under maintenance until" in page.inner_text("#maintenance-now")
    assert "maintenance excluded" in page.inner_text(".health-tiles")
    shapes = page.evaluate("document.querySelector('#latency-chart').layout.shapes")
    assert [s["name"] for s in shapes if s.get("name") == "maintenance"] == ["maintenance"]
    assert js_errors == []


def test_the_health_page_shades_the_uptime_bars_of_days_with_maintenance(
    browser_login, viewer, live_server, js_errors
):
    # given a window three days ago, outside the 6-hour range the latency chart shows but
    # inside the 30 days of uptime bars
    status_page = planted_status_page(public=False)
    service = status_page.services.get()
    starts_at = timezone.now() - timedelta(days=3)
    maintenance_window_create(
        service_id=service.pk,
        kind="once",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=30),
        reason="kernel update",
    )

    page = browser_login(viewer)
    page.goto(live_server.url + reverse("service-health", args=[service.name]) + "?range=6h")
    page.wait_for_selector("#uptime-chart .main-svg")

    # then the day's bar is shaded (half a day either side of its date), drawn by plotly
    day = timezone.localdate(starts_at)
    shapes = page.evaluate("document.querySelector('#uptime-chart').layout.shapes")
    bands = [s for s in shapes if s.get("name") == "maintenance"]
    assert len(bands) == 1
    assert bands[0]["x0"].startswith((day - timedelta(days=1)).isoformat() + "T12:00")
    assert bands[0]["x1"].startswith(day.isoformat() + "T12:00")
    assert page.locator("#uptime-chart .layer-below .shapelayer path").count() == 1
    latency = page.evaluate("document.querySelector('#latency-chart').layout.shapes || []")
    assert [s for s in latency if s.get("name") == "maintenance"] == []
    assert js_errors == []
