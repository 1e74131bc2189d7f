"""Builders for the health tests: probes and synthetic outcomes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from health.models import Probe
from health.probing import ProbeOutcome

T0 = datetime(2026, 3, 2, 10, 0, 5, tzinfo=UTC)


def make_probe(service, **fields) -> Probe:
    fields.setdefault("name", f"probe-{Probe.objects.count() + 1}")
    fields.setdefault("path", "/ok")
    fields.setdefault("interval_seconds", 10)
    fields.setdefault("timeout_seconds", 2.0)
    return Probe.objects.create(service=service, **fields)


def outcome(
    probe: Probe,
    *,
    at: datetime = T0,
    ok: bool = True,
    latency_ms: float = 12.0,
    status_code: int | None = 200,
    error_kind: str = "",
    error: str = "",
    revision: str = "",
) -> ProbeOutcome:
    if not ok and not error_kind:
        error_kind, error, status_code = "wrong_status", "expected status 200, got 503", 503
    return ProbeOutcome(
        probe_id=probe.pk,
        checked_at=at,
        ok=ok,
        status_code=status_code,
        latency_ms=latency_ms,
        error_kind=error_kind,
        error=error,
        revision=revision,
    )


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)
