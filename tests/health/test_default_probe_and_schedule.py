"""A new service's default probe, and probes that wait for their due time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from health.probing import ProbeSpec, probes_execute
from health.services import service_probe_ensure
from tests.factories import ServiceFactory


@pytest.mark.django_db
def test_a_service_gets_one_default_probe_on_its_health_path():
    service = ServiceFactory(health_path="/healthz")

    probe = service_probe_ensure(service=service)
    again = service_probe_ensure(service=service)

    assert again.pk == probe.pk
    assert service.probes.count() == 1
    assert (probe.path, probe.method, probe.expected_statuses) == ("/healthz", "GET", [200])
    assert (probe.failures_before_incident, probe.successes_to_close) == (3, 2)
    assert timezone.now() - timedelta(seconds=1) <= probe.next_probe_at
    assert probe.next_probe_at <= timezone.now() + timedelta(seconds=probe.interval_seconds)


def test_a_probe_with_a_due_time_waits_for_it(server):
    due = datetime.now(UTC) + timedelta(milliseconds=400)
    specs = [
        ProbeSpec(probe_id=1, url=server.url("/ok"), not_before=due),
        ProbeSpec(probe_id=2, url=server.url("/ok")),
    ]

    waited, immediate = probes_execute(specs)

    assert waited.ok and immediate.ok
    assert waited.checked_at >= due
    assert immediate.checked_at < due
