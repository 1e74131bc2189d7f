"""Wait until a new revision answers its service's probes: N consecutive healthy checks."""

from __future__ import annotations

import time
from dataclasses import dataclass

from health.models import Probe
from health.probing import probes_execute
from health.services.probes import probe_specs_build, service_probe_ensure
from health.services.recording import probe_results_record
from runs.models import Service


@dataclass
class Stability:
    stable: bool
    checks: int
    last_error: str


def revision_wait_stable(
    *, service: Service, consecutive: int = 2, window_seconds: float = 60, spacing: float = 0.5
) -> Stability:
    """Probe the service's current revision until `consecutive` rounds in a row are all healthy.

    Uses the service's own probes (a default one on its health path if it has none) and records
    every result, so the wait shows on the health page like any other probe.
    """
    service_probe_ensure(service=service)
    probes = list(
        Probe.objects.filter(service=service, enabled=True).select_related(
            "service__current_revision"
        )
    )
    deadline = time.monotonic() + window_seconds
    streak, checks, last_error = 0, 0, ""
    while time.monotonic() < deadline:
        specs, _skipped = probe_specs_build(probes)
        if not specs:
            return Stability(False, checks, "the service has no URL to probe")
        outcomes = probes_execute(specs, concurrency=10)
        probe_results_record(outcomes=outcomes)
        checks += 1
        bad = [o for o in outcomes if not o.ok]
        if bad:
            streak, last_error = 0, bad[0].error
        else:
            streak += 1
            if streak >= consecutive:
                return Stability(True, checks, "")
        time.sleep(spacing)
    return Stability(False, checks, last_error or "no healthy answer within the window")
