"""The before-traffic gate computes each rule from hand-built runs and stores the verdict."""

from __future__ import annotations

import pytest
from django.utils import timezone

from runs.models import FailureSignature, GatePolicy, TestRun, Verdict
from runs.services.gates import gate_evaluate, gate_evaluate_safely
from tests.pages.conftest import make_run

pytestmark = pytest.mark.django_db


def _rule(verdict: Verdict, key: str) -> dict:
    return next(r for r in verdict.rules if r["key"] == key)


def _sig(suite, text: str) -> FailureSignature:
    return FailureSignature.objects.create(
        suite=suite, kind="failed", hash=text[:40], normalized=text
    )


def test_first_revision_all_pass_passes_with_baseline_rules_not_applicable(suite, cases, revisions):
    run = make_run(suite, dict.fromkeys(cases, "passed"), revision=revisions[0])

    verdict = gate_evaluate(run=run)

    assert verdict is not None and verdict.outcome == "pass"
    assert verdict.run == run and verdict.revision == revisions[0]
    assert _rule(verdict, "no_new_signatures")["outcome"] == "not_applicable"
    assert _rule(verdict, "goal")["outcome"] == "pass"
    assert _rule(verdict, "min_tests") == {
        "key": "min_tests",
        "name": "Tests executed",
        "measured": "4",
        "threshold": "≥ 1",
        "outcome": "pass",
        "note": "",
        "evidence": [{"label": f"run #{run.pk}", "url": run.get_absolute_url()}],
    }
    assert verdict.dry_run is False and verdict.policy is None  # the defaults


def test_a_failure_fails_the_default_goal_and_a_new_signature_fails(suite, cases, revisions):
    old = _sig(suite, "old timeout")
    new = _sig(suite, "new KeyError")
    make_run(
        suite,
        {cases[0]: "failed", cases[1]: "passed"},
        revision=revisions[0],
        signatures={cases[0]: old},
    )
    run = make_run(
        suite,
        {cases[0]: "failed", cases[1]: "failed", cases[2]: "passed"},
        revision=revisions[1],
        signatures={cases[0]: old, cases[1]: new},
    )

    verdict = gate_evaluate(run=run)

    assert verdict is not None and verdict.outcome == "fail"
    assert _rule(verdict, "goal")["measured"] == "2 failed or errored"
    assert _rule(verdict, "goal")["outcome"] == "fail"
    rule = _rule(verdict, "no_new_signatures")
    assert rule["outcome"] == "fail" and rule["measured"] == "1 new"
    assert rule["evidence"] == [{"label": "new KeyError", "url": cases[1].get_absolute_url()}]
    assert "All tests pass" in verdict.summary


def test_a_known_signature_only_is_not_new(suite, cases, revisions):
    old = _sig(suite, "old timeout")
    make_run(suite, {cases[0]: "failed"}, revision=revisions[0], signatures={cases[0]: old})
    run = make_run(
        suite,
        {cases[0]: "failed", cases[1]: "passed", cases[2]: "passed", cases[3]: "passed"},
        revision=revisions[1],
        signatures={cases[0]: old},
    )
    GatePolicy.objects.create(
        service=suite.service, goal="pass_rate", goal_pass_rate=75, max_failed=1
    )

    verdict = gate_evaluate(run=run)

    assert verdict is not None and verdict.outcome == "pass", verdict.rules
    assert _rule(verdict, "no_new_signatures")["measured"] == "0 new"
    assert _rule(verdict, "goal")["measured"] == "75.0 %"
    assert _rule(verdict, "max_failed")["outcome"] == "pass"


def test_pass_rate_below_goal_and_too_many_failures_fail(suite, cases, revisions):
    GatePolicy.objects.create(
        service=suite.service, goal="pass_rate", goal_pass_rate=80, max_failed=0
    )
    run = make_run(
        suite,
        {cases[0]: "error", cases[1]: "passed", cases[2]: "passed", cases[3]: "passed"},
        revision=revisions[0],
    )

    verdict = gate_evaluate(run=run)

    assert verdict is not None and verdict.outcome == "fail"
    assert _rule(verdict, "goal") | {"evidence": []} == {
        "key": "goal",
        "name": "Pass rate",
        "measured": "75.0 %",
        "threshold": "≥ 80.0 %",
        "outcome": "fail",
        "note": "",
        "evidence": [],
    }
    assert _rule(verdict, "max_failed")["measured"] == "1"
    assert _rule(verdict, "max_failed")["outcome"] == "fail"


def test_too_few_tests_is_inconclusive_never_a_pass(suite, cases, revisions):
    # The suite means to have 40 tests (target_test_count); 4 ran: 10 %.
    GatePolicy.objects.create(service=suite.service, min_tests=2, min_tests_percent=50)
    run = make_run(suite, dict.fromkeys(cases, "passed"), revision=revisions[0])

    verdict = gate_evaluate(run=run)

    assert verdict is not None and verdict.outcome == "inconclusive"
    assert _rule(verdict, "min_tests")["outcome"] == "pass"
    rule = _rule(verdict, "min_tests_percent")
    assert rule["outcome"] == "inconclusive"
    assert rule["measured"] == "10.0 % (4 of 40)" and rule["threshold"] == "≥ 50.0 %"


