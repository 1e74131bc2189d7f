"""Capabilities: the mapped tests of each, the latest result of each test, a status, and the
tests behind a status that is not green; the risks are those tests, most recent first."""

from __future__ import annotations

from django.db.models import BigIntegerField, Case, Count, F, Max, OuterRef, Q, Subquery, Sum, When
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from reports.figures import BehindTest, CapabilityStatus, Risk
from reports.models import Capability, CapabilityCase, CapabilityTally
from reports.patterns import PatternError, patterns_q
from reports.scope import Scope
from runs.models import CaseBehind, Suite, TestCase, TestResult, TestRun

MAX_BEHIND = 50
FAILING = ("failed", "error")
TALLIED = ("mapped", "ran", "passing", "failing", "flaky", "skipped")


def _latest(scope: Scope):
    """Results up to the period's end, newest run first: one short index scan per test on
    ``(case, -run)``, started at the newest run before the end so later runs are never read.
    Read only for tests the read model cannot answer (see mapped_cases)."""
    cutoff = TestRun.objects.filter(created_at__lt=scope.end_dt).aggregate(last=Max("pk"))["last"]
    results = TestResult.objects.filter(case=OuterRef("pk"), run_id__lte=cutoff or 0)
    # The id bound is a fast start; the time bound keeps the answer exact if ids and times differ.
    return results.filter(run__created_at__lt=scope.end_dt).order_by("-run_id")


def _matching(capability: Capability):
    """The tests a capability's patterns match (raises PatternError for unreadable patterns).

    From the read model (reports.CapabilityCase) when its rows were built for these patterns:
    the mapped tests, joined (PostgreSQL picks index probes for a small capability and a hash
    join for one of a quarter of all tests), and, while an import's tests wait for their
    search indexing task to map them (one query on their partial index says whether any
    match), those too: then the union of both, by id. Otherwise (patterns written without
    reports.services, such as from a shell) every test is matched, as before."""
    return _matching_mapped(capability)[0]


def _matching_mapped(capability: Capability):
    """_matching's tests, and whether they are exactly the read model's rows (no match pending)."""
    matches = patterns_q(capability.patterns)
    if capability.mapped_patterns != capability.patterns:
        return TestCase.objects.filter(matches), False
    pending = TestCase.objects.filter(matches, search_pending=True)
    if not pending.exists():
        return TestCase.objects.filter(capability_rows__capability_id=capability.pk), True
    mapped = CapabilityCase.objects.filter(capability_id=capability.pk).values("case_id")
    return TestCase.objects.filter(pk__in=mapped.union(pending.values("pk"), all=True)), False


def _in_scope(queryset, capability: Capability, scope: Scope, field: str):
    """Rows of the services in scope and, if the capability names services, of those."""
    queryset = scope.filter(queryset, field)
    service_ids = [s.pk for s in capability.services.all()]
    if service_ids:
        queryset = queryset.filter(**{f"{field}__in": service_ids})
    return queryset


def _cases(capability: Capability, scope: Scope):
    """The tests a capability maps to, in scope (raises PatternError for unreadable patterns)."""
    return _in_scope(_matching(capability), capability, scope, "suite__service")


def _tallied(capability: Capability, scope: Scope, mapped: bool) -> dict | None:
    """The counts from the tallies (reports.CapabilityTally), or None when they cannot answer:
    a period that ends before now (the latest results may be later than its end), or tests
    not (yet) in the read model. One query."""
    if not mapped or scope.end_dt <= timezone.now():
        return None
    rows = CapabilityTally.objects.filter(capability_id=capability.pk)
    rows = _in_scope(rows, capability, scope, "suite__service")
    c = rows.aggregate(**{name: Coalesce(Sum(name), 0) for name in TALLIED})
    c["latest"] = c.pop("ran")
    return c


def _fresh(scope: Scope) -> Q:
    """Tests whose read-model row (runs.CaseLatest: the latest result by run id) is the answer:
    its run started before the period's end, so no later result up to the end can exist."""
    return Q(latest_result__run_at__lt=scope.end_dt)


