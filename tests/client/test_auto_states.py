"""States changed automatically and back, the way CI meets them: `stageloop run` of a real pytest
suite against a real server, with a real Celery worker judging each run after its report. A test
that flips is quarantined by the suite's policy (and no longer fails the build); once it passes
cleanly again it is released."""

from __future__ import annotations

import time

import pytest
from celery.contrib.testing.worker import start_worker

from dashboard.celery import app
from runs.models import QuarantinePolicy, Suite, TestRun, TestState, TestStateChange, Verdict
from runs.selectors.states import suite_case_by_name
from tests.client.conftest import suite_command

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CLASSNAME = "suite.test_flaky_suite"
SUITE = """
import pathlib

HERE = pathlib.Path(__file__).parent


def test_steady():
    assert True


def test_flips():
    runs = int((HERE / "count").read_text()) if (HERE / "count").exists() else 0
    (HERE / "count").write_text(str(runs + 1))
    if (HERE / "mode").read_text() == "flip":
        assert runs % 2 == 0, "fails every other run"
"""


def _run(stageloop, suite_dir):
    return stageloop(
        "run", "--service", "payments", "--suite", "flips", "--revision", "r1", "--create",
        *suite_command(str(suite_dir), "--stageloop-efd-runs", "1"),
    )  # fmt: skip


def _judged(run_id: int, timeout: float = 60) -> None:
    """Wait until the worker has judged the run: its analyze task ends by the test states, then
    the gate, so the run's verdict comes last (analyzed_at is set before the states are)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Verdict.objects.filter(run_id=run_id).exists():
            return
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} was not judged within {timeout} s")


def _state(suite: Suite) -> tuple[str, bool]:
    case = suite_case_by_name(suite=suite, classname=CLASSNAME, name="test_flips")
    assert case is not None
    state = TestState.objects.filter(case=case).first()
    return (state.state, state.automatic) if state is not None else ("active", False)


def test_a_flipping_test_is_quarantined_automatically_and_released_once_clean(stageloop, tmp_path):
    suite_dir = tmp_path / "suite"
    suite_dir.mkdir()
    (suite_dir / "test_flaky_suite.py").write_text(SUITE)
    (suite_dir / "mode").write_text("flip")

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        first = _run(stageloop, suite_dir)
        assert first.returncode == 0, first.stdout + first.stderr  # run 0 passes
        suite = Suite.objects.get(name="flips")
        QuarantinePolicy.objects.create(
            suite=suite, auto_quarantine=True, min_results=4, release_after=2
        )
        _judged(TestRun.objects.latest("pk").pk)

        codes = []
        for _ in range(4):  # fail, pass, fail, pass: flips on one revision
            codes.append(_run(stageloop, suite_dir).returncode)
            _judged(TestRun.objects.latest("pk").pk)
        assert codes[0] == 1  # before the quarantine, its failure fails the build
        assert _state(suite) == ("quarantined", True)

        failing = _run(stageloop, suite_dir)  # fails again, now quarantined
        assert failing.returncode == 0, failing.stdout + failing.stderr
        assert "1 quarantined failure (not counted)" in failing.stdout
        _judged(TestRun.objects.latest("pk").pk)

        (suite_dir / "mode").write_text("pass")
        for _ in range(2):  # release_after clean runs
            assert _run(stageloop, suite_dir).returncode == 0
            _judged(TestRun.objects.latest("pk").pk)
        assert _state(suite)[0] == "active"
        case = suite_case_by_name(suite=suite, classname=CLASSNAME, name="test_flips")
        history = TestStateChange.objects.filter(case=case).order_by("at", "pk")
        assert [(c.state, c.automatic) for c in history] == [
            ("quarantined", True),
            ("active", True),
        ]
        assert history[0].evidence["flips"] >= 2, history[0].evidence
