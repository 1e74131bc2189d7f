"""Per-location latency and state of a service's probes, read from raw results.

Rollups stay per probe (uptime, SLOs and charts count every location's checks); the page's
per-location view covers a recent window only, so it reads the raw results (indexed by probe and
time): at a 10 s interval an hour is 360 rows per probe and location. Percentiles are exact
nearest-rank values picked in SQL with window functions, on both backends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection

from health.models import DEFAULT_LOCATION, Probe

LOCATION_WINDOW = timedelta(hours=1)

_SQL = """
WITH r AS (
    SELECT r.probe_id, r.location, r.ok, r.latency_ms, r.status_code IS NOT NULL AS answered,
           ROW_NUMBER() OVER (PARTITION BY r.probe_id, r.location, r.status_code IS NOT NULL
                              ORDER BY r.latency_ms) AS rn,
           COUNT(*) OVER (PARTITION BY r.probe_id, r.location, r.status_code IS NOT NULL) AS n
    FROM health_proberesult r
    JOIN health_probe p ON p.id = r.probe_id
    WHERE p.service_id = %s AND r.checked_at >= %s AND r.checked_at < %s
)
SELECT probe_id, location, COUNT(*), SUM(CASE WHEN ok THEN 0 ELSE 1 END),
       MAX(CASE WHEN answered AND rn >= 0.50 * n AND rn - 1 < 0.50 * n THEN latency_ms END),
       MAX(CASE WHEN answered AND rn >= 0.95 * n AND rn - 1 < 0.95 * n THEN latency_ms END)
FROM r
GROUP BY probe_id, location
"""


@dataclass(frozen=True)
class LocationRow:
    """One probe at one location over the window: checks, failures, latency and state now."""

    probe_id: int
    probe_name: str
    location: str
    configured: bool  # False: results from a location the probe no longer lists
    checks: int
    failures: int
    p50_ms: float | None
    p95_ms: float | None
    failing: bool  # failing now at this location (its own run of failures, see incidents_logic)
    consecutive_failures: int
    consecutive_successes: int


def service_locations(
    *, service_id: int, probes: Sequence[Probe], now: datetime
) -> list[LocationRow]:
    """Each of ``probes`` (the service's, loaded by the caller) at each of its locations, and at
    any other location that reported in the last ``LOCATION_WINDOW``; in ``probes``' order,
    locations in the probe's order. Empty, without a query, when every probe runs from the
    default location only (a single-worker install has no locations to compare)."""
    if all((probe.locations or [DEFAULT_LOCATION]) == [DEFAULT_LOCATION] for probe in probes):
        return []
    with connection.cursor() as cursor:
        cursor.execute(_SQL, [service_id, now - LOCATION_WINDOW, now])
        figures = {(row[0], row[1]): row[2:] for row in cursor.fetchall()}
    rows: list[LocationRow] = []
    for probe in probes:
        listed = list(probe.locations or [DEFAULT_LOCATION])
        extra = sorted(label for pid, label in figures if pid == probe.id and label not in listed)
        for label in listed + extra:
            checks, failures, p50, p95 = figures.get((probe.id, label), (0, 0, None, None))
            state = probe.location_states.get(label, [0, 0, False])
            rows.append(
                LocationRow(
                    probe_id=probe.id,
                    probe_name=probe.name,
                    location=label,
                    configured=label in listed,
                    checks=int(checks),
                    failures=int(failures or 0),
                    p50_ms=p50,
                    p95_ms=p95,
                    failing=bool(state[2]),
                    consecutive_failures=int(state[0]),
                    consecutive_successes=int(state[1]),
                )
            )
    return rows