def _stale(scope: Scope) -> Q:
    """The others: never run, or run again since the period's end (then read the results)."""
    return Q(latest_result__isnull=True) | Q(latest_result__run_at__gte=scope.end_dt)


def _latest_id(scope: Scope) -> Case:
    """A test's latest result's pk up to the period's end (None: never run): the read model
    answers the tests run before the end; the results, only the others."""
    return Case(
        When(_fresh(scope), then=F("latest_result__result_id")),
        default=Subquery(_latest(scope).values("pk")[:1]),
        output_field=BigIntegerField(),
    )


def mapped_cases(capability: Capability, scope: Scope):
    """The tests a capability maps to (in scope), each with ``latest_id``: the pk of its latest
    result up to the period's end (None: never run)."""
    return _cases(capability, scope).annotate(latest_id=_latest_id(scope))


def mapped_case_ids(capability: Capability, scope: Scope):
    """The pks of the tests a capability maps to, in scope (no results read)."""
    return _cases(capability, scope).values("pk")


PASSING = Q(outcome="passed") & ~Q(flaky=True)


def _behind_outcome(outcome: str, flaky: bool) -> str:
    return "flaky" if outcome == "passed" and flaky else outcome


def _counts(rows, prefix: str = "", where: Q | None = None, **extra) -> dict:
    """Counts by outcome over result-like rows (TestResult, or CaseLatest through `prefix`),
    of the rows `where` holds for; `extra` are more counts to take in the same query."""

    def q(**kwargs) -> Q:
        found = Q(**{f"{prefix}{k}": v for k, v in kwargs.items()})
        return found & where if where is not None else found

    return rows.aggregate(
        latest=Count("pk", filter=where),
        passing=Count("pk", filter=q(outcome="passed") & ~Q(**{f"{prefix}flaky": True})),
        failing=Count("pk", filter=q(outcome__in=FAILING)),
        flaky=Count("pk", filter=q(outcome="passed", flaky=True)),
        skipped=Count("pk", filter=q(outcome="skipped")),
        **extra,
    )


def _invalid(capability: Capability, exc: PatternError) -> CapabilityStatus:
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


def _behind(at, run_id, case_id, key, outcome, flaky) -> BehindTest:
    return BehindTest(
        case_id=case_id,
        key=key,
        outcome=_behind_outcome(outcome, flaky),
        run_id=run_id,
        at=at,
        url=reverse("test-detail", args=[case_id]),
    )


def _behind_fresh(capability: Capability, scope: Scope, fresh, *, tallied: bool) -> list[tuple]:
    """(at, run id, test id, key, outcome, flaky) of the newest MAX_BEHIND tests whose latest
    result (in the read model, before the period's end) is not a clean pass. When the tallies
    answered, every test is mapped: read from runs.CaseBehind (those few percent of the tests,
    newest first, each probed against the capability's rows); else from all `fresh` tests."""
    if tallied:
        behind = CaseBehind.objects.filter(
            case__capability_rows__capability_id=capability.pk, run_at__lt=scope.end_dt
        )
        # By the row's own suite, so rows of other services are never probed further.
        suites = _in_scope(Suite.objects.all(), capability, scope, "service")
        if suites.query.where:
            behind = behind.filter(suite_id__in=suites.values("pk"))
        fields = ("case_id", "case__key", "outcome", "flaky", "run_id", "run_at")
        order = ("-run_at", "case__key")
    else:
        not_passing = ~Q(latest_result__outcome="passed") | Q(latest_result__flaky=True)
        behind = fresh.filter(not_passing)
        fields = (
            "pk",
            "key",
            "latest_result__outcome",
            "latest_result__flaky",
            "latest_result__run_id",
            "latest_result__run_at",
        )
        order = ("-latest_result__run_at", "key")
    return [
        (at, run_id, case_id, key, outcome, flaky)
        for case_id, key, outcome, flaky, run_id, at in behind.order_by(*order).values_list(
            *fields
        )[:MAX_BEHIND]
    ]


