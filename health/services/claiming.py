"""Claiming due probes: the database is the work queue.

A claim moves each due probe's ``next_probe_at`` one interval ahead in the same statement that
selects it, so two dispatchers (two beats, or a beat and a manual run) never hand out one probe
twice. The phase is kept (``due + interval``) so probes do not drift later tick by tick; a probe
that fell more than an interval behind skips the missed checks instead of firing them all at once.

A probe run from several locations is claimed once per due time and sent to every location
(``health.tasks.probes_dispatch``): the locations check it at the same moments, which is what lets
k of n of them agree on an outage.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from django.db import connection, transaction

from health.models import Probe

_PG_CLAIM = """
WITH due AS (
    SELECT id, COALESCE(next_probe_at, %(now)s) AS due_at, interval_seconds
    FROM health_probe
    WHERE enabled AND (next_probe_at IS NULL OR next_probe_at <= %(now)s)
    ORDER BY next_probe_at NULLS FIRST, id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE health_probe AS p
SET next_probe_at = CASE
    WHEN due.due_at + make_interval(secs => due.interval_seconds) > %(now)s
    THEN due.due_at + make_interval(secs => due.interval_seconds)
    ELSE %(now)s + make_interval(secs => due.interval_seconds)
END
FROM due
WHERE p.id = due.id
RETURNING p.id, due.due_at, p.locations
"""


def probes_claim_due(*, now: datetime, limit: int) -> list[int]:
    """Claim up to ``limit`` enabled probes due at or before ``now``; return their ids.

    Each claimed probe's ``next_probe_at`` has moved past ``now`` when this returns, so no
    concurrent caller can claim it again until its next due time.
    """
    return [probe_id for probe_id, _ in probes_claim_due_with_times(now=now, limit=limit)]


def probes_claim_due_with_times(*, now: datetime, limit: int) -> list[tuple[int, datetime]]:
    """Like ``probes_claim_due``, with the time each probe was due (earliest first)."""
    return [(pid, due) for pid, due, _ in probes_claim_due_located(now=now, limit=limit)]


def probes_claim_due_located(*, now: datetime, limit: int) -> list[tuple[int, datetime, list[str]]]:
    """Like ``probes_claim_due_with_times``, with the locations each probe runs from."""
    if limit < 1:
        return []
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_PG_CLAIM, {"now": now, "limit": limit})
            rows = [
                (pid, due, json.loads(labels) if isinstance(labels, str) else labels)
                for pid, due, labels in cursor.fetchall()
            ]
        return sorted(rows, key=lambda row: (row[1], row[0]))
    return _claim_portable(now=now, limit=limit)


def _claim_portable(*, now: datetime, limit: int) -> list[tuple[int, datetime, list[str]]]:
    # SQLite: settings open every transaction with BEGIN IMMEDIATE, which takes the write lock at
    # once, so this select-then-update is exclusive against any other claimer.
    with transaction.atomic():
        probes = list(
            Probe.objects.filter(enabled=True)
            .exclude(next_probe_at__gt=now)
            .order_by("next_probe_at", "id")
            .only("id", "next_probe_at", "interval_seconds", "locations")[:limit]
        )
        claimed: list[tuple[int, datetime, list[str]]] = []
        for probe in probes:
            due = probe.next_probe_at or now
            interval = timedelta(seconds=probe.interval_seconds)
            probe.next_probe_at = due + interval if due + interval > now else now + interval
            claimed.append((probe.id, due, probe.locations))
        Probe.objects.bulk_update(probes, ["next_probe_at"])
    return claimed
