"""Every import keeps the summary's latest-result read model (runs.CaseLatest) current."""

from __future__ import annotations

import pytest
from django.db import connection

from demo.seed.history import history_seed
from runs.models import CaseLatest, TestResult
from runs.services.ingest import ReportFile, run_import
from tests.factories import RevisionFactory
from tests.ingest.conftest import JUNIT

pytestmark = pytest.mark.django_db


def _report(name: str) -> ReportFile:
    return ReportFile(name=name, data=(JUNIT / name).read_bytes())


def test_an_uploaded_run_becomes_each_of_its_tests_latest_result(suite):
    first = run_import(
        suite=suite,
        files=[_report("surefire-flaky.xml")],
        revision=RevisionFactory(service=suite.service),
    ).run
    second = run_import(
        suite=suite,
        files=[_report("surefire-flaky.xml")],
        revision=RevisionFactory(service=suite.service),
    ).run

    results = TestResult.objects.filter(run=second)
    assert results.exists()
    latest = {row.case_id: row for row in CaseLatest.objects.filter(suite_id=suite.pk)}
    assert set(latest) == set(results.values_list("case_id", flat=True))
    for result in results:
        row = latest[result.case_id]
        assert (row.run_id, row.result_id, row.outcome) == (second.pk, result.pk, result.outcome)
    assert first.pk < second.pk


def test_seeded_history_gives_each_test_its_latest_seeded_result(db):
    made = history_seed(runs=12, tests=30, service_name="seeded", seed=5)

    rows = {row.case_id: row for row in CaseLatest.objects.filter(suite_id=made.suite.pk)}
    cases = set(TestResult.objects.filter(run__suite=made.suite).values_list("case_id", flat=True))
    assert cases and set(rows) == cases
    for case_id, row in rows.items():
        latest = TestResult.objects.filter(case_id=case_id).order_by("-run_id").first()
        assert (row.run_id, row.result_id, row.outcome) == (
            latest.run_id,
            latest.pk,
            latest.outcome,
        )


def test_on_postgresql_the_read_model_leaves_room_to_update_rows_in_place(db):
    if connection.vendor != "postgresql":
        pytest.skip("fillfactor is PostgreSQL's; SQLite rewrites rows its own way")
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'runs_caselatest'")
        (options,) = cursor.fetchone()

    assert "fillfactor=50" in (options or [])
