"""The release gate's before-traffic stage: judge a revision on the evidence of one run.

Each rule gives pass, fail, inconclusive (not enough evidence to judge) or not_applicable (it
compares with a baseline and the service has none yet: its first revision); a note (quarantined
failures, not counted) never blocks. The goal and max_failed rules count blocking failures only:
failed and errored results minus those of tests quarantined when the run was imported.
The verdict is fail when any rule fails; else inconclusive when any rule is inconclusive
(not enough data is never a pass); else pass. A run that did not finish with results (error,
cancelled, lost) is inconclusive: it says nothing about the revision. Probe thresholds read the
revision's health over the last 15 minutes of probe checks (the health page's window); no checks
is inconclusive.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

from django.db import IntegrityError, transaction
from django.urls import reverse

from runs.health_seam import revision_health, slo_statuses
from runs.integrations_seam import verdict_made
from runs.models import GatePolicy, TestRun, Verdict
from runs.selectors.gates import (
    earlier_revision_tested,
    gate_policy_for,
    run_new_signatures,
    run_quarantined_failures,
    service_open_incidents,
    suite_known_test_count,
    suite_quarantined_count,
)

logger = logging.getLogger(__name__)

PASS, FAIL, INCONCLUSIVE, NOT_APPLICABLE = "pass", "fail", "inconclusive", "not_applicable"
NOTE = "note"  # reported with the verdict, never blocks it


@dataclass
class Rule:
    key: str
    name: str
    measured: str
    threshold: str
    outcome: str
    note: str = ""
    evidence: list[dict[str, str]] = field(default_factory=list)


def _percent(value: float) -> str:
    return f"{value:.1f} %"


def gate_evaluate(*, run: TestRun) -> Verdict | None:
    """Store and return the before-traffic verdict of the run's revision on this run's
    evidence; None when the run has no revision. Once per run: a second call returns the first
    verdict."""
    if run.revision_id is None:
        return None
    existing = Verdict.objects.filter(run_id=run.pk, stage="before_traffic").first()
    if existing is not None:
        return existing
    run = TestRun.objects.select_related("revision__service", "suite").get(pk=run.pk)
    assert run.revision is not None
    policy = gate_policy_for(service_id=run.service_id, suite_id=run.suite_id)
    rules = _rules(run, policy)
    outcomes = {r.outcome for r in rules}
    if FAIL in outcomes:
        outcome = Verdict.Outcome.FAIL
    elif INCONCLUSIVE in outcomes:
        outcome = Verdict.Outcome.INCONCLUSIVE
    else:
        outcome = Verdict.Outcome.PASS
    blocking = [r.name for r in rules if r.outcome in (FAIL, INCONCLUSIVE)]
    summary = (
        f"All rules pass on run #{run.pk}."
        if outcome == Verdict.Outcome.PASS
        else f"{outcome.label} on run #{run.pk}: " + "; ".join(blocking) + "."
    )
    try:
        with transaction.atomic():
            verdict = Verdict.objects.create(
                revision=run.revision,
                run=run,
                policy=policy if policy.pk else None,
                outcome=outcome,
                summary=summary[:500],
                dry_run=policy.dry_run,
                rules=[asdict(r) for r in rules],
            )
            verdict_made(verdict=verdict)  # webhooks: gate.failed
            return verdict
    except IntegrityError:  # a concurrent evaluation of the same run won
        return Verdict.objects.get(run_id=run.pk, stage="before_traffic")


def gate_evaluate_safely(*, run: TestRun) -> Verdict | None:
    """gate_evaluate, but a failure is logged and noted on the run, never raised."""
    try:
        return gate_evaluate(run=run)
    except Exception as exc:
        logger.exception("run %s: the gate evaluation failed", run.pk)
        warnings = [*run.warnings, f"The gate evaluation failed ({exc!r})."]
        TestRun.objects.filter(pk=run.pk).update(warnings=warnings)
        return None


def gate_evaluate_run(*, run_id: int) -> Verdict | None:
    """gate_evaluate_safely for the run with this id (the analyze task after an upload)."""
    run = TestRun.objects.filter(pk=run_id).first()
    return gate_evaluate_safely(run=run) if run is not None else None


def _rules(run: TestRun, policy: GatePolicy) -> list[Rule]:
    run_url = run.get_absolute_url()
    run_link = [{"label": f"run #{run.pk}", "url": run_url}]
    finished = run.status in (TestRun.Status.PASSED, TestRun.Status.FAILED)
    rules = [
        Rule(
            key="run_finished",
            name="The run finished with results",
            measured=run.status,
            threshold="passed or failed",
            outcome=PASS if finished else INCONCLUSIVE,
            note="" if finished else "A run that did not finish is no evidence.",
            evidence=run_link,
        )
    ]
    executed = run.passed + run.failed + run.errors
    quarantined = run.quarantined_failures
    bad = run.blocking_failures
    counted = executed - quarantined  # a quarantined failure is neither passed nor failed
    not_counted = f" ({_quarantined_text(quarantined)}, not counted)" if quarantined else ""
    unjudged = INCONCLUSIVE if not finished else None

    rules.append(
        Rule(
            key="min_tests",
            name="Tests executed",
            measured=str(executed),
            threshold=f"≥ {policy.min_tests}",
            outcome=unjudged or (PASS if executed >= policy.min_tests else INCONCLUSIVE),
            evidence=run_link,
        )
    )
    if policy.min_tests_percent is not None:
        known = suite_known_test_count(suite_id=run.suite_id, target=run.suite.target_test_count)
        share = 100.0 * executed / known if known else 0.0
        rules.append(
            Rule(
                key="min_tests_percent",
                name="Share of the suite executed",
                measured=f"{_percent(share)} ({executed} of {known})",
                threshold=f"≥ {_percent(policy.min_tests_percent)}",
                outcome=unjudged
                or (PASS if known and share >= policy.min_tests_percent else INCONCLUSIVE),
                evidence=run_link,
            )
        )
    if policy.goal == GatePolicy.Goal.PASS_RATE:
        rate = 100.0 * run.passed / counted if counted else 0.0
        rules.append(
            Rule(
                key="goal",
                name="Pass rate",
                measured=_percent(rate) + not_counted if counted else "no tests",
                threshold=f"≥ {_percent(policy.goal_pass_rate)}",
                outcome=unjudged
                or (
                    INCONCLUSIVE if not counted else PASS if rate >= policy.goal_pass_rate else FAIL
                ),
                evidence=run_link,
            )
        )
    else:
        rules.append(
            Rule(
                key="goal",
                name="All tests pass",
                measured=f"{bad} failed or errored{not_counted}",
                threshold="0 failed or errored",
                outcome=unjudged or (INCONCLUSIVE if not executed else PASS if not bad else FAIL),
                evidence=run_link,
            )
        )
    if policy.max_failed is not None:
        rules.append(
            Rule(
                key="max_failed",
                name="Failed or errored tests",
                measured=f"{bad}{not_counted}",
                threshold=f"≤ {policy.max_failed}",
                outcome=unjudged or (PASS if bad <= policy.max_failed else FAIL),
                evidence=run_link,
            )
        )
    quarantined_rule = _quarantined_rule(run)
    if quarantined_rule is not None:
        rules.append(quarantined_rule)
    if policy.no_new_signatures:
        rules.append(_new_signatures_rule(run, unjudged))
    health_url = reverse("service-health", args=[run.service.name])
    if policy.max_probe_error_percent is not None or policy.max_probe_p95_ms is not None:
        rules += _probe_rules(run, policy, [{"label": "health page", "url": health_url}])
    if policy.no_open_incident:
        incidents = service_open_incidents(service_id=run.service_id)
        rules.append(
            Rule(
                key="no_open_incident",
                name="No open incident",
                measured=f"{len(incidents)} open",
                threshold="0 open",
                outcome=FAIL if incidents else PASS,
                note="; ".join(err[:120] for _, err in incidents[:3]),
                evidence=[{"label": "health page", "url": health_url}],
            )
        )
    if policy.no_exhausted_error_budget:
        rules.append(_error_budget_rule(run, health_url))
    return rules


def _error_budget_rule(run: TestRun, health_url: str) -> Rule:
    """Fail while an SLO of the service has spent its error budget; no SLO (or no events in
    any window yet) is nothing to refuse on."""
    statuses = slo_statuses([run.service_id])[run.service_id]
    spent = [s for s in statuses if s.exhausted]
    judged = [s for s in statuses if s.budget_remaining_percent is not None]
    lowest = min(judged, key=lambda s: s.budget_remaining, default=None)
    slos_url = reverse("service-slos", args=[run.service.name])
    if lowest is None:
        measured = "no SLO with data" if statuses else "no SLO"
    else:
        measured = (
            f"{len(spent)} of {len(statuses)} spent; lowest {lowest.slo.name}: "
            f"{lowest.budget_remaining_percent:.1f} % left"
        )
    return Rule(
        key="error_budget",
        name="No spent error budget",
        measured=measured,
        threshold="every SLO > 0 % of its budget left",
        outcome=FAIL if spent else PASS,
        note="; ".join(
            f"{s.slo.name}: {s.budget_consumed} bad of {s.budget_total:.1f} allowed over "
            f"{s.slo.window_days} days"
            for s in spent[:3]
        ),
        evidence=[{"label": "SLOs", "url": slos_url}, {"label": "health page", "url": health_url}],
    )


def _quarantined_text(count: int) -> str:
    return f"{count} quarantined failure{'s' if count != 1 else ''}"


def _quarantined_rule(run: TestRun) -> Rule | None:
    """A note, never blocking: the run's quarantined failures (not counted) and the suite's
    quarantined tests, a risk to the release; None when there are neither."""
    in_suite = suite_quarantined_count(suite_id=run.suite_id)
    if not run.quarantined_failures and not in_suite:
        return None
    failures = run_quarantined_failures(run=run)
    return Rule(
        key="quarantined",
        name="Quarantined failures (not counted)",
        measured=f"{_quarantined_text(run.quarantined_failures)} (not counted)",
        threshold="reported, never blocking",
        outcome=NOTE,
        note=f"Risk: {in_suite} test{'s' if in_suite != 1 else ''} of the suite "
        f"{'are' if in_suite != 1 else 'is'} quarantined; a quarantined test proves nothing.",
        evidence=[{"label": f.name[:60], "url": f.url} for f in failures],
    )


def _probe_rules(run: TestRun, policy: GatePolicy, evidence: list[dict[str, str]]) -> list[Rule]:
    assert run.revision is not None
    health = revision_health(run.revision)
    none = "no probe checked this revision in the last 15 minutes"
    rules = []
    if policy.max_probe_error_percent is not None:
        error = None if health.uptime is None else 100.0 * (1 - health.uptime)
        rules.append(
            Rule(
                key="probe_error_rate",
                name="Probe error rate",
                measured=none if error is None else f"{error:.2f} %",
                threshold=f"≤ {policy.max_probe_error_percent:.2f} %",
                outcome=INCONCLUSIVE
                if error is None
                else PASS
                if error <= policy.max_probe_error_percent
                else FAIL,
                evidence=evidence,
            )
        )
    if policy.max_probe_p95_ms is not None:
        p95 = health.p95_ms
        rules.append(
            Rule(
                key="probe_p95",
                name="Probe p95 latency",
                measured=none if p95 is None else f"{p95:.0f} ms",
                threshold=f"≤ {policy.max_probe_p95_ms} ms",
                outcome=INCONCLUSIVE
                if p95 is None
                else PASS
                if p95 <= policy.max_probe_p95_ms
                else FAIL,
                evidence=evidence,
            )
        )
    return rules


def _new_signatures_rule(run: TestRun, unjudged: str | None) -> Rule:
    name = "No new failure signature"
    assert run.revision is not None
    if not earlier_revision_tested(revision=run.revision, suite_id=run.suite_id):
        return Rule(
            key="no_new_signatures",
            name=name,
            measured="no baseline",
            threshold="0 new",
            outcome=NOT_APPLICABLE,
            note="No earlier revision of the service ran this suite: nothing to compare with.",
        )
    if unjudged:
        return Rule(
            key="no_new_signatures",
            name=name,
            measured="—",
            threshold="0 new",
            outcome=unjudged,
        )
    new = run_new_signatures(run=run)
    return Rule(
        key="no_new_signatures",
        name=name,
        measured=f"{len(new)} new",
        threshold="0 new",
        outcome=FAIL if new else PASS,
        note="; ".join(s.normalized[:120] for s in new[:3]),
        evidence=[{"label": s.normalized[:60], "url": s.case_url} for s in new[:20]],
    )
