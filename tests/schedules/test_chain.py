"""A scheduled run is a normal run: the test-only chain runs the suite against the current
revision, imports its report (results, failure signatures), drafts analyses, and the run counts
for its revision's and service's health like any other run of that revision."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from analyses.models import Analysis
from health.selectors import revision_health, service_health_states
from health.selectors.slos import slo_statuses
from health.services import probe_results_record
from runs.models import FailureSignature, Revision, TestRun
from runs.services.pipeline import revision_test_execute
from runs.services.schedules import schedules_tick, suite_schedule_set
from tests.health.helpers import make_probe, outcome
from tests.health.slo_support import slo_for
from tests.schedules.conftest import Monitor

pytestmark = pytest.mark.django_db


def scheduled_run(monitor: Monitor) -> TestRun:
    now = timezone.now()
    suite_schedule_set(suite_id=monitor.suite.pk, every_minutes="5", enabled=True, now=now)
    [run_id] = schedules_tick(now=now).started
    revision_test_execute(run_id=run_id)
    return TestRun.objects.select_related("revision").get(pk=run_id)


def healthy_probes(monitor: Monitor) -> None:
    """Twenty good probe checks that hit the current revision in the last minutes."""
    service, now = monitor.suite.service, timezone.now()
    probe = make_probe(service)
    name = service.current_revision.name
    probe_results_record(
        outcomes=[
            outcome(probe, at=now - timedelta(seconds=10 * (20 - i)), revision=name)
            for i in range(20)
        ]
    )


def test_a_failing_scheduled_run_has_its_results_signature_and_a_draft_analysis(monitor):
    monitor.failing()

    run = scheduled_run(monitor)

    assert (run.status, run.trigger, run.total, run.failed) == ("failed", "scheduled", 1, 1)
    assert run.revision == monitor.suite.service.current_revision
    assert run.started_at is not None and run.finished_at is not None
    assert run.analyzed_at is not None
    signature = FailureSignature.objects.get(suite=monitor.suite)
    assert Analysis.objects.filter(signature=signature, run=run).exists()
    assert [revision for _, _, revision in monitor.spans()] == ["checkout-00001"]


def test_a_failing_scheduled_run_degrades_its_revision_and_service_and_a_passing_one_heals(
    monitor,
):
    healthy_probes(monitor)
    monitor.failing()
    failed = scheduled_run(monitor)
    revision = monitor.suite.service.current_revision

    assert revision_health(revision).state == "degraded"
    assert f"the last test run #{failed.pk} failed" in revision_health(revision).reason
    service_state = service_health_states([revision.service_id])[revision.service_id]
    assert f"the last test run #{failed.pk} failed" in service_state.reason

    monitor.failing(False)
    # Paused and resumed: the next occurrence is due at once.
    suite_schedule_set(suite_id=monitor.suite.pk, every_minutes="5", enabled=False)
    passed = scheduled_run(monitor)

    assert passed.status == "passed"
    state = revision_health(revision)
    assert state.state == "healthy" and "the last test run passed" in state.reason


def test_a_run_whose_revision_was_retired_before_it_started_ends_saying_so(monitor):
    suite_schedule_set(suite_id=monitor.suite.pk, every_minutes="5", enabled=True)
    [run_id] = schedules_tick().started
    Revision.objects.filter(pk=monitor.suite.service.current_revision_id).update(
        status=Revision.Status.RETIRED
    )

    revision_test_execute(run_id=run_id)

    run = TestRun.objects.get(pk=run_id)
    assert run.status == "error"
    assert run.error == "Not run: revision checkout-00001 is retired, so there was nothing to test."
    assert monitor.spans() == []


def test_a_run_message_that_arrives_twice_runs_the_suite_once(monitor):
    run = scheduled_run(monitor)

    revision_test_execute(run_id=run.pk)

    assert len(monitor.spans()) == 1
    assert TestRun.objects.get(pk=run.pk).status == "passed"


def test_scheduled_runs_feed_the_tests_objective_and_other_runs_do_not(monitor, viewer, login):
    # given a tests objective of 95 % on the service and a run of the suite started by hand
    healthy_probes(monitor)
    service = monitor.suite.service
    slo_for(service, objective=95.0, kind="tests", name="e2e monitor")
    TestRun.objects.create(
        suite=monitor.suite,
        service=service,
        revision=service.current_revision,
        trigger=TestRun.Trigger.MANUAL,
        status=TestRun.Status.FAILED,
        finished_at=timezone.now(),
    )

    # when the schedule runs the suite once failing and once passing, through the real chain
    monitor.failing()
    failed = scheduled_run(monitor)
    monitor.failing(False)
    suite_schedule_set(suite_id=monitor.suite.pk, every_minutes="5", enabled=False)
    passed = scheduled_run(monitor)

    # then the objective counts the two scheduled runs, one bad (the manual run is not one)
    assert (failed.status, passed.status) == ("failed", "passed")
    [status] = slo_statuses([service.pk])[service.pk]
    assert (status.counts.total, status.counts.bad) == (2, 1)
    assert status.sli_percent == pytest.approx(50.0)
    assert status.exhausted
    # and the SLO page and the revision page say so
    client = login(viewer)
    slos_page = client.get(f"/services/{service.name}/slos/").content.decode()
    assert "50.000 %" in slos_page
    revision_page = client.get(service.current_revision.get_absolute_url()).content.decode()
    assert "the last test run passed" in revision_page


def test_a_scheduled_run_shows_on_the_health_of_a_revision_no_probe_checks(monitor, viewer, login):
    # given a service watched by its scheduled suite only (no probe)
    revision = monitor.suite.service.current_revision
    assert revision_health(revision).state == "unknown"

    # when a scheduled run fails
    monitor.failing()
    failed = scheduled_run(monitor)

    # then the revision and the service are degraded, saying which run failed
    state = revision_health(revision)
    assert state.state == "degraded"
    assert state.reason == (
        f"Degraded: the last test run #{failed.pk} failed; no probe checked it in the last "
        "15 minutes."
    )
    service_state = service_health_states([revision.service_id])[revision.service_id]
    assert (service_state.state, service_state.reason) == (state.state, state.reason)
    page = login(viewer).get(revision.get_absolute_url()).content.decode()
    assert f"the last test run #{failed.pk} failed" in page

    # and once a scheduled run passes, the state is unknown again (no probe), saying it passed
    monitor.failing(False)
    suite_schedule_set(suite_id=monitor.suite.pk, every_minutes="5", enabled=False)
    scheduled_run(monitor)
    assert revision_health(revision).reason == (
        "Unknown: no probe checked it in the last 15 minutes; the last test run passed."
    )
