"""Quarantined failures do not fail `stageloop run`; anything else does (a real server, the
states its quarantine service set)."""

from __future__ import annotations

import pytest

from runs.models import Suite, TestRun
from runs.selectors.states import suite_case_by_name
from runs.services import states
from tests.client.conftest import BROKEN, suite_command

pytestmark = pytest.mark.django_db(transaction=True)


def _run(stageloop, suite_dir):
    return stageloop(
        "run", "--service", "payments", "--suite", "unit", "--create",
        *suite_command(str(suite_dir)),
    )  # fmt: skip


def test_a_quarantined_failure_does_not_fail_the_build_but_is_reported(stageloop, suite_dir):
    (suite_dir / "flaky-count").write_text("1")
    (suite_dir / "test_broken.py").write_text(BROKEN)
    first = _run(stageloop, suite_dir)
    assert first.returncode == 1  # nothing is quarantined yet

    suite = Suite.objects.get(name="unit")
    case = suite_case_by_name(suite=suite, classname="suite.test_broken", name="test_broken")
    assert case is not None
    states.test_state_set(case=case, state="quarantined", reason="waits for the tax fix")

    again = _run(stageloop, suite_dir)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "3 passed, 1 quarantined failure (not counted); run" in again.stdout
    run = TestRun.objects.latest("pk")
    assert (run.failed, run.quarantined_failures, run.blocking_failures) == (1, 1, 0)


def test_a_new_failure_next_to_a_quarantined_one_still_fails(stageloop, suite_dir):
    (suite_dir / "test_broken.py").write_text(BROKEN)
    (suite_dir / "flaky-count").write_text("1")
    _run(stageloop, suite_dir)
    suite = Suite.objects.get(name="unit")
    case = suite_case_by_name(suite=suite, classname="suite.test_broken", name="test_broken")
    states.test_state_set(case=case, state="quarantined", reason="waits for the tax fix")

    (suite_dir / "flaky-count").write_text("0")  # the flaky test fails this time
    done = _run(stageloop, suite_dir)
    assert done.returncode == 1
    assert "2 passed, 1 quarantined failure (not counted), 1 blocking failure" in done.stdout
