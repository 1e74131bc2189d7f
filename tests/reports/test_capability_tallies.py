"""The summary's counts read model (reports.CapabilityTally): after any sequence of imports,
search indexing, pattern edits, live runs and retention, the tallies equal a recount from the
tests' latest results, and the summary's status of every capability read through them equals
the status counted from the tests as before."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from reports.models import Capability, CapabilityTally
from reports.scope import Scope
from reports.selectors import capabilities as selector
from reports.services.capability_cases import capability_save
from reports.services.capability_tallies import tallies_rebuild
from runs.models import CaseBehind, CaseLatest, TestCase, TestResult, TestRun
from runs.services.case_search import case_search_index
from runs.services.ingest import ReportFile, run_import
from runs.services.retention import retention_pass, retention_policy_set
from tests.factories import ServiceFactory, SuiteFactory
from tests.reports.test_capability_cases import WORDS, _patterns

pytestmark = pytest.mark.django_db

CURRENT = Scope(start=date(2000, 1, 1), end=date(2100, 1, 1), services=())
OUTCOMES = ["", "", "", '<failure message="x"/>', '<error message="y"/>', "<skipped/>"]
FLAKY = '<flakyFailure message="once"/>'


def _report(rng: random.Random, names: list[str], outcomes: list[str] = OUTCOMES) -> bytes:
    """Each test named, with a random outcome (a pass now and then flaky, if it may fail)."""
    cases = []
    for name in names:
        a, b = name.split("/")
        body = rng.choice(outcomes)
        if not body and len(outcomes) > 1 and rng.random() < 0.2:
            body = FLAKY
        cases.append(
            f'<testcase classname="tests.{a}.Flow" name="test_{b}" time="0.01">{body}</testcase>'
        )
    return f'<testsuite name="s">{"".join(cases)}</testsuite>'.encode()


def _names(rng: random.Random, count: int) -> list[str]:
    return sorted(
        {f"{rng.choice(WORDS)}/{rng.choice(WORDS)}_{rng.randrange(20)}" for _ in range(count)}
    )


def _import(suite, data: bytes) -> TestRun:
    files = [ReportFile(name="junit.xml", data=data)]
    return run_import(suite=suite, files=files, analyze=False).run


def _rows() -> dict[tuple[int, int], tuple[int, ...]]:
    """The tallies, without rows that count nothing (a recount does not write those)."""
    rows = CapabilityTally.objects.values_list(
        "capability_id", "suite_id", "mapped", "ran", "passing", "failing", "flaky", "skipped"
    )
    return {(cap, suite): rest for cap, suite, *rest in rows if any(rest)}


def _assert_tallies_equal_a_recount_and_the_old_counts() -> None:
    kept = _rows()
    for capability in Capability.objects.prefetch_related("services"):
        tallied = selector.capability_status(capability, CURRENT)
        original = selector._tallied
        selector._tallied = lambda *args: None  # the counts over the tests, as before
        try:
            counted = selector.capability_status(capability, CURRENT)
        finally:
            selector._tallied = original
        assert tallied == counted, capability.patterns
    tallies_rebuild()
    assert kept == _rows()
    fields = ("case_id", "suite_id", "run_id", "run_at", "outcome", "flaky")
    not_clean = CaseLatest.objects.filter(~Q(outcome="passed") | Q(flaky=True))
    assert set(CaseBehind.objects.values_list(*fields)) == set(not_clean.values_list(*fields))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_tallies_follow_imports_indexing_and_pattern_edits(seed):
    rng = random.Random(seed)
    suites = [SuiteFactory(service=ServiceFactory()) for _ in range(2)]
    caps = [
        capability_save(capability=Capability(name=f"cap {n}", patterns=_patterns(rng)))
        for n in range(4)
    ]
    caps[0].services.add(suites[0].service)
    names = [_names(rng, 40), _names(rng, 40)]

    _import(suites[0], _report(rng, names[0]))
    _assert_tallies_equal_a_recount_and_the_old_counts()  # PostgreSQL: still pending
    case_search_index(suite_id=suites[0].pk)
    _assert_tallies_equal_a_recount_and_the_old_counts()
    for _ in range(3):  # the same tests again with other outcomes, some new ones
        for suite, known in zip(suites, names, strict=True):
            _import(suite, _report(rng, rng.sample(known, 30) + _names(rng, 5)))
        _assert_tallies_equal_a_recount_and_the_old_counts()
    caps[1].patterns = _patterns(rng)
    capability_save(capability=caps[1])  # rebuilt while tests are pending (PostgreSQL)
    _assert_tallies_equal_a_recount_and_the_old_counts()
    for suite in suites:
        case_search_index(suite_id=suite.pk)
    _assert_tallies_equal_a_recount_and_the_old_counts()
    caps[2].delete()
    suites[1].delete()
    _assert_tallies_equal_a_recount_and_the_old_counts()
    assert CapabilityTally.objects.filter(mapped__gt=0).exists()


def test_a_failing_test_fixed_moves_one_count_and_the_summary_reads_no_test():
    suite = SuiteFactory(service=ServiceFactory())
    capability = capability_save(capability=Capability(name="Chat", patterns="class:*chat*"))
    names = ["chat/send", "chat/edit", "pay/card"]
    first = b"".join(
        [
            b'<testsuite name="s">',
            b'<testcase classname="tests.chat.Flow" name="test_send"><failure/></testcase>',
            b'<testcase classname="tests.chat.Flow" name="test_edit"/>',
            b'<testcase classname="tests.pay.Flow" name="test_card"/></testsuite>',
        ]
    )
    _import(suite, first)
    case_search_index(suite_id=suite.pk)
    failing = selector.capability_status(capability, CURRENT)
    _import(suite, _report(random.Random(0), names, outcomes=[""]))  # all pass now
    fixed = selector.capability_status(capability, CURRENT)

    assert (failing.status, failing.failing, failing.total) == ("failing", 1, 2)
    assert fixed.failing == 0 and fixed.total == 2
    row = CapabilityTally.objects.get()
    assert (row.mapped, row.ran, row.failing) == (2, 2, 0)
    _assert_tallies_equal_a_recount_and_the_old_counts()


def test_a_past_period_is_counted_from_the_results_not_the_tallies():
    suite = SuiteFactory(service=ServiceFactory())
    capability = capability_save(capability=Capability(name="Chat", patterns="class:*chat*"))
    old = _import(
        suite, b'<testsuite name="s"><testcase classname="tests.chat.F" name="t"/></testsuite>'
    )
    TestRun.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    tallies_rebuild()
    _import(
        suite,
        b'<testsuite name="s"><testcase classname="tests.chat.F" name="t"><failure/></testcase>'
        b"</testsuite>",
    )
    case_search_index(suite_id=suite.pk)
    before = timezone.localdate() - timedelta(days=3)

    past = selector.capability_status(
        capability, Scope(start=date(2000, 1, 1), end=before, services=())
    )
    now = selector.capability_status(capability, CURRENT)

    assert (past.status, now.status) == ("green", "failing")


def test_live_runs_and_retention_leave_the_tallies_equal_to_a_recount(operator):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from runs.services.tokens import token_create
    from tests.live.conftest import LiveApi, checkout_report, result

    rng = random.Random(5)
    suite = SuiteFactory(service=ServiceFactory(name="shop"), name="e2e")
    capability_save(capability=Capability(name="All", patterns="*"))
    capability_save(capability=Capability(name="Checkout", patterns="name:*check*"))
    runs = [_import(suite, _report(rng, _names(rng, 30))) for _ in range(3)]
    case_search_index(suite_id=suite.pk)
    live = LiveApi(Client(), token_create(user=operator, name="ci")[1])
    streamed = live.started()
    live.results(streamed, [result("test_checkout_total"), result("test_checkout_tax", "failed")])
    assert live.finish(streamed).status_code == 200  # the streamed results stand
    _assert_tallies_equal_a_recount_and_the_old_counts()
    replaced = live.started()
    live.results(replaced, [result("test_checkout_gone")])  # a test the report does not have
    report = checkout_report(("test_checkout_total", "failed"), ("test_checkout_fee", "passed"))
    upload = SimpleUploadedFile("junit.xml", report, content_type="application/xml")
    assert live.finish(replaced, files=[upload]).status_code == 200
    _assert_tallies_equal_a_recount_and_the_old_counts()

    for run in runs:  # the three imports are old; the live runs are kept
        TestRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(days=90))
    retention_policy_set(suite_id=suite.pk, keep_days=30, keep_runs=None, user=operator)
    record = retention_pass(vacuum=False)

    assert record is not None and record.runs_deleted == 3
    _assert_tallies_equal_a_recount_and_the_old_counts()
    checkout = selector.capability_status(Capability.objects.get(name="Checkout"), CURRENT)
    assert (checkout.total, checkout.failing, checkout.passing) == (4, 2, 2)


@pytest.mark.parametrize("model", ["testrun", "testcase", "testresult"])
def test_history_deleted_in_the_admin_is_taken_out_of_every_count(admin_client, model):
    rng = random.Random(6)
    suite = SuiteFactory(service=ServiceFactory())
    capability_save(capability=Capability(name="All", patterns="*"))
    names = _names(rng, 30)
    runs = [_import(suite, _report(rng, names)) for _ in range(3)]
    case_search_index(suite_id=suite.pk)
    failing = TestResult.objects.filter(run=runs[-1], outcome="failed").first()
    target = {"testrun": runs[-1], "testcase": failing.case, "testresult": failing}[model]

    response = admin_client.post(
        reverse(f"admin:runs_{model}_delete", args=[target.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not type(target).objects.filter(pk=target.pk).exists()
    _assert_tallies_equal_a_recount_and_the_old_counts()
    assert not CaseLatest.objects.filter(result_id=failing.pk).exists()
    if model == "testcase":
        assert CapabilityTally.objects.get().mapped == TestCase.objects.count()
