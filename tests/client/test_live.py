"""`stageloop run -- pytest` streams results into a live run while the suite runs, and the
final report is the truth."""

from __future__ import annotations

import pytest

from runs.models import TestRun
from tests.client.conftest import suite_command

pytestmark = pytest.mark.django_db(transaction=True)

# The suite's last test asks the server, mid-run, what the run page shows so far.
WATCHER = """
import json
import os
import time
import urllib.request


def test_zz_sees_earlier_results_on_the_server():
    url = f"{os.environ['STAGELOOP_URL']}/api/v1/runs/{os.environ['STAGELOOP_RUN_ID']}"
    request = urllib.request.Request(
        url, headers={"Authorization": f"Bearer {os.environ['STAGELOOP_TOKEN']}"}
    )
    deadline = time.monotonic() + 20
    while True:
        with urllib.request.urlopen(request) as answer:
            run = json.load(answer)
        if run["passed"] >= 3 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert run["status"] == "running"
    assert run["passed"] >= 3
    assert run["progress_total"] == 4  # the collected count: the page says "3 of 4 tests"
"""


def test_results_stream_while_the_suite_runs_and_the_report_finishes_the_run(stageloop, suite_dir):
    (suite_dir / "flaky-count").write_text("1")
    (suite_dir / "test_watch.py").write_text(WATCHER)
    done = stageloop(
        "run", "--service", "payments", "--suite", "unit", "--create",
        *suite_command(str(suite_dir)),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    run = TestRun.objects.get()
    assert f"live run {run.pk}: http" in done.stderr
    assert (run.status, run.total, run.passed) == ("passed", 4, 4)
    assert run.trigger == TestRun.Trigger.API


def test_a_suite_that_crashes_before_its_report_ends_the_live_run_in_error(stageloop, suite_dir):
    done = stageloop(
        "run", "--service", "payments", "--suite", "unit", "--create",
        *suite_command(str(suite_dir), "--no-such-option"),
    )  # fmt: skip
    assert done.returncode == 4  # pytest's usage error, its own code
    assert "the command exited with 4 and wrote no report" in done.stderr
    run = TestRun.objects.get()
    assert run.status == "error"
    assert "exited with 4" in run.error
