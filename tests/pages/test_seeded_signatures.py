"""Seeded history and imported reports name failures the same way: a failure imported with the
message of a seeded one lands on the seeded FailureSignature."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

import pytest

from demo.seed.demo_history import demo_history_create
from demo.seed.history import history_seed
from runs.models import FailureSignature, Suite, TestResult
from runs.services.ingest import ReportFile, run_import
from runs.signatures import failure_signature

pytestmark = pytest.mark.django_db


def _one_seeded_failure_per_signature(suite: Suite) -> list[TestResult]:
    seen: dict[int, TestResult] = {}
    failures = TestResult.objects.filter(run__suite=suite, signature__isnull=False)
    for result in failures.order_by("pk"):
        seen.setdefault(result.signature_id, result)
    return list(seen.values())


def _report(failures: list[TestResult]) -> ReportFile:
    """A JUnit report with one new test per seeded failure, failing with the same message."""
    cases = "".join(
        f'<testcase classname="imported" name="test_{i}">'
        f"<{'error' if r.outcome == 'error' else 'failure'} message={quoteattr(r.message)}/>"
        "</testcase>"
        for i, r in enumerate(failures)
    )
    xml = f'<testsuite name="e2e" tests="{len(failures)}">{cases}</testsuite>'
    return ReportFile(name="imported.xml", data=xml.encode())


def _assert_imported_failures_join_the_seeded_signatures(suite: Suite) -> None:
    seeded = _one_seeded_failure_per_signature(suite)
    signatures_before = FailureSignature.objects.filter(suite=suite).count()
    assert seeded, "the seeder wrote no failure to compare with"

    run = run_import(suite=suite, files=[_report(seeded)], analyze=False).run

    imported = dict(run.results.values_list("case__name", "signature_id"))
    assert [imported[f"test_{i}"] for i in range(len(seeded))] == [r.signature_id for r in seeded]
    assert FailureSignature.objects.filter(suite=suite).count() == signatures_before


def _assert_every_seeded_failure_carries_its_messages_signature(suite: Suite) -> None:
    failures = TestResult.objects.filter(run__suite=suite, outcome__in=("failed", "error"))
    pairs = set(failures.values_list("outcome", "message", "signature__hash"))
    assert pairs
    for outcome, message, stored in pairs:
        assert stored == failure_signature(kind=outcome, message=message).hash, message


def test_a_failure_of_the_demo_history_and_an_imported_one_share_a_signature(suite):
    demo_history_create(
        suite=suite, test_names=[f"tests/test_demo.py::test_{i}" for i in range(40)], days=10
    )

    _assert_every_seeded_failure_carries_its_messages_signature(suite)
    _assert_imported_failures_join_the_seeded_signatures(suite)


def test_a_failure_of_seed_history_and_an_imported_one_share_a_signature(db):
    made = history_seed(runs=60, tests=120, service_name="seeded", seed=3)

    _assert_every_seeded_failure_carries_its_messages_signature(made.suite)
    _assert_imported_failures_join_the_seeded_signatures(made.suite)
