"""A live run whose job stopped calling is marked lost by the sweeper; one that streams stays."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from runs.models import TestRun
from runs.services.sweeper import runs_sweep
from tests.live.conftest import result

pytestmark = pytest.mark.django_db


def test_a_live_run_without_results_for_ten_minutes_is_lost_with_a_sentence(live):
    run_id = live.started()
    live.results(run_id, [result("test_pay")])

    report = runs_sweep(now=timezone.now() + timedelta(minutes=11))

    assert report.lost_runs == 1
    run = TestRun.objects.get(pk=run_id)
    assert run.status == "lost"
    assert run.error.startswith("Lost: no result came from the external run for 10 minutes")
    assert run.passed == 1  # what was streamed is kept
    assert live.results(run_id, [result("test_cart")]).status_code == 409
    assert live.finish(run_id).status_code == 409


def test_a_live_run_within_its_lease_is_left_running(live):
    run_id = live.started()

    assert runs_sweep(now=timezone.now() + timedelta(minutes=9)).lost_runs == 0
    assert TestRun.objects.get(pk=run_id).status == "running"


def test_each_results_call_renews_the_lease_past_the_suites_timeout(live):
    run_id = live.started()
    TestRun.objects.filter(pk=run_id).update(started_at=timezone.now() - timedelta(hours=2))
    before = TestRun.objects.get(pk=run_id).lease_expires_at

    live.results(run_id, [result("test_pay")])

    run = TestRun.objects.get(pk=run_id)
    assert run.lease_expires_at >= before
    assert runs_sweep(now=timezone.now() + timedelta(minutes=5)).lost_runs == 0
    assert TestRun.objects.get(pk=run_id).status == "running"


def test_a_workers_lease_on_a_host_named_live_is_not_a_live_runs(suite):
    own = TestRun.objects.create(
        suite=suite,
        service=suite.service,
        status=TestRun.Status.RUNNING,
        started_at=timezone.now(),
        lease_holder="live:4242",
        lease_expires_at=timezone.now() - timedelta(seconds=1),
    )

    runs_sweep()

    assert TestRun.objects.get(pk=own.pk).error.startswith("Lost: the worker holding it")
