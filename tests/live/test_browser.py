"""In Chromium: a live external run's page shows its progress as results are streamed through
the API, without a reload, and the finished run once it is finished."""

from __future__ import annotations

import httpx
import pytest

from runs.models import Suite
from runs.services.tokens import token_create
from tests.factories import ServiceFactory
from tests.live.conftest import result

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

POLL_MS = 10_000  # the progress partial polls every second; allow a few polls


def _progress_says(page, text: str) -> None:
    page.wait_for_function(
        "t => document.querySelector('#run-progress-section')?.innerText.includes(t)",
        arg=text,
        timeout=POLL_MS,
    )


def test_the_run_page_follows_a_live_run_as_results_stream_in(
    browser_login, live_server, operator, viewer, js_errors
):
    Suite.objects.create(service=ServiceFactory(name="shop"), name="e2e")
    token = token_create(user=operator, name="ci")[1]
    # Closed at the end: a kept-alive connection would keep a server thread, and its database
    # connection, past the test.
    with httpx.Client(
        base_url=f"{live_server.url}/api/v1",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ) as api:
        _stream_and_finish(api, browser_login(viewer))
    assert js_errors == []


def _stream_and_finish(api: httpx.Client, page) -> None:
    run = api.post("/runs/live", json={"service": "shop", "suite": "e2e", "expected": 4}).json()
    page.goto(run["url"])
    page.evaluate("window.__notReloaded = true")
    _progress_says(page, "0 of 4 tests")

    api.post(f"/runs/{run['id']}/results", json={"results": [result("test_pay")]})
    _progress_says(page, "1 of 4 tests · 1 passed · 0 failed")
    api.post(
        f"/runs/{run['id']}/results",
        json={"results": [result("test_cart", "failed"), result("test_tax")]},
    )
    _progress_says(page, "3 of 4 tests · 2 passed · 1 failed")
    assert page.evaluate("window.__notReloaded") is True

    finished = api.post(f"/runs/{run['id']}/finish")
    assert finished.json()["status"] == "failed"
    # Finished: the partial tells the page to reload, and the page shows the run as it ended.
    page.wait_for_function(
        "document.querySelector('#run-status')?.innerText === 'Failed'", timeout=POLL_MS
    )
    assert "3 tests: 2 passed, 1 failed" in page.locator("#run-counts").inner_text()
    assert page.locator("table.results tr[data-outcome='failed']").count() == 1
