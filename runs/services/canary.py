"""The gate's canary stage: one step's verdict, from probe samples of the candidate and of the
stable revision taken over the step (runs.canary_stats does the statistics)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import reverse

from runs.canary_stats import Comparison, error_comparison, latency_comparison
from runs.models import GatePolicy, Revision, TestRun, Verdict
from runs.services.gates import FAIL, INCONCLUSIVE, NOT_APPLICABLE, PASS, Rule


def canary_verdict(
    *,
    run: TestRun | None,
    candidate: Revision,
    stable: Revision,
    percent: int,
    samples: dict[int, Any],
    policy: GatePolicy | None,
    dry_run: bool,
) -> Verdict:
    """Store and return the verdict of the canary step at ``percent``: the candidate's probe
    latency and error rate against the stable revision's over the step."""
    policy = policy or GatePolicy(service_id=candidate.service_id)
    cand, base = samples.get(candidate.pk), samples.get(stable.pk)
    evidence = [
        {
            "label": "health page",
            "url": reverse("service-health", args=[candidate.service.name]),
        }
    ]
    latency = latency_comparison(
        list(cand.latencies_ms) if cand else [],
        list(base.latencies_ms) if base else [],
        margin_ms=policy.canary_latency_margin_ms,
        alpha=policy.canary_alpha,
        min_samples=policy.canary_min_samples,
    )
    errors = error_comparison(
        cand.errors if cand else 0,
        cand.total if cand else 0,
        base.errors if base else 0,
        base.total if base else 0,
        margin_percent=policy.canary_error_margin_percent,
        alpha=policy.canary_alpha,
        min_samples=policy.canary_min_samples,
    )
    rules = [
        _rule("canary_latency", "Probe latency against the stable revision", latency, evidence),
        _rule("canary_errors", "Probe error rate against the stable revision", errors, evidence),
    ]
    outcomes = {r.outcome for r in rules}
    outcome = (
        Verdict.Outcome.FAIL
        if FAIL in outcomes
        else Verdict.Outcome.INCONCLUSIVE
        if INCONCLUSIVE in outcomes
        else Verdict.Outcome.PASS
    )
    if outcome == Verdict.Outcome.PASS:
        summary = f"The candidate holds up against {stable.name} at {percent} %."
    else:
        summary = f"{outcome.label} at {percent} %: " + "; ".join(
            f"{r.name.lower()}: {r.measured}" for r in rules if r.outcome != PASS
        )
    if dry_run and outcome != Verdict.Outcome.PASS:
        summary = f"Dry run, not acted on. {summary}"
    stage = f"canary_{percent}"
    try:
        with transaction.atomic():
            return Verdict.objects.create(
                revision=candidate,
                run=run,
                policy=policy if policy.pk else None,
                stage=stage,
                outcome=outcome,
                summary=summary[:500],
                dry_run=dry_run,
                rules=[asdict(r) for r in rules],
            )
    except IntegrityError:  # the same run's step judged twice (a retried chain): keep the first
        return Verdict.objects.get(run=run, stage=stage)


def canary_not_applicable(*, run: TestRun | None, candidate: Revision, dry_run: bool) -> Verdict:
    """The canary stage of a service's first revision: no stable revision to compare with, so
    both comparisons are not applicable and do not block (stored, as every stage is)."""
    rules = [
        Rule(
            key=key,
            name=name,
            measured="no stable revision",
            threshold="—",
            outcome=NOT_APPLICABLE,
            note="The service's first revision: nothing serves to compare it with.",
        )
        for key, name in (
            ("canary_latency", "Probe latency against the stable revision"),
            ("canary_errors", "Probe error rate against the stable revision"),
        )
    ]
    stage = "canary"
    try:
        with transaction.atomic():
            return Verdict.objects.create(
                revision=candidate,
                run=run,
                stage=stage,
                outcome=Verdict.Outcome.PASS,
                summary="No stable revision to compare with (the service's first): not "
                "applicable, it does not block.",
                dry_run=dry_run,
                rules=[asdict(r) for r in rules],
            )
    except IntegrityError:
        return Verdict.objects.get(run=run, stage=stage)


def _rule(key: str, name: str, c: Comparison, evidence: list[dict[str, str]]) -> Rule:
    outcome = {"pass": PASS, "fail": FAIL}.get(c.outcome, INCONCLUSIVE)
    return Rule(
        key=key,
        name=name,
        measured=c.measured,
        threshold=c.threshold,
        outcome=outcome,
        note=c.note,
        evidence=evidence,
    )
