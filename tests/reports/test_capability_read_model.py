"""The capability statuses read each test's latest result from a read model kept at ingest
(runs.CaseLatest); every figure equals the one the old per-test query over the results gives."""

from __future__ import annotations

import random
from datetime import date

import pytest
from django.db import connection
from django.db.models import Count, Max, OuterRef, Q, Subquery
from django.urls import reverse

from reports.figures import BehindTest, CapabilityStatus
from reports.models import Capability
from reports.patterns import patterns_q
from reports.scope import Scope
from reports.selectors.capabilities import capability_status
from reports.summary import summary_build
from runs.models import CaseBehind, CaseLatest, TestCase, TestResult, TestRun
from runs.services.read_models import case_latest_rebuild, case_latest_repair, case_latest_update
from tests.factories import CaseFactory, ServiceFactory, SuiteFactory

from .conftest import make_run

pytestmark = pytest.mark.django_db

OUTCOMES = [("passed", False)] * 6 + [
    ("passed", True),
    ("failed", False),
    ("error", False),
    ("skipped", False),
]


def _old_status(capability: Capability, scope: Scope) -> CapabilityStatus:
    """The oracle: the status as computed before the read model, one index scan per test into
    the results (reports/selectors/capabilities.py as of issue 17's start)."""
    cutoff = TestRun.objects.filter(created_at__lt=scope.end_dt).aggregate(last=Max("pk"))["last"]
    results = TestResult.objects.filter(case=OuterRef("pk"), run_id__lte=cutoff or 0)
    latest = results.filter(run__created_at__lt=scope.end_dt).order_by("-run_id")
    cases = scope.filter(TestCase.objects.filter(patterns_q(capability.patterns)), "suite__service")
    service_ids = [s.pk for s in capability.services.all()]
    if service_ids:
        cases = cases.filter(suite__service__in=service_ids)
    rows = list(
        cases.annotate(latest_id=Subquery(latest.values("pk")[:1])).values_list("pk", "latest_id")
    )
    latest_ids = [pk for _, pk in rows if pk is not None]
    found = TestResult.objects.filter(pk__in=latest_ids)
    passing = Q(outcome="passed") & ~Q(flaky=True)
    c = found.aggregate(
        passing=Count("pk", filter=passing),
        failing=Count("pk", filter=Q(outcome__in=("failed", "error"))),
        flaky=Count("pk", filter=Q(outcome="passed", flaky=True)),
        skipped=Count("pk", filter=Q(outcome="skipped")),
    )
    c["total"], c["not_run"] = len(rows), len(rows) - len(latest_ids)
    behind = [
        BehindTest(
            case_id=r.case_id,
            key=r.case.key,
            outcome="flaky" if r.outcome == "passed" and r.flaky else r.outcome,
            run_id=r.run_id,
            at=r.run.created_at,
            url=reverse("test-detail", args=[r.case_id]),
        )
        for r in found.exclude(passing)
        .select_related("case", "run")
        .order_by("-run__created_at", "case__key")[:50]
    ]
    never = [pk for pk, latest_id in rows if latest_id is None]  # the first by key, below
    behind += [
        BehindTest(
            case_id=case.pk,
            key=case.key,
            outcome="not run",
            run_id=None,
            at=None,
            url=reverse("test-detail", args=[case.pk]),
        )
        for case in TestCase.objects.filter(pk__in=never).order_by("key")[: 50 - len(behind)]
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


@pytest.fixture
def history(db):
    """Two services' suites, 30 tests each (three never run), eight runs a suite over March
    2030 with random outcomes; a test drops out of some runs. Ids and times disagree once: the
    last run created is dated before the one created just before it."""
    rng = random.Random(17)
    runs, suites = [], []
    for name in ("web", "api"):
        suite = SuiteFactory(service=ServiceFactory(name=name), name="e2e")
        suites.append(suite)
        cases = [
            CaseFactory(suite=suite, key=f"tests/{name}/test_chat.py::test_{n:02d}")
            for n in range(30)
        ]
        for day in (2, 5, 9, 12, 15, 20, 24, 27):
            run = make_run(suite, day, 0, 0)
            TestResult.objects.bulk_create(
                TestResult(run=run, case=case, outcome=outcome, flaky=flaky)
                for case in cases[:27]
                if rng.random() > 0.1
                for outcome, flaky in [rng.choice(OUTCOMES)]
            )
            runs.append(run)
    make_run(suites[0], 19, 0, 0)  # a run without results, created last
    late = runs[-1]
    TestRun.objects.filter(pk=late.pk).update(created_at=runs[-2].created_at.replace(day=8))
    return runs


SCOPES = [
    Scope(start=date(2030, 3, 1), end=date(2030, 3, 31), services=()),  # after every run
    Scope(start=date(2030, 3, 1), end=date(2030, 3, 13), services=()),  # some runs are later
    Scope(start=date(2030, 2, 1), end=date(2030, 2, 28), services=()),  # before every run
]


def _capabilities() -> list[Capability]:
    every = Capability.objects.create(name="Chat", patterns="*test_chat*")
    some = Capability.objects.create(name="Some", patterns="name:test_1*\n!name:test_15")
    web = Capability.objects.create(name="Web only", patterns="*")
    web.services.add(ServiceFactory(name="web-elsewhere"))
    return [every, some, web]


def _assert_behind_mirrors_latest() -> None:
    """runs.CaseBehind holds exactly the latest results that are not clean passes."""
    fields = ("case_id", "suite_id", "run_id", "run_at", "outcome", "flaky")
    not_clean = CaseLatest.objects.filter(~Q(outcome="passed") | Q(flaky=True))
    assert set(CaseBehind.objects.values_list(*fields)) == set(not_clean.values_list(*fields))


def _fold(runs: list[TestRun], seed: int) -> None:
    """The read model as ingest leaves it, the runs imported in a shuffled order."""
    for run in random.Random(seed).sample(runs, len(runs)):
        case_latest_update(run=TestRun.objects.get(pk=run.pk))


@pytest.mark.parametrize("scope", SCOPES, ids=["after-all", "some-later", "before-all"])
def test_every_capability_figure_equals_the_old_per_test_query(history, scope):
    # given the read model folded from every run, imported out of order
    capabilities = _capabilities()
    _fold(history, seed=1)

    # when the statuses are computed, then each equals the old query's, figure by figure
    for capability in capabilities:
        assert capability_status(capability, scope) == _old_status(capability, scope)


def test_the_read_model_holds_each_tests_latest_result_by_run_id(history):
    # given the runs folded in a shuffled order
    _fold(history, seed=2)

    # then each test that ran has one row, pointing at its result in its newest run
    expected = {
        case_id: run_id
        for case_id, run_id in TestResult.objects.values("case_id")
        .annotate(last=Max("run_id"))
        .values_list("case_id", "last")
    }
    rows = dict(CaseLatest.objects.values_list("case_id", "run_id"))
    assert rows == expected
    assert len(rows) == 54  # 2 suites x 27 tests that ever ran
    _assert_behind_mirrors_latest()
    assert CaseBehind.objects.exists()


def test_the_summary_is_the_same_whether_the_read_model_is_full_empty_or_rebuilt(history):
    # given the capabilities and a period that covers every run
    _capabilities()
    scope = SCOPES[0]
    _fold(history, seed=3)
    folded = summary_build(scope=scope)

    # when the read model is emptied (every test read the old way), then rebuilt from results
    CaseLatest.objects.all().delete()
    empty = summary_build(scope=scope)
    case_latest_rebuild()
    rebuilt = summary_build(scope=scope)

    # then the capability statuses and risks are the same each time
    assert folded.capabilities == empty.capabilities == rebuilt.capabilities
    assert folded.risks == empty.risks == rebuilt.risks
    assert CaseLatest.objects.count() == 54


def test_runs_retention_deletes_are_repaired_to_the_latest_remaining_result(history):
    # given the read model, then the newest run of each suite deleted without the ORM (as
    # retention does: results, then runs)
    capabilities = _capabilities()
    _fold(history, seed=4)
    newest = [
        TestRun.objects.filter(suite_id=suite_id).order_by("-pk").values_list("pk", flat=True)[1]
        for suite_id in {run.suite_id for run in history}
    ]
    with connection.cursor() as cursor:
        ids = ", ".join(str(pk) for pk in newest)
        cursor.execute(f"DELETE FROM runs_testresult WHERE run_id IN ({ids})")  # noqa: S608
        cursor.execute(f"DELETE FROM runs_testrun WHERE id IN ({ids})")  # noqa: S608

    # when the suites are repaired
    for suite_id in {run.suite_id for run in history}:
        case_latest_repair(suite_id=suite_id)

    # then no row points at a deleted run, and every figure equals the old query's again
    assert not CaseLatest.objects.filter(run_id__in=newest).exists()
    assert CaseLatest.objects.count() == TestResult.objects.values("case_id").distinct().count()
    _assert_behind_mirrors_latest()
    for scope in SCOPES:
        for capability in capabilities:
            assert capability_status(capability, scope) == _old_status(capability, scope)


def test_a_run_deleted_through_the_orm_takes_its_rows_and_the_old_query_answers(history):
    # given the read model, and the newest run of the first suite deleted in the admin's way
    capabilities = _capabilities()
    _fold(history, seed=5)
    TestRun.objects.filter(pk=history[7].pk).delete()

    # then its rows are gone, and the figures still equal the old query's
    assert not CaseLatest.objects.filter(run_id=history[7].pk).exists()
    for capability in capabilities:
        assert capability_status(capability, SCOPES[0]) == _old_status(capability, SCOPES[0])


def test_folding_a_run_twice_or_an_older_run_later_changes_nothing(history):
    # given the read model folded in order
    for run in history:
        case_latest_update(run=run)
    before = list(CaseLatest.objects.order_by("case_id").values_list())

    # when a run is folded again and an older one after it
    case_latest_update(run=history[-1])
    case_latest_update(run=history[0])

    # then every row is as it was
    assert list(CaseLatest.objects.order_by("case_id").values_list()) == before
    _assert_behind_mirrors_latest()


@pytest.mark.django_db(transaction=True)
def test_a_retention_pass_repairs_the_rows_of_the_runs_it_deletes():
    from runs.models import RetentionPolicy
    from runs.services.retention import retention_pass
    from tests.retention.conftest import NOW
    from tests.retention.conftest import make_run as aged_run

    # given a test that ran only in runs older than the policy keeps, and two that ran since
    suite = SuiteFactory(service=ServiceFactory(name="shop"), name="e2e")
    old = [aged_run(suite, days_ago=days, results=3) for days in (100, 99)]
    new = [aged_run(suite, days_ago=days, results=2) for days in (2, 1)]
    for run in [*old, *new]:
        case_latest_update(run=run)
    RetentionPolicy.objects.create(suite=suite, keep_days=30)

    # when the pass deletes the old runs
    retention_pass(now=NOW)

    # then the rows left are the two tests', at the newest run; the third test has none
    assert dict(CaseLatest.objects.values_list("case__key", "run_id")) == {
        "tests/test_shop.py::test_0": new[1].pk,
        "tests/test_shop.py::test_1": new[1].pk,
    }
