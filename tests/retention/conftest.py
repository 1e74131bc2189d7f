"""Suites with runs of known ages, results and attachment files, for the retention tests."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from runs.models import Suite, TestAttachment, TestCase, TestResult, TestRun
from runs.models.testing import case_key_hash
from tests.factories import ServiceFactory, SuiteFactory

NOW = timezone.now().replace(microsecond=0)


def cases_for(suite: Suite, n: int) -> list[TestCase]:
    have = list(suite.cases.order_by("pk")[:n])
    for i in range(len(have), n):
        key = f"tests/test_shop.py::test_{i}"
        have.append(
            TestCase.objects.create(suite=suite, key=key, key_hash=case_key_hash(key), name=key)
        )
    return have


def make_run(
    suite: Suite,
    *,
    days_ago: float,
    results: int = 3,
    status: str = TestRun.Status.PASSED,
    attachment: bool = False,
    **fields,
) -> TestRun:
    """A run of `suite` created `days_ago` days before NOW with `results` results (the run's
    total says so too), and with `attachment` a stored file attached to its first result."""
    run = TestRun.objects.create(
        suite=suite, service=suite.service, status=status, total=results, **fields
    )
    created: datetime = NOW - timedelta(days=days_ago)
    TestRun.objects.filter(pk=run.pk).update(created_at=created)
    run.created_at = created
    TestResult.objects.bulk_create(
        TestResult(run=run, case=case, outcome="passed") for case in cases_for(suite, results)
    )
    if attachment:
        result = run.results.order_by("pk").first()
        row = TestAttachment(run=run, result=result, name="shot.png", size=5)
        row.file.save("shot.png", ContentFile(b"image"), save=False)
        row.save()
    return run


@pytest.fixture
def suite(db) -> Suite:
    return SuiteFactory(service=ServiceFactory(name="shop"), name="e2e")


def alive(*runs: TestRun) -> list[bool]:
    existing = set(TestRun.objects.filter(pk__in=[r.pk for r in runs]).values_list("pk", flat=True))
    return [r.pk in existing for r in runs]
