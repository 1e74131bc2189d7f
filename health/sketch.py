"""Mergeable latency sketches with a guaranteed relative error (DDSketch, sparse bins).

A sketch is a plain ``dict[str, int]``: bin key → count. The key of a latency is
``ddsketch``'s ``LogarithmicMapping`` key at ``RELATIVE_ACCURACY`` (1 %), so every latency that
lands in a bin is within 1 % of the bin's representative value, and a percentile read from the
bins is within 1 % of the true one (DDSketch, Masson et al., VLDB 2019). Latencies
below ``MIN_MS`` share the ``ZERO_KEY`` bin and read back as 0 (an absolute error under 1 µs).

Keys are strings because the sketch is stored as a JSON object per rollup: merging many rollups
is ``SUM(count) GROUP BY key`` over ``jsonb_each_text`` (PostgreSQL) or ``json_each`` (SQLite),
and two sketches merge exactly, in any order, with no loss of accuracy. Only bins that hold a
sample are stored: an hour of one probe fills a few dozen of them, a minute one to six.

Rollups written before sketches carried fixed-bucket histograms with up to 33 % error
(``LEGACY_RELATIVE_ERROR``); they were converted to bins at their bucket's geometric middle and
keep that bound in ``latency_error`` until ``manage.py rebuild_latency_sketches`` recomputes
them from raw results. This module is pure Python (no Django): the probe worker, the rollup
service, the selectors and the benches share it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from ddsketch.mapping import LogarithmicMapping

RELATIVE_ACCURACY = 0.01
"""Guaranteed relative error of a percentile read from a sketch, against numpy's default
percentile of the raw samples (see ``percentile``); the pages' goal is ± 2 %."""

LEGACY_RELATIVE_ERROR = 1 / 3
"""Bound of the fixed-bucket histograms that rollups carried before sketches."""

MIN_MS = 0.001
"""Latencies below this (1 µs) count in ``ZERO_KEY`` and read back as 0 ms."""

ZERO_KEY = "z"

_MAPPING = LogarithmicMapping(RELATIVE_ACCURACY)

Sketch = dict[str, int]


def key_of(latency_ms: float) -> str:
    """The bin key of ``latency_ms``.

    Raises ``ValueError`` for a negative, infinite or NaN latency: that is a measuring bug, not
    a sample.
    """
    if not 0 <= latency_ms < math.inf:  # written this way so NaN fails too
        raise ValueError(f"latency must be a non-negative number of milliseconds, got {latency_ms}")
    if latency_ms < MIN_MS:
        return ZERO_KEY
    return str(_MAPPING.key(latency_ms))


def value_of(key: str) -> float:
    """The representative latency (ms) of bin ``key``: within 1 % of every latency in the bin."""
    if key == ZERO_KEY:
        return 0.0
    return _MAPPING.value(int(key))


def add(sketch: Sketch, latency_ms: float, count: int = 1) -> None:
    """Count ``latency_ms`` into ``sketch`` in place."""
    key = key_of(latency_ms)
    sketch[key] = sketch.get(key, 0) + count


def from_latencies(values: Iterable[float]) -> Sketch:
    sketch: Sketch = {}
    for value in values:
        add(sketch, value)
    return sketch


def merge(*sketches: Mapping[str, int]) -> Sketch:
    """A new sketch holding the counts of all ``sketches`` (the sum per key)."""
    merged: Sketch = {}
    for sketch in sketches:
        for key, count in sketch.items():
            merged[key] = merged.get(key, 0) + int(count)
    return merged


def total(sketch: Mapping[str, int]) -> int:
    return sum(int(count) for count in sketch.values())


def percentile(sketch: Mapping[str, int], q: float) -> float | None:
    """The ``q``-quantile (``q`` in [0, 1]) of the latencies counted in ``sketch``, in ms.

    Returns ``None`` for an empty sketch. Read the way numpy's default reads raw samples: the
    samples at ranks ``floor(q * (n - 1))`` and the one after, interpolated linearly. Each is
    stood for by its bin's value, within ``RELATIVE_ACCURACY`` of it (DDSketch), and a weighted
    mean of two values each within 1 % is within 1 % of their weighted mean: so the estimate is
    within 1 % of numpy's percentile of the raw samples, however few there are.
    """
    return percentiles(sketch, (q,))[0]


def percentiles(sketch: Mapping[str, int], qs: Sequence[float]) -> list[float | None]:
    """``percentile`` of ``sketch`` at each of ``qs``, sorting its bins once."""
    for q in qs:
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"q must be between 0 and 1, got {q}")
    bins = sorted(
        ((value_of(key), int(count)) for key, count in sketch.items() if int(count) > 0),
    )
    n = sum(count for _, count in bins)
    if n == 0:
        return [None] * len(qs)
    found: list[float | None] = []
    for q in qs:
        position = q * (n - 1)
        low_rank = math.floor(position)
        low = _value_at(bins, low_rank)
        fraction = position - low_rank
        found.append(
            low if fraction == 0 else low + (_value_at(bins, low_rank + 1) - low) * fraction
        )
    return found


def _value_at(bins: list[tuple[float, int]], rank: int) -> float:
    """The value of the bin holding the sample at ``rank`` (0-based) of the sorted samples."""
    seen = 0
    for value, count in bins:
        seen += count
        if seen > rank:
            return value
    return bins[-1][0]


def error_text(error: float) -> str:
    """The bound as people read it: "± 1 %" or "± 33 %"."""
    return f"± {max(1, round(error * 100))} %"
