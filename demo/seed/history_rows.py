"""The synthetic test history's shape: failure clusters, how each test behaves, rows per run.

Pure Python, no database: `history.py` writes what these produce.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

# (kind, message template); templates take n (a number) and ip. Every message a template makes
# normalizes alike (runs.signatures), so each cluster is one signature, as it would be on import.
CLUSTERS = [
    ("error", "ConnectionRefusedError: connection refused to {ip}:5432"),
    ("failed", "AssertionError: expected status 200, got 503 from {ip}:8080"),
    ("failed", "TimeoutError: stream did not complete within {n}.0 s"),
    ("failed", "AssertionError: assert {n} == 42"),
    ("error", "KeyError: 'thread_{n}' not found in response"),
]
AREAS = ["auth", "threads", "messages", "agents", "streaming", "billing", "search", "admin"]


@dataclass(frozen=True)
class CaseProfile:
    """How one synthetic test behaves across the history."""

    pk: int
    base_duration: float
    flaky: bool
    trivial: bool
    skipped: bool
    cluster: int  # which failure cluster it belongs to when one strikes


def copy_escape(text: str) -> str:
    """Text for PostgreSQL's COPY text format: backslash, tab and newline escaped."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def run_rows(
    *,
    profiles: list[CaseProfile],
    fail_rate: float,
    cluster: int | None,
    broken: set[int],
    signature_ids: list[int],
    rng: random.Random,
) -> Iterator[tuple]:
    """(case_id, outcome, duration, message, details, attempts, flaky, signature_id) per test."""
    rand = rng.random
    for p in profiles:
        if p.skipped:
            yield p.pk, "skipped", 0.0, "", "", 1, False, None
            continue
        if p.trivial:
            yield p.pk, "passed", 0.0002, "", "", 1, False, None
            continue
        duration = p.base_duration * (0.8 + 0.4 * rand())
        index = None
        if p.pk in broken:
            index = 3
        elif cluster is not None and p.cluster == cluster:
            index = cluster
        elif rand() < fail_rate:
            index = rng.randrange(len(CLUSTERS))
        elif p.flaky:
            roll = rand()
            if roll < 0.15:
                yield p.pk, "passed", duration * 2, "", "", 2, True, None
                continue
            if roll < 0.18:
                index = 2
        if index is None:
            yield p.pk, "passed", duration, "", "", 1, False, None
            continue
        kind, template = CLUSTERS[index]
        text = template.format(ip=f"10.0.{rng.randrange(9)}.7", n=rng.randrange(99))
        message = copy_escape(text)
        details = f"Traceback (most recent call last):\\n  File test.py, line 42\\n{message}"
        yield p.pk, kind, duration, message, details, 1, False, signature_ids[index]
