"""Default probes for services, and turning Probe rows into what the prober needs."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from health.models import Probe
from health.probing import ProbeSpec
from runs.models import Service

DEFAULT_PROBE_NAME = "health"


def probe_default_for(service: Service) -> Probe:
    """Return an unsaved probe of ``service``'s health path with the default thresholds.

    Its first check is spread over the next interval so that many new probes do not all fire in
    the same second.
    """
    interval = int(getattr(settings, "HEALTH_DEFAULT_INTERVAL_SECONDS", 30))
    return Probe(
        service=service,
        name=DEFAULT_PROBE_NAME,
        path=service.health_path or "/",
        method="GET",
        expected_statuses=[200],
        interval_seconds=interval,
        timeout_seconds=5.0,
        next_probe_at=timezone.now() + timedelta(seconds=random.uniform(0, interval)),
    )


def service_probe_ensure(*, service: Service) -> Probe:
    """Give ``service`` its default probe unless it already has one; return that probe.

    Safe to call twice, and from two processes at once (the unique name decides the race).
    """
    existing = service.probes.order_by("pk").first()
    if existing is not None:
        return existing
    default = probe_default_for(service)
    with transaction.atomic():
        probe, _ = Probe.objects.get_or_create(
            service=service,
            name=DEFAULT_PROBE_NAME,
            defaults={
                field: getattr(default, field)
                for field in (
                    "path",
                    "method",
                    "expected_statuses",
                    "interval_seconds",
                    "timeout_seconds",
                    "next_probe_at",
                )
            },
        )
    return probe


def probe_url(probe: Probe) -> str:
    """The URL ``probe`` checks: its own full URL, or its path on the service's current URL."""
    if probe.url:
        return probe.url
    base = probe.service.url
    if not base:
        return ""
    return base.rstrip("/") + "/" + probe.path.lstrip("/")


def probe_specs_build(
    probes: Iterable[Probe], *, due_at: Mapping[int, datetime] | None = None
) -> tuple[list[ProbeSpec], list[int]]:
    """Turn probe rows (with ``service__current_revision`` loaded) into specs.

    Returns the specs and the ids of probes that have nothing to check yet (a service with no
    URL and no deployed revision); those are skipped, not recorded as failures.
    """
    specs: list[ProbeSpec] = []
    skipped: list[int] = []
    now = timezone.now()
    for probe in probes:
        url = probe_url(probe)
        if not url:
            skipped.append(probe.id)
            continue
        due = (due_at or {}).get(probe.id)
        specs.append(
            probe_spec(probe, url=url, not_before=due if due is not None and due > now else None)
        )
    return specs, skipped


def probe_spec(probe: Probe, *, url: str, not_before: datetime | None = None) -> ProbeSpec:
    """The spec of ``probe``'s conditions, checked at ``url``."""
    return ProbeSpec(
        probe_id=probe.id,
        url=url,
        method=probe.method or "GET",
        expected_status=tuple(int(s) for s in probe.expected_statuses) or (200,),
        body_contains=probe.body_contains,
        json_field=probe.json_field,
        json_value=probe.json_value,
        latency_threshold_ms=probe.latency_threshold_ms,
        timeout_s=probe.timeout_seconds,
        not_before=not_before,
    )