def capability_status(capability: Capability, scope: Scope) -> CapabilityStatus:
    """At most eight queries whatever the data holds: whether an import's tests matching the
    patterns still wait to be mapped (see _matching); counts by outcome over the mapped tests'
    latest results from the read model (runs.CaseLatest) and how many it cannot answer (never
    run, or run again since the period's end) — for a period that ends after now and tests
    all mapped, those counts were kept at ingest (reports.CapabilityTally) and are added up
    instead; only when there are such tests, their latest results read as before; and the
    tests behind a status that is not green (failing or flaky first, then never run).

    Patterns stored without the form's validation (a shell, a data migration) that cannot be
    read give the status "invalid" with the reason, and map no tests."""
    try:
        matching, mapped = _matching_mapped(capability)
    except PatternError as exc:
        return _invalid(capability, exc)
    cases = _in_scope(matching, capability, scope, "suite__service")
    fresh = cases.filter(_fresh(scope))
    tallied = _tallied(capability, scope, mapped)
    stale: list[tuple[int, int | None]] = []
    if tallied is not None:  # the read model's rows counted at ingest: no test counted here
        c = tallied
        total = c.pop("mapped")
        has_stale = total > c["latest"]  # tests without a row (never run, as a rule)
    else:
        # One pass over the mapped tests counts both the read model's answers and the others.
        c = _counts(
            cases,
            prefix="latest_result__",
            where=_fresh(scope),
            stale=Count("pk", filter=_stale(scope)),
        )
        has_stale = c.pop("stale")  # with an up-to-date read model: the never-run tests, or none
    if has_stale:
        stale = list(
            cases.filter(_stale(scope))
            .annotate(latest_id=Subquery(_latest(scope).values("pk")[:1]))
            .values_list("pk", "latest_id")
        )
    stale_ids = [latest for _, latest in stale if latest is not None]
    stale_results = TestResult.objects.filter(pk__in=stale_ids)
    if stale_ids:
        for name, count in _counts(stale_results).items():
            c[name] += count
    ran = c.pop("latest")
    if tallied is None:
        total = ran + len(stale) - len(stale_ids)
    c["total"] = total
    c["not_run"] = total - ran
    rows = _behind_fresh(capability, scope, fresh, tallied=tallied is not None)
    rows += [
        (r.run.created_at, r.run_id, r.case_id, r.case.key, r.outcome, r.flaky)
        for r in stale_results.exclude(PASSING)
        .select_related("case", "run")
        .order_by("-run__created_at", "case__key")[:MAX_BEHIND]
    ]
    # Newest first, then by key, as one list over both sources would be.
    rows.sort(key=lambda row: row[3])
    rows.sort(key=lambda row: row[0], reverse=True)
    behind = [_behind(*row) for row in rows[:MAX_BEHIND]]
    never_run = [pk for pk, latest_id in stale if latest_id is None]
    if never_run and len(behind) < MAX_BEHIND:  # the first by key, as the list reads
        first = TestCase.objects.filter(pk__in=never_run).order_by("key")
        behind += [
            _behind(None, None, case.pk, case.key, "not run", False)
            for case in first[: MAX_BEHIND - len(behind)]
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
    """At most eight queries per capability (configuration, not data, sets how many there are)."""
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
        matching, mapped = _matching_mapped(capability)
    except PatternError:
        return []
    if mapped:  # the first by key from the capability's own rows (their index), then those
        rows = CapabilityCase.objects.filter(capability_id=capability.pk)
        suites = _in_scope(Suite.objects.all(), capability, scope, "service")
        if suites.query.where:
            rows = rows.filter(suite_id__in=suites.values("pk"))
        ids = list(rows.order_by("key", "case_id").values_list("case_id", flat=True)[:limit])
        found = TestCase.objects.filter(pk__in=ids).annotate(latest_id=_latest_id(scope))
        by_id = {case.pk: case for case in found.select_related("suite__service")}
        cases = [by_id[pk] for pk in ids if pk in by_id]
    else:
        cases = list(
            _in_scope(matching, capability, scope, "suite__service")
            .annotate(latest_id=_latest_id(scope))
            .select_related("suite__service")
            .order_by("key", "pk")[:limit]
        )
    results = TestResult.objects.in_bulk([c.latest_id for c in cases if c.latest_id])
    return [(case, results.get(case.latest_id)) for case in cases]
