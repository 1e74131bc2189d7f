"""In Chromium: while `stageloop run -- pytest` runs, the run page shows the results the plugin
streams, without a reload, and the finished run once the report finishes it."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from runs.models import TestRun
from tests.client.conftest import client_env, suite_command

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The suite's last test holds the run open until the browser has seen its progress.
HOLD = """
import pathlib
import time


def test_zz_holds_until_the_page_was_seen():
    go = pathlib.Path(__file__).with_name("go")
    deadline = time.monotonic() + 60
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert go.exists()
"""


def test_the_run_page_follows_a_suite_that_stageloop_run_streams(
    browser_login, server, viewer, suite_dir, js_errors
):
    (suite_dir / "flaky-count").write_text("1")
    (suite_dir / "test_zz_hold.py").write_text(HOLD)
    env = client_env(STAGELOOP_URL=server.url, STAGELOOP_TOKEN=server.token)
    job = subprocess.Popen(
        [sys.executable, "-m", "stageloop", "run", "--service", "payments", "--suite", "unit",
         "--create", *suite_command(str(suite_dir))],
        cwd=suite_dir.parent, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not TestRun.objects.filter(progress_done__gte=3).exists():
            assert time.monotonic() < deadline, "no streamed results reached the server"
            assert job.poll() is None, job.communicate()
            time.sleep(0.2)
        run = TestRun.objects.get()
        page = browser_login(viewer)
        page.goto(f"{server.url}/runs/{run.pk}/")
        assert (
            "3 of 4 tests · 3 passed · 0 failed"
            in page.locator("#run-progress-section").inner_text()
        )
        assert page.locator("#run-status").inner_text() == "Running"

        (suite_dir / "go").touch()
        out, err = job.communicate(timeout=60)
    finally:
        job.kill()
    assert job.returncode == 0, out + err
    page.wait_for_function(
        "document.querySelector('#run-status')?.innerText === 'Passed'", timeout=10_000
    )
    assert "4 tests: 4 passed" in page.locator("#run-counts").inner_text()
    assert js_errors == []
