"""Rows for the SLO tests: minute and hour rollups written directly, in simulated time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from health import sketch
from health.models import Probe, ProbeRollupHour, ProbeRollupMinute, Slo
from health.services.rollups import day_rollups_refresh
from runs.models import Service

T0 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
"""When the trouble starts in each scenario (a minute boundary)."""


def probe_for(service: Service, name: str = "health") -> Probe:
    return Probe.objects.create(service=service, name=name, path="/health")


def slo_for(service: Service, *, objective: float = 99.9, kind: str = "availability", **kw) -> Slo:
    return Slo.objects.create(
        service=service, name=kw.pop("name", kind), kind=kind, objective_percent=objective, **kw
    )


def minutes(
    probe: Probe,
    *,
    start: datetime,
    count: int,
    per_minute: int,
    bad: int = 0,
    latencies: dict[float, int] | None = None,
) -> None:
    """``count`` minute rollups from ``start`` on, each of ``per_minute`` checks of which
    ``bad`` failed; ``latencies`` (ms → responses) fills each sketch."""
    bins = {}
    for latency, n in (latencies or {}).items():
        sketch.add(bins, latency, n)
    ProbeRollupMinute.objects.bulk_create(
        [
            ProbeRollupMinute(
                probe=probe,
                bucket_start=start + timedelta(minutes=i),
                count=per_minute,
                ok_count=per_minute - bad,
                sketch=bins,
            )
            for i in range(count)
        ]
    )


def hours(
    probe: Probe,
    *,
    start: datetime,
    count: int,
    per_hour: int,
    bad: int = 0,
    latencies: dict[float, int] | None = None,
) -> None:
    bins = {}
    for latency, n in (latencies or {}).items():
        sketch.add(bins, latency, n)
    ProbeRollupHour.objects.bulk_create(
        [
            ProbeRollupHour(
                probe=probe,
                bucket_start=start + timedelta(hours=i),
                count=per_hour,
                ok_count=per_hour - bad,
                sketch=bins,
            )
            for i in range(count)
        ]
    )
    # the local days' rollups, as the rollup pass writes them beside the hours
    day_rollups_refresh(since=None, probe_ids=[probe.pk])
