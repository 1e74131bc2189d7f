"""The flaky-window read model: kept at ingest, equal to the scan over the window it replaces."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from runs.models import CaseFlakeWindow, TestRun
from runs.selectors import flaky
from runs.selectors.flaky import flaky_per_case_sql, recent_run_ids
from runs.services.ingest import ReportFile, run_import
from runs.services.read_models import flake_window_rebuild, flake_window_update
from tests.factories import CaseFactory, RevisionFactory, ServiceFactory, SuiteFactory
from tests.pages.conftest import make_run

pytestmark = pytest.mark.django_db

OUTCOMES = ["passed"] * 6 + ["failed", "error", "skipped"]


BY_SERVICE = """
SELECT service_id, COUNT(*) FROM per_case WHERE flips > 0 OR retries > 0 GROUP BY service_id
"""
OF_SUITE = "SELECT case_id, flips, retries, seen FROM per_case WHERE flips > 0 OR retries > 0"


# The oracle: the scans the pages made before the read model (runs.selectors.flaky, 2026-11).
def scanned_counts_by_service() -> dict[int, int]:
    run_ids = recent_run_ids()
    if not run_ids:
        return {}
    sql = flaky_per_case_sql(run_ids=run_ids) + BY_SERVICE
    with connection.cursor() as cursor:
        cursor.execute(sql, [*run_ids, *run_ids])
        return dict(cursor.fetchall())


def scanned_flaky_cases(suite_id: int) -> set[tuple[int, int, int, int]]:
    run_ids = recent_run_ids(suite_id=suite_id)
    if not run_ids:
        return set()
    sql = flaky_per_case_sql(run_ids=run_ids) + OF_SUITE
    with connection.cursor() as cursor:
        cursor.execute(sql, [*run_ids, *run_ids])
        return set(cursor.fetchall())


def read_flaky_cases(suite_id: int) -> set[tuple[int, int, int, int]]:
    found, total = flaky.flaky_cases(suite_id=suite_id, limit=10_000)
    assert total == len(found)
    return {(f.case_id, f.flips, f.retries, f.seen) for f in found}


def assert_matches_the_scan(suites) -> None:
    assert flaky.flaky_counts_by_service() == scanned_counts_by_service()
    for suite in suites:
        assert read_flaky_cases(suite.pk) == scanned_flaky_cases(suite.pk)


def random_history(rng: random.Random, *, runs: int):
    """Two services, three suites; revisions change every few runs, tests come and go, runs
    are created out of order now and then."""
    services = [ServiceFactory(), ServiceFactory()]
    suites = [SuiteFactory(service=services[0]), SuiteFactory(service=services[0])]
    suites.append(SuiteFactory(service=services[1]))
    cases = {s.pk: [CaseFactory(suite=s) for _ in range(rng.randint(3, 8))] for s in suites}
    revisions = {s.pk: [RevisionFactory(service=s) for _ in range(3)] for s in services}
    base = timezone.now() - timedelta(days=10)
    made = []
    for index in range(runs):
        suite = rng.choice(suites)
        present = [c for c in cases[suite.pk] if rng.random() < 0.9]
        outcomes = {c: rng.choice(OUTCOMES) for c in present}
        retried = tuple(c for c in present if outcomes[c] == "passed" and rng.random() < 0.05)
        jitter = timedelta(minutes=rng.choice([0, 0, 0, -90]))  # sometimes older than the last
        run = make_run(
            suite,
            outcomes,
            revision=rng.choice(revisions[suite.service_id]),
            at=base + timedelta(hours=index) + jitter,
            flaky=retried,
            status=rng.choice([None, None, None, None, "cancelled"]),
        )
        made.append(run)
    return suites, made


@pytest.mark.parametrize("seed", range(6))
def test_it_matches_the_window_scan_after_every_run_of_a_random_history(settings, seed):
    settings.FLAKY_WINDOW = 4
    rng = random.Random(seed)
    services = [ServiceFactory(), ServiceFactory()]
    suites = [SuiteFactory(service=services[0]), SuiteFactory(service=services[1])]
    cases = {s.pk: [CaseFactory(suite=s) for _ in range(6)] for s in suites}
    revisions = {s.pk: [RevisionFactory(service=s) for _ in range(2)] for s in services}
    base = timezone.now() - timedelta(days=3)
    for index in range(30):
        suite = rng.choice(suites)
        outcomes = {c: rng.choice(OUTCOMES) for c in cases[suite.pk] if rng.random() < 0.85}
        make_run(
            suite,
            outcomes,
            revision=rng.choice(revisions[suite.service_id]),
            at=base + timedelta(hours=index),
            flaky=tuple(c for c, o in outcomes.items() if o == "passed" and rng.random() < 0.05),
        )

        assert_matches_the_scan(suites)


@pytest.mark.parametrize("seed", range(4))
def test_it_matches_the_scan_with_out_of_order_and_cancelled_runs(settings, seed):
    settings.FLAKY_WINDOW = 5
    suites, _ = random_history(random.Random(100 + seed), runs=40)

    assert_matches_the_scan(suites)
    assert flaky.flaky_counts_by_service()  # the histories are flaky enough to test something


def test_it_adds_a_flip_with_the_run_that_makes_it_and_drops_it_when_it_leaves_the_window(
    settings, suite, cases, revisions, at
):
    settings.FLAKY_WINDOW = 3
    a, b, *_ = cases
    make_run(suite, {a: "passed", b: "passed"}, revision=revisions[0], at=at(0))
    assert flaky.flaky_cases(suite_id=suite.pk) == ([], 0)

    make_run(suite, {a: "failed", b: "passed"}, revision=revisions[0], at=at(1))
    found, total = flaky.flaky_cases(suite_id=suite.pk)
    assert (total, [(f.case_id, f.flips, f.seen) for f in found]) == (1, [(a.pk, 1, 2)])
    assert flaky.flaky_counts_by_service() == {suite.service_id: 1}

    make_run(suite, {a: "passed", b: "passed"}, revision=revisions[0], at=at(2))
    assert [(f.case_id, f.flips) for f in flaky.flaky_cases(suite_id=suite.pk)[0]] == [(a.pk, 2)]

    make_run(suite, {a: "passed", b: "passed"}, revision=revisions[0], at=at(3))  # run 0 leaves
    assert [(f.case_id, f.flips) for f in flaky.flaky_cases(suite_id=suite.pk)[0]] == [(a.pk, 1)]
    make_run(suite, {a: "passed", b: "passed"}, revision=revisions[0], at=at(4))  # the failure too
    assert flaky.flaky_cases(suite_id=suite.pk) == ([], 0)
    assert flaky.flaky_counts_by_service() == {}
    assert not CaseFlakeWindow.objects.exists()  # nothing failing is left in the window


def test_the_importer_folds_each_imported_run_into_the_read_model(settings, suite):
    settings.FLAKY_WINDOW = 10

    def report(outcome: str) -> ReportFile:
        body = {"passed": "", "failed": '<failure message="boom">boom</failure>'}[outcome]
        xml = (
            '<testsuite name="t" tests="2"><testcase classname="t" name="a">'
            f'{body}</testcase><testcase classname="t" name="b"/></testsuite>'
        )
        return ReportFile(name=f"{outcome}.xml", data=xml.encode())

    run_import(suite=suite, files=[report("passed")])
    run_import(suite=suite, files=[report("failed")])

    found, total = flaky.flaky_cases(suite_id=suite.pk)
    assert total == 1
    assert (found[0].name, found[0].flips) == ("a", 1)
    assert read_flaky_cases(suite.pk) == scanned_flaky_cases(suite.pk)


def test_the_rebuild_command_recomputes_every_suite_from_the_results(settings):
    settings.FLAKY_WINDOW = 5
    suites, _ = random_history(random.Random(7), runs=30)
    CaseFlakeWindow.objects.all().delete()
    assert flaky.flaky_counts_by_service() == {}

    call_command("flaky_rebuild", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert_matches_the_scan(suites)


def test_the_rebuild_command_refuses_an_unknown_suite_and_changes_nothing(settings):
    settings.FLAKY_WINDOW = 5
    random_history(random.Random(8), runs=20)
    before = set(CaseFlakeWindow.objects.values_list("case_id", "flips", "retries", "seen"))

    with pytest.raises(CommandError, match="No suite has id 999999"):
        call_command("flaky_rebuild", suite=999_999)

    assert set(CaseFlakeWindow.objects.values_list("case_id", "flips", "retries", "seen")) == before


def test_rebuilding_a_suite_after_its_runs_are_deleted_matches_the_scan(settings):
    """What retention does: delete runs, then call flake_window_rebuild for their suite."""
    settings.FLAKY_WINDOW = 6
    suites, _ = random_history(random.Random(9), runs=40)
    newest = TestRun.objects.filter(suite=suites[0]).order_by("-created_at", "-pk")
    doomed = [*newest.values_list("pk", flat=True)[:3], newest.last().pk]
    TestRun.objects.filter(pk__in=doomed).delete()

    flake_window_rebuild(suite_id=suites[0].pk)

    assert read_flaky_cases(suites[0].pk) == scanned_flaky_cases(suites[0].pk)
    assert_matches_the_scan(suites)


def test_rebuilding_a_deleted_suite_does_nothing():
    flake_window_rebuild(suite_id=123_456)

    assert not CaseFlakeWindow.objects.exists()


def test_the_update_takes_the_same_queries_whatever_the_suite_size(
    settings, django_assert_max_num_queries
):
    settings.FLAKY_WINDOW = 5
    small, big = SuiteFactory(), SuiteFactory()
    small_cases = [CaseFactory(suite=small) for _ in range(3)]
    big_cases = [CaseFactory(suite=big) for _ in range(60)]
    for i in range(6):
        make_run(small, {c: "failed" if i % 2 else "passed" for c in small_cases})
        make_run(big, {c: "failed" if i % 2 else "passed" for c in big_cases})
    small_run = TestRun.objects.filter(suite=small).first()
    big_run = TestRun.objects.filter(suite=big).first()

    # savepoint, lock, window, insert, update, delete, release: seven, whatever the size
    with django_assert_max_num_queries(7):
        flake_window_update(run=small_run)
    with django_assert_max_num_queries(7):
        flake_window_update(run=big_run)
    with django_assert_max_num_queries(1):
        flaky.flaky_counts_by_service()
    with django_assert_max_num_queries(1):
        flaky.flaky_cases(suite_id=big.pk)
    assert len(read_flaky_cases(big.pk)) == 60
