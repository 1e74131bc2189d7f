"""The suite page's slowest and most failing tests: kept by the suite tree's rollup for the
suite's last runs (runs.SuiteRecentTables) and read from there while the page's window of runs
is the same; otherwise (a run since, a past period) aggregated from the results, as before."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from runs.models import SuiteRecentTables, TestRun
from runs.selectors import suites
from runs.services.ingest import ReportFile, run_import
from runs.services.suite_tree_rollup import suite_tree_rebuild
from runs.time_range import TimeRange
from tests.factories import ServiceFactory, SuiteFactory

pytestmark = pytest.mark.django_db


def _report(rng: random.Random) -> bytes:
    cases = []
    for n in range(25):
        body = '<failure message="no"/>' if rng.random() < 0.3 else ""
        time = f"{rng.random() * 3:.3f}"
        cases.append(f'<testcase classname="t.C" name="test_{n}" time="{time}">{body}</testcase>')
    return f'<testsuite name="s">{"".join(cases)}</testsuite>'.encode()


def _import(suite, rng):
    files = [ReportFile(name="junit.xml", data=_report(rng))]
    return run_import(suite=suite, files=files, analyze=False).run


def _computed(suite, span=None) -> dict:
    return {
        "slowest": suites.slowest_tests(suite=suite, span=span),
        "failing": suites.most_failing_tests(suite=suite, span=span),
    }


def test_the_rollup_keeps_the_tables_and_the_page_reads_them_while_they_cover_its_runs(
    login, viewer, monkeypatch
):
    rng = random.Random(1)
    suite = SuiteFactory(service=ServiceFactory())
    for _ in range(4):
        _import(suite, rng)
    suite_tree_rebuild(suite_id=suite.pk)
    stored = SuiteRecentTables.objects.get(suite=suite)
    computed = _computed(suite)

    assert stored.run_ids == suites.recent_runs(suite=suite)
    assert (stored.slowest, stored.failing) == (computed["slowest"], computed["failing"])
    assert len(computed["slowest"]) == 10 and computed["failing"]
    assert computed["slowest"][0]["mean"] >= computed["slowest"][-1]["mean"]

    # the page reads them, not the results (which would now answer otherwise)
    SuiteRecentTables.objects.filter(suite=suite).update(
        slowest=[{**stored.slowest[0], "case__name": "from-the-rollup"}]
    )
    page = login(viewer).get(reverse("suite-detail", args=[suite.pk])).content.decode()
    assert "from-the-rollup" in page


def test_a_run_since_the_rollup_or_a_past_period_is_aggregated_from_the_results():
    rng = random.Random(2)
    suite = SuiteFactory(service=ServiceFactory())
    old = _import(suite, rng)
    TestRun.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    for _ in range(3):
        _import(suite, rng)
    suite_tree_rebuild(suite_id=suite.pk)
    _import(suite, rng)  # no rollup since
    now = timezone.now()
    past = TimeRange(start=now - timedelta(days=50), end=now - timedelta(days=30), key="")

    assert suites.recent_tables(suite=suite) == _computed(suite)
    assert suites.recent_tables(suite=suite, span=past) == _computed(suite, span=past)
    assert [r["runs"] for r in suites.recent_tables(suite=suite, span=past)["slowest"]] == [1] * 10