def test_no_tests_executed_is_inconclusive(suite, cases, revisions):
    run = make_run(suite, dict.fromkeys(cases, "skipped"), revision=revisions[0])

    verdict = gate_evaluate(run=run)

    assert verdict is not None and verdict.outcome == "inconclusive"
    assert _rule(verdict, "min_tests")["outcome"] == "inconclusive"
    assert _rule(verdict, "goal")["outcome"] == "inconclusive"


def test_a_run_that_errored_is_inconclusive(suite, cases, revisions):
    make_run(suite, dict.fromkeys(cases, "passed"), revision=revisions[0])
    run = make_run(suite, {}, revision=revisions[1], status="error")

    verdict = gate_evaluate(run=run)

    assert verdict is not None and verdict.outcome == "inconclusive"
    assert _rule(verdict, "run_finished")["measured"] == "error"
    assert {r["outcome"] for r in verdict.rules if r["key"] != "no_open_incident"} == {
        "inconclusive"
    }


def test_suite_policy_wins_and_dry_run_is_stored(suite, cases, revisions):
    GatePolicy.objects.create(service=suite.service, min_tests=100)
    own = GatePolicy.objects.create(service=suite.service, suite=suite, dry_run=True)
    run = make_run(suite, dict.fromkeys(cases, "passed"), revision=revisions[0])

    verdict = gate_evaluate(run=run)

    assert verdict is not None and verdict.outcome == "pass"
    assert verdict.policy == own and verdict.dry_run is True


def test_an_open_incident_fails(suite, cases, revisions):
    from health.models import Incident, Probe

    probe = Probe.objects.create(service=suite.service, name="health", url="http://x/healthz")
    Incident.objects.create(
        probe=probe, service=suite.service, opened_at=timezone.now(), first_error="503"
    )
    run = make_run(suite, dict.fromkeys(cases, "passed"), revision=revisions[0])

    verdict = gate_evaluate(run=run)

    assert verdict is not None and verdict.outcome == "fail"
    rule = _rule(verdict, "no_open_incident")
    assert rule["measured"] == "1 open" and rule["note"] == "503"
    assert rule["evidence"][0]["url"] == f"/services/{suite.service.name}/health/"


def test_once_per_run_and_no_revision_no_verdict(suite, cases, revisions):
    run = make_run(suite, dict.fromkeys(cases, "passed"), revision=revisions[0])
    first = gate_evaluate(run=run)
    assert gate_evaluate(run=run) == first
    assert Verdict.objects.count() == 1
    assert gate_evaluate(run=make_run(suite, dict.fromkeys(cases, "passed"))) is None


def test_a_failing_evaluation_is_noted_never_raised(suite, cases, revisions, monkeypatch):
    from runs.services import gates

    monkeypatch.setattr(gates, "_rules", lambda run, policy: 1 / 0)
    run = make_run(suite, dict.fromkeys(cases, "passed"), revision=revisions[0])

    assert gate_evaluate_safely(run=run) is None
    assert "The gate evaluation failed" in TestRun.objects.get(pk=run.pk).warnings[-1]


def _probed(revision, latencies: list[float], ok: int):
    from datetime import timedelta

    from health import sketch
    from health.models import Probe, ProbeRollupMinute

    probe = Probe.objects.create(service=revision.service, name="health", path="/healthz")
    ProbeRollupMinute.objects.create(
        probe=probe,
        revision=revision,
        bucket_start=(timezone.now() - timedelta(minutes=2)).replace(second=0, microsecond=0),
        count=len(latencies),
        ok_count=ok,
        latency_sum=sum(latencies),
        latency_min=min(latencies),
        latency_max=max(latencies),
        sketch=sketch.from_latencies(latencies),
    )


def test_probe_thresholds_on_the_revision(suite, cases, revisions):
    GatePolicy.objects.create(
        service=suite.service, max_probe_error_percent=5, max_probe_p95_ms=200
    )
    # 20 checks, 2 failed (10 %); 19 fast and one slow: p95 of the sketch is about 40 ms.
    _probed(revisions[0], [40.0] * 19 + [900.0], ok=18)
    run = make_run(suite, dict.fromkeys(cases, "passed"), revision=revisions[0])

    verdict = gate_evaluate(run=run)

    assert verdict is not None and verdict.outcome == "fail"
    error = _rule(verdict, "probe_error_rate")
    assert (error["measured"], error["threshold"], error["outcome"]) == (
        "10.00 %",
        "≤ 5.00 %",
        "fail",
    )
    p95 = _rule(verdict, "probe_p95")
    assert p95["outcome"] == "pass" and p95["threshold"] == "≤ 200 ms"
    assert p95["evidence"][0]["url"] == f"/services/{suite.service.name}/health/"


def test_no_probe_checks_is_inconclusive(suite, cases, revisions):
    GatePolicy.objects.create(service=suite.service, max_probe_p95_ms=200)
    run = make_run(suite, dict.fromkeys(cases, "passed"), revision=revisions[0])

    verdict = gate_evaluate(run=run)

    assert verdict is not None and verdict.outcome == "inconclusive"
    assert _rule(verdict, "probe_p95")["measured"].startswith("no probe checked")
