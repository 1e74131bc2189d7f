"""The sweeper: nothing stays running forever; a queued deploy whose message was lost runs again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from runs.models import Deploy, TestRun
from runs.services.sweeper import GRACE, runs_sweep
from tests.factories import RunFactory, ServiceFactory, SuiteFactory

pytestmark = pytest.mark.django_db


def test_a_deploy_past_its_timeout_and_its_run_are_marked_lost():
    now = timezone.now()
    service = ServiceFactory()
    deploy = Deploy.objects.create(
        service=service,
        status="running",
        timeout_seconds=60,
        started_at=now - timedelta(seconds=60) - GRACE - timedelta(seconds=1),
    )
    run = RunFactory(suite=SuiteFactory(service=service), deploy=deploy, status="queued")

    report = runs_sweep(now=now)

    deploy.refresh_from_db()
    run.refresh_from_db()
    assert (report.lost_deploys, report.lost_runs) == (1, 1)
    assert deploy.status == "lost"
    assert "worker stopped answering" in deploy.error
    assert run.status == "lost"


def test_a_run_within_its_timeout_is_left_alone():
    now = timezone.now()
    run = RunFactory(status="running", timeout_seconds=600, started_at=now - timedelta(seconds=590))

    assert runs_sweep(now=now).lost_runs == 0
    run.refresh_from_db()
    assert run.status == "running"


def test_a_running_run_past_timeout_and_grace_is_lost():
    now = timezone.now()
    run = RunFactory(
        status="running", timeout_seconds=600, started_at=now - timedelta(seconds=600) - GRACE * 2
    )

    runs_sweep(now=now)

    run.refresh_from_db()
    assert run.status == "lost"
    assert run.finished_at == now


def test_a_deploy_left_queued_is_enqueued_again(settings):
    now = timezone.now()
    stale = Deploy.objects.create(service=ServiceFactory(), status="queued")
    Deploy.objects.filter(pk=stale.pk).update(created_at=now - timedelta(minutes=5))
    fresh = Deploy.objects.create(service=ServiceFactory(), status="queued")

    report = runs_sweep(now=now)

    assert report.requeued == [stale.pk]
    assert fresh.pk not in report.requeued


def test_finished_rows_are_never_touched():
    now = timezone.now()
    run = RunFactory(status="passed", started_at=now - timedelta(days=3), timeout_seconds=1)

    runs_sweep(now=now)

    assert TestRun.objects.get(pk=run.pk).status == "passed"
