"""Health states of services and revisions, and the "stable" check the deploy chain waits on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from health.models import ProbeResult
from health.selectors import revision_health, revision_stable, service_health_states
from health.services import probe_results_record
from runs.models import TestRun
from tests.factories import RevisionFactory, RunFactory, ServiceFactory, SuiteFactory
from tests.health.helpers import make_probe, outcome

pytestmark = pytest.mark.django_db


@pytest.fixture
def service():
    service = ServiceFactory(base_url="http://127.0.0.1:9")
    service.current_revision = RevisionFactory(service=service, name="web-00010-new")
    service.save()
    return service


def _checks(probe, oks, latency_ms=20.0):
    now = timezone.now()
    probe_results_record(
        outcomes=[
            outcome(
                probe, at=now - timedelta(seconds=10 * (len(oks) - i)), ok=ok, latency_ms=latency_ms
            )
            for i, ok in enumerate(oks)
        ]
    )


def _state(service):
    return service_health_states([service.pk])[service.pk]


def test_no_checks_means_unknown(service):
    state = _state(service)

    assert state.state == "unknown"
    assert "no probe checked it" in state.reason


def test_all_checks_ok_and_a_passed_run_mean_healthy(service):
    _checks(make_probe(service), [True] * 20)
    RunFactory(suite=SuiteFactory(service=service), status=TestRun.Status.PASSED)

    state = _state(service)

    assert state.state == "healthy"
    assert state.reason.startswith("Healthy: 100.0 % of 20 probe checks succeeded")
    assert "the last test run passed" in state.reason


def test_a_failed_last_run_degrades(service):
    _checks(make_probe(service), [True] * 20)
    suite = SuiteFactory(service=service)
    RunFactory(suite=suite, status=TestRun.Status.PASSED)
    failed = RunFactory(suite=suite, status=TestRun.Status.FAILED)

    state = _state(service)

    assert state.state == "degraded"
    assert f"the last test run #{failed.pk} failed" in state.reason


def test_a_few_failures_degrade_and_an_open_incident_is_down(service):
    probe = make_probe(service, failures_before_incident=3)
    _checks(probe, [True] * 18 + [False] * 2)
    assert _state(service).state == "degraded"

    _checks(probe, [False])

    state = _state(service)
    assert state.state == "down"
    assert f"probe “{probe.name}” has been failing since" in state.reason
    assert "expected status 200, got 503" in state.reason


def test_p95_over_the_threshold_degrades(service):
    _checks(make_probe(service, name="api", latency_threshold_ms=2000), [True] * 20, 1500)
    assert _state(service).state == "healthy"

    _checks(make_probe(service, name="slowpoke"), [True] * 20, latency_ms=1500)

    state = _state(service)
    assert state.state == "degraded"
    assert "probe “slowpoke” p95 latency" in state.reason
    assert "over its 1000 ms threshold" in state.reason


def test_states_of_many_services_take_a_fixed_number_of_queries(
    service, django_assert_max_num_queries
):
    others = [ServiceFactory() for _ in range(5)]
    for svc in [service, *others]:
        _checks(make_probe(svc), [True, False, True])

    with django_assert_max_num_queries(5):
        states = service_health_states([s.pk for s in [service, *others]])

    assert len(states) == 6


def test_revision_health_counts_only_checks_that_hit_that_revision(service):
    old = RevisionFactory(service=service, name="web-00009-old")
    probe = make_probe(service)
    now = timezone.now()
    probe_results_record(
        outcomes=[
            outcome(probe, at=now - timedelta(seconds=i), ok=False, revision=old.name)
            for i in range(1, 3)
        ]
        + [outcome(probe, at=now - timedelta(seconds=i), ok=True) for i in range(5, 25)]
    )

    assert revision_health(service.current_revision).state == "healthy"
    assert revision_health(old).state == "down"


def test_stable_needs_n_consecutive_ok_checks_on_the_revision_within_the_window(service):
    revision = service.current_revision
    probe = make_probe(service)
    now = timezone.now()

    assert not revision_stable(revision=revision, consecutive=3, window_seconds=60)
    probe_results_record(
        outcomes=[outcome(probe, at=now - timedelta(seconds=s), ok=s != 40) for s in (40, 30)]
    )
    assert not revision_stable(revision=revision, consecutive=3, window_seconds=60)
    probe_results_record(outcomes=[outcome(probe, at=now - timedelta(seconds=s)) for s in (20, 10)])
    assert revision_stable(revision=revision, consecutive=3, window_seconds=60)
    # results outside the window do not count
    assert not revision_stable(revision=revision, consecutive=3, window_seconds=25)
    assert ProbeResult.objects.filter(revision=revision).count() == 4


def test_stable_refuses_a_non_positive_count(service):
    with pytest.raises(ValueError, match="consecutive must be at least 1"):
        revision_stable(revision=service.current_revision, consecutive=0, window_seconds=60)
