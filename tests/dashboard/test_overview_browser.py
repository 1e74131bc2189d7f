"""In Chromium: log in, land on the overview, see the demo services and the worker status."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone

from dashboard.models import WorkerHeartbeat

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_operator_logs_in_and_sees_demo_services_and_worker_status(
    browser_login, operator, js_errors
):
    call_command("seed_demo", password="demo-in-tests", stdout=open("/dev/null", "w"))  # noqa: SIM115
    WorkerHeartbeat.objects.create(hostname="worker@test", last_beat_at=timezone.now())

    page = browser_login(operator)

    cards = page.locator(".service-card")
    assert cards.count() == 2
    assert page.locator(".service-card[data-service=demo-chat] h2").inner_text() == (
        "Demo chat backend"
    )
    assert "% pass" in cards.first.inner_text()
    assert page.locator("#worker-status .badge").inner_text() == "worker online"
    assert page.locator("button.deploy-and-test").count() == 2
    assert js_errors == []


def test_overview_says_when_no_worker_runs(browser_login, viewer):
    page = browser_login(viewer)

    assert page.locator("#worker-status .badge").inner_text() == "worker offline"
    assert "No worker has ever run" in page.locator("#worker-status").inner_text()
    assert page.locator("button.deploy-and-test").count() == 0


def test_a_wrong_password_is_refused_on_the_login_page(live_server, page, viewer):
    page.goto(f"{live_server.url}/")
    page.fill("#id_username", viewer.username)
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")

    assert "/login/" in page.url
    assert "enter a correct username and password" in page.locator(".error").inner_text()
