"""A new service's default probe, and probes that wait for their due time."""

from __future__ import annotations

import asyncio
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


def test_a_probe_is_never_checked_before_its_due_time_even_when_the_loop_wakes_early(
    server, monkeypatch: pytest.MonkeyPatch
):
    # uvloop keeps its clock in whole milliseconds, so a sleep can end a fraction of a
    # millisecond early by the wall clock (CI checked a probe 0.44 ms before it was due).
    # Here every sleep ends 20 ms early, whatever the loop.
    real_sleep = asyncio.sleep

    async def early_sleep(delay: float, *args: object) -> object:
        return await real_sleep(max(0.0, delay - 0.02), *args)

    monkeypatch.setattr("health.probing.asyncio.sleep", early_sleep)
    due = datetime.now(UTC) + timedelta(milliseconds=200)

    (outcome,) = probes_execute([ProbeSpec(probe_id=1, url=server.url("/ok"), not_before=due)])

    assert outcome.ok
    assert outcome.checked_at >= due
