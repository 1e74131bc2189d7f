"""Every import keeps the summary's latest-result read model (runs.CaseLatest) current."""

from __future__ import annotations

import pytest

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
