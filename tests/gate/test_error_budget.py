"""The gate option "refuse while an error budget of the service is spent"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from runs.models import GatePolicy
from runs.services.gates import gate_evaluate
from tests.health.slo_support import hours, probe_for, slo_for
from tests.pages.conftest import make_run

pytestmark = pytest.mark.django_db


def _rule(verdict, key: str) -> dict | None:
    return next((r for r in verdict.rules if r["key"] == key), None)


def _spend(service, *, bad: int) -> None:
    """10 hours of 1,000 checks before now, ``bad`` of them failed in total (99 % allows 100)."""
    probe = probe_for(service)
    start = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=10)
    hours(probe, start=start, count=10, per_hour=1000, bad=bad // 10)


def test_a_spent_budget_fails_the_gate_with_its_evidence(suite, cases, revisions):
    # given the option on, and an SLO of 99 % whose 100 allowed failures all happened
    service = suite.service
    GatePolicy.objects.create(service=service, no_exhausted_error_budget=True)
    slo_for(service, objective=99.0, name="availability")
    _spend(service, bad=100)
    run = make_run(suite, dict.fromkeys(cases, "passed"), revision=revisions[0])

    # when the gate judges a green run
    verdict = gate_evaluate(run=run)

    # then it fails on the budget alone, saying which SLO and how much is left
    assert verdict is not None and verdict.outcome == "fail"
    rule = _rule(verdict, "error_budget")
    assert rule == {
        "key": "error_budget",
        "name": "No spent error budget",
        "measured": "1 of 1 spent; lowest availability: 0.0 % left",
        "threshold": "every SLO > 0 % of its budget left",
        "outcome": "fail",
        "note": "availability: 100 bad of 100.0 allowed over 28 days",
        "evidence": [
            {"label": "SLOs", "url": f"/services/{service.name}/slos/"},
            {"label": "health page", "url": f"/services/{service.name}/health/"},
        ],
    }
    assert "No spent error budget" in verdict.summary


def test_a_budget_with_room_left_passes(suite, cases, revisions):
    service = suite.service
    GatePolicy.objects.create(service=service, no_exhausted_error_budget=True)
    slo_for(service, objective=99.0, name="availability")
    _spend(service, bad=90)
    run = make_run(suite, dict.fromkeys(cases, "passed"), revision=revisions[0])

    verdict = gate_evaluate(run=run)

    rule = _rule(verdict, "error_budget")
    assert rule is not None and rule["outcome"] == "pass"
    assert rule["measured"] == "0 of 1 spent; lowest availability: 10.0 % left"
    assert verdict.outcome == "pass"


def test_no_slo_passes_and_the_option_off_adds_no_rule(suite, cases, revisions):
    service = suite.service
    policy = GatePolicy.objects.create(service=service, no_exhausted_error_budget=True)
    run = make_run(suite, dict.fromkeys(cases, "passed"), revision=revisions[0])
    rule = _rule(gate_evaluate(run=run), "error_budget")
    assert rule is not None and (rule["outcome"], rule["measured"]) == ("pass", "no SLO")

    # the default policy leaves the rule out, even with a spent budget
    policy.no_exhausted_error_budget = False
    policy.save()
    slo_for(service, objective=99.0, name="availability")
    _spend(service, bad=500)
    other = make_run(suite, dict.fromkeys(cases, "passed"), revision=revisions[1])
    assert _rule(gate_evaluate(run=other), "error_budget") is None
