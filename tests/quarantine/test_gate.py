"""The gate counts blocking failures only, and notes quarantined ones (not counted) as a risk."""

from __future__ import annotations

import pytest

from runs.models import GatePolicy, Verdict
from runs.services import states as services
from runs.services.gates import gate_evaluate

from .conftest import make_run

pytestmark = pytest.mark.django_db


def _rule(verdict: Verdict, key: str) -> dict:
    return next(r for r in verdict.rules if r["key"] == key)


def quarantined_run(suite, cases, revision, outcomes):
    services.test_state_set(case=cases[0], state="quarantined", reason="flaky")
    run = make_run(suite, outcomes, revision=revision)
    run.quarantined_failures = services.run_quarantine_mark(run_id=run.pk, suite_id=suite.pk)
    return run


def test_a_quarantined_failure_does_not_fail_the_goal(suite, cases, revisions):
    run = quarantined_run(
        suite, cases, revisions[0], {cases[0]: "failed", cases[1]: "passed", cases[2]: "passed"}
    )

    verdict = gate_evaluate(run=run)

    assert verdict is not None and verdict.outcome == "pass"
    goal = _rule(verdict, "goal")
    assert goal["outcome"] == "pass"
    assert goal["measured"] == "0 failed or errored (1 quarantined failure, not counted)"
    note = _rule(verdict, "quarantined")
    assert note["outcome"] == "note"
    assert note["measured"] == "1 quarantined failure (not counted)"
    assert "1 test of the suite is quarantined" in note["note"]
    assert note["evidence"] == [{"label": cases[0].name, "url": f"/tests/{cases[0].pk}/"}]


def test_other_failures_still_fail_the_gate(suite, cases, revisions):
    GatePolicy.objects.create(service=suite.service, max_failed=0, no_new_signatures=False)
    run = quarantined_run(
        suite, cases, revisions[0], {cases[0]: "failed", cases[1]: "error", cases[2]: "passed"}
    )

    verdict = gate_evaluate(run=run)

    assert verdict is not None and verdict.outcome == "fail"
    assert _rule(verdict, "max_failed")["measured"] == "1 (1 quarantined failure, not counted)"


def test_the_pass_rate_leaves_quarantined_failures_out(suite, cases, revisions):
    GatePolicy.objects.create(
        service=suite.service, goal="pass_rate", goal_pass_rate=100, no_new_signatures=False
    )
    run = quarantined_run(suite, cases, revisions[0], {cases[0]: "failed", cases[1]: "passed"})

    verdict = gate_evaluate(run=run)

    assert verdict is not None
    assert _rule(verdict, "goal")["outcome"] == "pass"
    assert _rule(verdict, "goal")["measured"] == "100.0 % (1 quarantined failure, not counted)"


def test_no_note_without_quarantined_tests(suite, cases, revisions):
    run = make_run(suite, dict.fromkeys(cases, "passed"), revision=revisions[0])

    verdict = gate_evaluate(run=run)

    assert verdict is not None
    assert "quarantined" not in [r["key"] for r in verdict.rules]
