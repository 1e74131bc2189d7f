"""Reads of the release gate: the policy that applies, the evidence its rules weigh, verdicts."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.urls import reverse

from runs.models import (
    GatePolicy,
    Revision,
    Service,
    State,
    TestCase,
    TestResult,
    TestRun,
    TestState,
    Verdict,
)


def gate_policy_for(*, service_id: int, suite_id: int) -> GatePolicy:
    """The suite's own policy, else the service's, else the defaults (an unsaved row)."""
    policies = {
        p.suite_id: p
        for p in GatePolicy.objects.filter(service_id=service_id).filter(
            Q(suite_id=suite_id) | Q(suite__isnull=True)
        )
    }
    return policies.get(suite_id) or policies.get(None) or GatePolicy(service_id=service_id)


def revision_verdict(*, revision: Revision) -> Verdict | None:
    """The revision's latest verdict."""
    return Verdict.objects.filter(revision=revision).select_related("run", "policy").first()


def promote_needs_reason(*, revision: Revision) -> str:
    """Why promoting ``revision`` overrides the gate ('' when its latest verdict passed)."""
    verdict = revision_verdict(revision=revision)
    if verdict is None:
        return f"revision {revision.name} has no gate verdict"
    if verdict.outcome != Verdict.Outcome.PASS:
        return f"its latest gate verdict (#{verdict.pk}) is {verdict.outcome}"
    return ""


def revision_release_verdicts(*, revision: Revision) -> tuple[Verdict | None, list[Verdict]]:
    """The revision's latest before-traffic verdict, and the canary steps' verdicts judged after
    it (oldest first)."""
    verdicts = list(Verdict.objects.filter(revision=revision).select_related("run", "policy")[:50])
    before = next((v for v in verdicts if v.stage == "before_traffic"), None)
    steps = [
        v
        for v in reversed(verdicts)
        if v.stage.startswith("canary") and (before is None or v.created_at >= before.created_at)
    ]
    return before, steps


def suite_known_test_count(*, suite_id: int, target: int | None) -> int:
    """The suite's size: its target test count when the team set one, else the tests it ran."""
    if target:
        return target
    return TestCase.objects.filter(suite_id=suite_id).count()


def earlier_revision_tested(*, revision: Revision, suite_id: int) -> bool:
    """Whether an earlier revision of the service has a finished run of this suite: a baseline."""
    return (
        TestRun.objects.filter(
            suite_id=suite_id,
            revision__service_id=revision.service_id,
            status__in=(TestRun.Status.PASSED, TestRun.Status.FAILED),
        )
        .filter(
            Q(revision__created_at__lt=revision.created_at)
            | Q(revision__created_at=revision.created_at, revision_id__lt=revision.pk)
        )
        .exists()
    )


@dataclass(frozen=True)
class NewSignature:
    id: int
    normalized: str
    case_url: str


def run_new_signatures(*, run: TestRun) -> list[NewSignature]:
    """Failure signatures of the run never seen in a run of its suite on another revision."""
    results = (
        TestResult.objects.filter(run_id=run.pk, signature__isnull=False)
        .select_related("signature", "case")
        .order_by("signature_id", "case_id")
    )
    first: dict[int, TestResult] = {}
    for result in results:
        first.setdefault(result.signature_id, result)  # type: ignore[arg-type]
    if not first:
        return []
    seen_elsewhere = _signatures_seen_elsewhere(run, list(first))
    return [
        NewSignature(
            id=sid,
            normalized=r.signature.normalized[:200] if r.signature else "",
            case_url=r.case.get_absolute_url(),
        )
        for sid, r in first.items()
        if sid not in seen_elsewhere
    ]


# Up to this many signatures, one probe each that stops at its first result on another revision:
# a failure seen a hundred thousand times costs one index step, not a scan of its results.
PROBED_SIGNATURES = 200


def _signatures_seen_elsewhere(run: TestRun, ids: list[int]) -> set[int]:
    """Which of the run's signatures (a signature belongs to one suite) have a result on
    another revision."""
    assert run.revision_id is not None  # the gate judges runs of a revision
    others = TestResult.objects.exclude(run__revision_id=run.revision_id)
    if len(ids) <= PROBED_SIGNATURES:
        return {sid for sid in ids if others.filter(signature_id=sid).exists()}
    return set(
        others.filter(signature_id__in=ids).values_list("signature_id", flat=True).distinct()
    )


def service_open_incidents(*, service_id: int) -> list[tuple[int, str]]:
    """The service's open incidents (id, first error), newest first, through the reverse
    relation health's Incident declares (runs never imports health's models)."""
    service = Service.objects.get(pk=service_id)
    return list(
        service.incidents.filter(closed_at__isnull=True)
        .order_by("-opened_at")
        .values_list("pk", "first_error")[:10]
    )


@dataclass(frozen=True)
class QuarantinedFailure:
    case_id: int
    name: str
    url: str


def run_quarantined_failures(*, run: TestRun, limit: int = 20) -> list[QuarantinedFailure]:
    """The run's failures of tests quarantined at import time, by test name. One query."""
    rows = (
        TestResult.objects.filter(run_id=run.pk, quarantined=True)
        .order_by("case__name")
        .values_list("case_id", "case__name")[:limit]
    )
    return [
        QuarantinedFailure(case_id, name, reverse("test-detail", args=[case_id]))
        for case_id, name in rows
    ]


def suite_quarantined_count(*, suite_id: int) -> int:
    """How many tests of the suite are quarantined now (an expired quarantine is not)."""
    return TestState.objects.filter(
        TestState.in_force(), suite_id=suite_id, state=State.QUARANTINED
    ).count()
