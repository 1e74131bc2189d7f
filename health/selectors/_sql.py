"""Sketch merges in SQL for both backends.

Rollup sketches are JSON objects of sparse bins (key → count, ``health.sketch``); merging them
per group is an unnest-and-group in SQL (``jsonb_each_text`` on PostgreSQL, ``json_each`` on
SQLite): one row per stored bin, summed per (group, key). A year of hour rollups of a probe is
8,760 rows of a few dozen bins each, read in one pass; the percentiles are then read from the
merged bins here. Each group also carries the largest ``latency_error`` of its rollups: the
bound of a merged window is that of its least accurate rollup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection

from health import sketch as sketches

_PG = """
SELECT {groups}, e.k, SUM(e.n::bigint) AS n, MAX(r.latency_error)
FROM {table} r
JOIN health_probe p ON p.id = r.probe_id
CROSS JOIN LATERAL jsonb_each_text(r.sketch) AS e(k, n)
WHERE {where} AND r.bucket_start >= %s AND r.bucket_start < %s
GROUP BY {positions}
"""

_SQLITE = """
SELECT {groups}, e.key, SUM(e.value) AS n, MAX(r.latency_error)
FROM {table} r
JOIN health_probe p ON p.id = r.probe_id, json_each(r.sketch) e
WHERE {where} AND r.bucket_start >= %s AND r.bucket_start < %s
GROUP BY {positions}
"""


@dataclass
class Merged:
    """The merged sketch of a group of rollups and the error bound of its percentiles."""

    sketch: sketches.Sketch = field(default_factory=dict)
    error: float = 0.0

    def percentile(self, q: float) -> float | None:
        return sketches.percentile(self.sketch, q)

    @property
    def samples(self) -> int:
        return sketches.total(self.sketch)


def epoch_bucket(step_seconds: int) -> str:
    """SQL for the start (epoch seconds) of the ``step_seconds`` bucket holding r.bucket_start."""
    step = int(step_seconds)
    if connection.vendor == "postgresql":
        return f"(FLOOR(EXTRACT(EPOCH FROM r.bucket_start) / {step})::bigint * {step})"
    return f"((CAST(strftime('%%s', r.bucket_start) AS INTEGER) / {step}) * {step})"


def sketches_by(
    *,
    table: str,
    groups: Sequence[str],
    where: str,
    params: Sequence[Any],
    start: datetime,
    end: datetime,
) -> dict[tuple[Any, ...], Merged]:
    """Merged sketch of the rollups in ``table`` per distinct value of the ``groups`` SQL.

    ``where`` filters rollups (alias ``r``) and probes (alias ``p``) with ``params``; the
    time window is ``start <= r.bucket_start < end``. Groups without any latency are absent.
    """
    template = _PG if connection.vendor == "postgresql" else _SQLITE
    sql = template.format(
        groups=", ".join(groups),
        table=table,
        where=where,
        positions=", ".join(str(i + 1) for i in range(len(groups) + 1)),
    )
    ops = connection.ops
    # (JIT is off for PostgreSQL connections, dashboard/settings.py: the planner guesses 100 bins
    # per sketch, and compiled these merges for seconds.)
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                *params,
                ops.adapt_datetimefield_value(start),
                ops.adapt_datetimefield_value(end),
            ],
        )
        rows = cursor.fetchall()
    merged: dict[tuple[Any, ...], Merged] = {}
    for *key, bin_key, count, error in rows:
        item = merged.setdefault(tuple(key), Merged())
        item.sketch[str(bin_key)] = int(count)
        item.error = max(item.error, float(error))
    return merged
