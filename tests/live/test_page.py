"""Streamed results show on the run page while the run runs, like the own runner's."""

from __future__ import annotations

import pytest

from tests.live.conftest import result

pytestmark = pytest.mark.django_db


def test_the_run_page_shows_streamed_results_and_progress_while_running(live, login, viewer):
    run_id = live.started(expected=3)
    live.results(run_id, [result("test_pay"), result("test_cart", "failed", message="boom")])
    client = login(viewer)

    page = client.get(f"/runs/{run_id}/").content.decode()
    progress = client.get(f"/runs/{run_id}/progress", HTTP_HX_REQUEST="true")

    assert 'id="run-progress-section"' in page
    assert "test_pay" in page and "test_cart" in page and "boom" in page
    assert "2 of 3 tests · 1 passed · 1 failed" in progress.content.decode()
    assert "HX-Refresh" not in progress  # still running: the page keeps polling


def test_the_progress_partial_tells_the_page_to_reload_once_the_run_is_finished(
    live, login, viewer
):
    run_id = live.started()
    live.results(run_id, [result("test_pay")])
    live.finish(run_id)

    progress = login(viewer).get(f"/runs/{run_id}/progress", HTTP_HX_REQUEST="true")

    assert progress["HX-Refresh"] == "true"


def test_the_progress_says_who_streams_the_run_and_until_when_it_is_held(live, login, viewer):
    run_id = live.started()

    progress = login(viewer).get(f"/runs/{run_id}/progress").content.decode()

    assert 'id="run-live"' in progress
    assert "Streamed live by otto-operator's CI job · held until" in progress
    assert "if none comes by then, the run is marked lost" in progress
