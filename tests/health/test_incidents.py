"""Incidents open after N consecutive failures and close after M successes."""

from __future__ import annotations

import pytest

from health.models import Incident
from health.services import probe_results_record
from tests.factories import RevisionFactory, ServiceFactory
from tests.health.helpers import T0, make_probe, outcome, seconds

pytestmark = pytest.mark.django_db


@pytest.fixture
def probe():
    service = ServiceFactory(base_url="http://127.0.0.1:9")
    service.current_revision = RevisionFactory(service=service, name="web-00007-aaa")
    service.save()
    return make_probe(service, failures_before_incident=3, successes_to_close=2)


def _record(probe, *oks, start=0, **kw):
    for i, ok in enumerate(oks):
        probe_results_record(
            outcomes=[outcome(probe, at=T0 + seconds(10 * (start + i)), ok=ok, **kw)]
        )


def test_it_opens_an_incident_on_the_third_failure_in_a_row_from_the_first_failure(probe):
    # given a failure, a success, then two failures: no incident yet
    _record(probe, False, True, False, False)
    assert not Incident.objects.exists()

    # when the third failure in a row arrives
    _record(probe, False, start=4, error_kind="timeout", error="no answer")

    # then one incident is open, from the first failure of the run, with its revision and error
    incident = Incident.objects.get()
    assert incident.closed_at is None
    assert incident.opened_at == T0 + seconds(20)
    assert incident.revision_id == probe.service.current_revision_id
    assert incident.first_error == "expected status 200, got 503"
    assert incident.service_id == probe.service_id
    probe.refresh_from_db()
    assert probe.consecutive_failures == 3


def test_more_failures_keep_one_incident_open(probe):
    _record(probe, *[False] * 8)

    assert Incident.objects.filter(closed_at__isnull=True).count() == 1


def test_it_closes_after_two_successes_at_the_first_success(probe):
    # given an open incident
    _record(probe, False, False, False)
    # when one success, a failure, then two successes arrive
    _record(probe, True, False, start=3)
    assert Incident.objects.get().closed_at is None
    _record(probe, True, True, start=5)

    # then it closed at the first success of the recovering run, and has a duration
    incident = Incident.objects.get()
    assert incident.closed_at == T0 + seconds(50)
    assert incident.duration_seconds == 50


def test_a_new_run_of_failures_opens_a_second_incident(probe):
    _record(probe, False, False, False, True, True, False, False, False)

    assert Incident.objects.count() == 2
    assert Incident.objects.filter(closed_at__isnull=True).count() == 1


def test_thresholds_are_the_probes_own(probe):
    probe.failures_before_incident = 1
    probe.successes_to_close = 1
    probe.save()

    _record(probe, False)
    assert Incident.objects.filter(closed_at__isnull=True).count() == 1
    _record(probe, True, start=1)
    assert Incident.objects.get().closed_at == T0 + seconds(10)


def test_outcomes_in_one_batch_are_applied_in_time_order(probe):
    # given three failures delivered in one call, out of order
    outcomes = [outcome(probe, at=T0 + seconds(s), ok=False) for s in (20, 0, 10)]

    probe_results_record(outcomes=outcomes)

    assert Incident.objects.get().opened_at == T0


def test_samples_recorded_without_incidents_leave_counters_and_incidents_alone(probe):
    # given two failures in a row
    _record(probe, False, False)

    # when a canary comparison records a burst of failures aimed at another revision
    other = RevisionFactory(service=probe.service, name="web-00008-bbb")
    burst = [outcome(probe, at=T0 + seconds(20 + i), ok=False) for i in range(5)]
    probe_results_record(outcomes=burst, revision_id=other.pk, incidents=False)

    # then they are stored against that revision, but opened nothing and counted nothing
    assert not Incident.objects.exists()
    assert probe.results.filter(revision=other).count() == 5
    probe.refresh_from_db()
    assert probe.consecutive_failures == 2


def test_an_incident_starts_at_its_first_counted_failure_despite_samples_in_between(probe):
    # given a failure, then healthy canary samples, then two more failures
    _record(probe, False, error_kind="timeout", error="no answer from web")
    samples = [outcome(probe, at=T0 + seconds(1 + i)) for i in range(5)]
    probe_results_record(outcomes=samples, incidents=False)
    _record(probe, False, False, start=1)

    # then the incident starts at the first failure, with its error
    incident = Incident.objects.get()
    assert incident.opened_at == T0
    assert incident.first_error == "no answer from web"
