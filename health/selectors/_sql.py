"""Histogram sums in SQL for both backends.

Rollup histograms are JSON lists of equal length; summing them element-wise per group is an
unnest-and-group in SQL (``jsonb_array_elements_text`` on PostgreSQL, ``json_each`` on SQLite).
Zero buckets are dropped before grouping: a probe's latencies sit in a few buckets, so this cuts
the rows to group by an order of magnitude.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection

from health import histogram

_PG = """
SELECT {groups}, e.i - 1 AS idx, SUM(e.n::bigint) AS n
FROM {table} r
JOIN health_probe p ON p.id = r.probe_id
CROSS JOIN LATERAL jsonb_array_elements_text(r.histogram) WITH ORDINALITY AS e(n, i)
WHERE {where} AND r.bucket_start >= %s AND r.bucket_start < %s AND e.n <> '0'
GROUP BY {positions}
"""

_SQLITE = """
SELECT {groups}, CAST(e.key AS INTEGER) AS idx, SUM(e.value) AS n
FROM {table} r
JOIN health_probe p ON p.id = r.probe_id, json_each(r.histogram) e
WHERE {where} AND r.bucket_start >= %s AND r.bucket_start < %s AND e.value <> 0
GROUP BY {positions}
"""


def epoch_bucket(step_seconds: int) -> str:
    """SQL for the start (epoch seconds) of the ``step_seconds`` bucket holding r.bucket_start."""
    step = int(step_seconds)
    if connection.vendor == "postgresql":
        return f"(FLOOR(EXTRACT(EPOCH FROM r.bucket_start) / {step})::bigint * {step})"
    return f"((CAST(strftime('%%s', r.bucket_start) AS INTEGER) / {step}) * {step})"


def histograms_by(
    *,
    table: str,
    groups: Sequence[str],
    where: str,
    params: Sequence[int],
    start: datetime,
    end: datetime,
) -> dict[tuple[Any, ...], list[int]]:
    """Merged histogram of the rollups in ``table`` per distinct value of the ``groups`` SQL.

    ``where`` filters rollups (alias ``r``) and probes (alias ``p``) with ``params``; the
    time window is ``start <= r.bucket_start < end``.
    """
    template = _PG if connection.vendor == "postgresql" else _SQLITE
    sql = template.format(
        groups=", ".join(groups),
        table=table,
        where=where,
        positions=", ".join(str(i + 1) for i in range(len(groups) + 1)),
    )
    ops = connection.ops
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
    merged: dict[tuple[Any, ...], list[int]] = defaultdict(histogram.empty)
    for *key, index, count in rows:
        merged[tuple(key)][int(index)] = int(count)
    return dict(merged)
