"""Mergeable latency histograms with fixed bucket bounds.

A histogram is a plain ``list[int]`` of length ``len(BOUNDS_MS)``: bucket ``i`` counts latencies in
``(BOUNDS_MS[i - 1], BOUNDS_MS[i]]`` (bucket 0 counts ``[0, BOUNDS_MS[0]]``, the last bucket counts
everything above 60 s). Because every histogram has the same shape, rollups can store it as a
PostgreSQL ``integer[]`` or a JSON list and merge many of them by summing element-wise in SQL; the
percentile is then read from the merged list here.

Error bound
-----------
Consecutive bounds from 1 ms to 60 s grow by a factor of at most 4/3 (1, 1.25, 1.5, 2, 2.5, 3, 4,
5, 6, 7.5, 10, ... per decade). An estimate and the sample it stands for fall in the same bucket,
so for latencies of at least 1 ms the relative error is at most ``MAX_RELATIVE_ERROR`` (1/3, that
is 33 %); interpolation makes the typical error far smaller. Below 1 ms the error is at most
1 ms absolute. Above 60 s the histogram only knows "more than 60 s" and reports 60 000 ms.

This module is pure Python (no Django) so that the probe worker, the rollup service and the charts
share one definition.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable
from itertools import pairwise

# Ten steps per decade with a step ratio of at most 4/3; values people read easily on a chart axis.
_DECADE_STEPS = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.5)

BOUNDS_MS: tuple[float, ...] = (
    *(step * 10**exp for exp in range(4) for step in _DECADE_STEPS),  # 1 ms .. 7.5 s
    10_000.0,
    12_500.0,
    15_000.0,
    20_000.0,
    25_000.0,
    30_000.0,
    40_000.0,
    50_000.0,
    60_000.0,
    math.inf,
)
"""Upper bound (inclusive) of each bucket in milliseconds; the last one is ``inf``."""

MAX_RELATIVE_ERROR: float = max(hi / lo - 1 for lo, hi in pairwise(BOUNDS_MS[:-1]))
"""Worst-case relative error of ``percentile`` for latencies between 1 ms and 60 s (1/3)."""

N_BUCKETS: int = len(BOUNDS_MS)


def bucket_index(latency_ms: float) -> int:
    """Return the index of the bucket that counts ``latency_ms``.

    Raises ``ValueError`` for a negative or NaN latency: that is a measuring bug, not a sample.
    """
    if not latency_ms >= 0:  # written this way so NaN fails too
        raise ValueError(f"latency must be a non-negative number of milliseconds, got {latency_ms}")
    return bisect_left(BOUNDS_MS, latency_ms)


def bucket_range(index: int) -> tuple[float, float]:
    """Return the ``(lower, upper)`` bounds in ms of bucket ``index`` (upper is ``inf`` last)."""
    lower = 0.0 if index == 0 else BOUNDS_MS[index - 1]
    return lower, BOUNDS_MS[index]


def empty() -> list[int]:
    """Return a new histogram with every bucket at zero."""
    return [0] * N_BUCKETS


def add(hist: list[int], latency_ms: float) -> None:
    """Count one latency into ``hist`` in place."""
    hist[bucket_index(latency_ms)] += 1


def merge(a: list[int], b: list[int]) -> list[int]:
    """Return a new histogram holding the counts of both ``a`` and ``b`` (element-wise sum)."""
    _check_shape(a)
    _check_shape(b)
    return [x + y for x, y in zip(a, b, strict=True)]


def from_latencies(values: Iterable[float]) -> list[int]:
    """Return a histogram of the given latencies in milliseconds."""
    hist = empty()
    for value in values:
        add(hist, value)
    return hist


def percentile(hist: list[int], q: float) -> float | None:
    """Estimate the ``q``-quantile (``q`` in [0, 1]) of the latencies counted in ``hist``, in ms.

    Returns ``None`` for an empty histogram. The estimate targets the sample at rank
    ``floor(q * (n - 1))`` of the sorted latencies and always lies in that sample's bucket, so
    its relative error is at most ``MAX_RELATIVE_ERROR`` for samples from 1 ms to 60 s (see the
    module docstring). Inside the bucket, the samples are assumed to be spread evenly, each at the
    centre of its share of the bucket's width; that is the linear interpolation.
    """
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"q must be between 0 and 1, got {q}")
    _check_shape(hist)
    total = sum(hist)
    if total == 0:
        return None

    rank = math.floor(q * (total - 1))
    seen = 0
    for index, count in enumerate(hist):
        if count and rank < seen + count:
            lower, upper = bucket_range(index)
            if math.isinf(upper):
                # Nothing is known above the last finite bound, so report the bound itself.
                return lower
            position = (q * (total - 1) - seen + 0.5) / count
            return lower + (upper - lower) * min(position, 1.0)
        seen += count
    raise AssertionError("unreachable: rank is always below the total count")


def _check_shape(hist: list[int]) -> None:
    if len(hist) != N_BUCKETS:
        raise ValueError(
            f"a latency histogram has {N_BUCKETS} buckets, got {len(hist)}; "
            "was it stored with a different set of bounds?"
        )
