"""Capabilities: the mapped tests of each, the latest result of each test, a status, and the
tests behind a status that is not green; the risks are those tests, most recent first."""

from __future__ import annotations

from django.db.models import Count, Max, OuterRef, Q, Subquery
from django.urls import reverse

from reports.figures import BehindTest, CapabilityStatus, Risk
from reports.models import Capability
from reports.patterns import PatternError, patterns_q
from reports.scope import Scope
from runs.models import TestCase, TestResult, TestRun

MAX_BEHIND = 50
FAILING = ("failed", "error")


def _latest(scope: Scope):
    """Results up to the period's end, newest run first: one short index scan per test on
    ``(case, -run)``, started at the newest run before the end so later runs are never read."""
    cutoff = TestRun.objects.filter(created_at__lt=scope.end_dt).aggregate(last=Max("pk"))["last"]
    results = TestResult.objects.filter(case=OuterRef("pk"), run_id__lte=cutoff or 0)
    # The id bound is a fast start; the time bound keeps the answer exact if ids and times differ.
    return results.filter(run__created_at__lt=scope.end_dt).order_by("-run_id")


def mapped_cases(capability: Capability, scope: Scope):
    """The tests a capability maps to (in scope), each with ``latest_id``: the pk of its latest
    result up to the period's end (None: never run)."""
    cases = TestCase.objects.filter(patterns_q(capability.patterns))
    cases = scope.filter(cases, "suite__service")
    service_ids = [s.pk for s in capability.services.all()]
    if service_ids:
        cases = cases.filter(suite__service__in=service_ids)
    return cases.annotate(latest_id=Subquery(_latest(scope).values("pk")[:1]))


PASSING = Q(outcome="passed") & ~Q(flaky=True)


def _behind_outcome(result: TestResult) -> str:
    return "flaky" if result.outcome == "passed" and result.flaky else result.outcome


def capability_status(capability: Capability, scope: Scope) -> CapabilityStatus:
    """Four queries: the mapped tests' latest result ids, counts by outcome over those results,
    and the tests behind a status that is not green (failing or flaky first, then never run).

    Patterns stored without the form's validation (a shell, a data migration) that cannot be
    read give the status "invalid" with the reason, and map no tests."""
    try:
        rows = list(mapped_cases(capability, scope).values_list("pk", "latest_id"))
    except PatternError as exc:
        return CapabilityStatus(
            pk=capability.pk,
            name=capability.name,
            status="invalid",
            status_text=f"patterns cannot be read: {exc} Fix them on the capability's page.",
            url=capability.get_absolute_url(),
            total=0,
            passing=0,
            failing=0,
            flaky=0,
            skipped=0,
            not_run=0,
        )
    latest_ids = [latest for _, latest in rows if latest is not None]
    latest = TestResult.objects.filter(pk__in=latest_ids)
    c = latest.aggregate(
        passing=Count("pk", filter=PASSING),
        failing=Count("pk", filter=Q(outcome__in=FAILING)),
        flaky=Count("pk", filter=Q(outcome="passed", flaky=True)),
        skipped=Count("pk", filter=Q(outcome="skipped")),
    )
    c["total"], c["not_run"] = len(rows), len(rows) - len(latest_ids)
    behind = [
        BehindTest(
            case_id=r.case_id,
            key=r.case.key,
            outcome=_behind_outcome(r),
            run_id=r.run_id,
            at=r.run.created_at,
            url=reverse("test-detail", args=[r.case_id]),
        )
        for r in latest.exclude(PASSING)
        .select_related("case", "run")
        .order_by("-run__created_at", "case__key")[:MAX_BEHIND]
    ]
    never_run = [pk for pk, latest_id in rows if latest_id is None][: MAX_BEHIND - len(behind)]
    behind += [
        BehindTest(
            case_id=case.pk,
            key=case.key,
            outcome="not run",
            run_id=None,
            at=None,
            url=reverse("test-detail", args=[case.pk]),
        )
        for case in TestCase.objects.filter(pk__in=never_run).order_by("key")
    ]
    if c["total"] == 0:
        status, text = "no_tests", "no tests mapped"
    elif c["failing"]:
        status, text = "failing", f"{c['failing']} of {c['total']} tests failing"
    elif c["passing"] < c["total"]:
        status = "at_risk"
        text = f"{c['total'] - c['passing']} of {c['total']} tests flaky, skipped or not run"
    else:
        status, text = "green", f"all {c['total']} tests passing"
    return CapabilityStatus(
        pk=capability.pk,
        name=capability.name,
        status=status,
        status_text=text,
        url=capability.get_absolute_url(),
        behind=behind,
        **c,
    )


def capability_statuses(scope: Scope) -> list[CapabilityStatus]:
    """Four queries per capability (configuration, not data, sets how many there are)."""
    capabilities = Capability.objects.prefetch_related("services").order_by("position", "name")
    return [capability_status(capability, scope) for capability in capabilities]


def risks(statuses: list[CapabilityStatus]) -> list[Risk]:
    """Failing or flaky tests behind a capability, most recent first, one row per test."""
    by_case: dict[int, tuple[BehindTest, list[str]]] = {}
    for status in statuses:
        for test in status.behind:
            if test.outcome in (*FAILING, "flaky"):
                by_case.setdefault(test.case_id, (test, []))[1].append(status.name)
    rows = [
        Risk(
            key=t.key,
            outcome=t.outcome,
            capabilities=", ".join(names),
            run_id=t.run_id,
            at=t.at,
            url=t.url,
        )
        for t, names in by_case.values()
    ]
    return sorted(rows, key=lambda r: (r.at is not None, r.at), reverse=True)


def mapped_tests(capability: Capability, scope: Scope, *, limit: int = 500) -> list[tuple]:
    """(test, its latest result or None) for the capability's page, by test key; none when the
    stored patterns cannot be read (the page shows why, from capability_status)."""
    try:
        cases = list(
            mapped_cases(capability, scope).select_related("suite").order_by("key")[:limit]
        )
    except PatternError:
        return []
    results = TestResult.objects.in_bulk([c.latest_id for c in cases if c.latest_id])
    return [(case, results.get(case.latest_id)) for case in cases]
