"""The database enforces what the product promises."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from health.models import Incident, Probe
from runs.models import Deploy, Revision, TestResult
from tests.factories import (
    CaseFactory,
    RevisionFactory,
    RunFactory,
    ServiceFactory,
    SuiteFactory,
)

pytestmark = pytest.mark.django_db


def test_it_refuses_a_duplicate_revision_name_for_a_service():
    revision = RevisionFactory(name="web-00042-x7k")

    with pytest.raises(IntegrityError), transaction.atomic():
        Revision.objects.create(service=revision.service, name="web-00042-x7k")


def test_it_allows_the_same_revision_name_in_another_service():
    RevisionFactory(name="web-00001")

    assert RevisionFactory(name="web-00001").pk


def test_it_allows_one_active_deploy_per_service():
    service = ServiceFactory()
    Deploy.objects.create(service=service, status=Deploy.Status.RUNNING)

    with pytest.raises(IntegrityError), transaction.atomic():
        Deploy.objects.create(service=service, status=Deploy.Status.QUEUED)
    Deploy.objects.create(service=service, status=Deploy.Status.FAILED)
    assert Deploy.objects.filter(service=service).count() == 2


def test_it_refuses_two_results_of_one_test_in_one_run():
    run = RunFactory()
    case = CaseFactory(suite=run.suite)
    TestResult.objects.create(run=run, case=case, outcome="passed")

    with pytest.raises(IntegrityError), transaction.atomic():
        TestResult.objects.create(run=run, case=case, outcome="failed")


def test_it_refuses_the_same_upload_twice_for_a_suite():
    suite = SuiteFactory()
    RunFactory(suite=suite, content_hash="a" * 64)

    with pytest.raises(IntegrityError), transaction.atomic():
        RunFactory(suite=suite, content_hash="a" * 64)
    assert RunFactory(suite=suite, content_hash="").pk
    assert RunFactory(suite=suite, content_hash="").pk


def test_it_refuses_traffic_over_100_percent():
    with pytest.raises(IntegrityError), transaction.atomic():
        RevisionFactory(traffic_percent=101)


def test_it_refuses_a_probe_interval_under_5_seconds():
    with pytest.raises(IntegrityError), transaction.atomic():
        Probe.objects.create(service=ServiceFactory(), name="fast", interval_seconds=4)


def test_it_keeps_one_open_incident_per_probe():
    probe = Probe.objects.create(service=ServiceFactory(), name="health", path="/healthz")
    from django.utils import timezone

    Incident.objects.create(probe=probe, service=probe.service, opened_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.create(probe=probe, service=probe.service, opened_at=timezone.now())


def test_pass_rate_excludes_skipped_tests():
    run = RunFactory(passed=3, failed=1, errors=0, skipped=10)

    assert run.pass_rate == 0.75
    assert RunFactory(passed=0, failed=0, errors=0, skipped=4).pass_rate is None
