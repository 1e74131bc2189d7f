"""The latency histogram: shape, merging, and how close its percentiles are to the truth."""

from __future__ import annotations

import math
import random

import pytest

from health import histogram
from health.histogram import BOUNDS_MS, MAX_RELATIVE_ERROR


def lognormal_latencies(seed: int, n: int, median_ms: float, sigma: float) -> list[float]:
    rng = random.Random(seed)
    return [rng.lognormvariate(math.log(median_ms), sigma) for _ in range(n)]


def exact_low_rank(values: list[float], q: float) -> float:
    """The sample at rank floor(q * (n - 1)): the one ``percentile`` promises to stay close to."""
    ordered = sorted(values)
    return ordered[math.floor(q * (len(ordered) - 1))]


def exact_interpolated(values: list[float], q: float) -> float:
    """The usual 'linear' percentile (numpy's default)."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def test_bounds_are_increasing_and_end_with_infinity() -> None:
    assert list(BOUNDS_MS) == sorted(set(BOUNDS_MS))
    assert BOUNDS_MS[0] == 1.0
    assert BOUNDS_MS[-2] == 60_000.0
    assert BOUNDS_MS[-1] == math.inf


def test_the_documented_error_bound_is_one_third() -> None:
    assert pytest.approx(1 / 3) == MAX_RELATIVE_ERROR


@pytest.mark.parametrize(
    ("latency_ms", "index"),
    [(0.0, 0), (0.4, 0), (1.0, 0), (1.01, 1), (10.0, 10), (10.5, 11), (60_000.0, 48), (1e9, 49)],
)
def test_a_latency_lands_in_the_bucket_whose_upper_bound_includes_it(
    latency_ms: float, index: int
) -> None:
    assert histogram.bucket_index(latency_ms) == index


@pytest.mark.parametrize("latency_ms", [-1.0, math.nan])
def test_a_negative_or_nan_latency_is_refused(latency_ms: float) -> None:
    with pytest.raises(ValueError, match="non-negative"):
        histogram.bucket_index(latency_ms)


def test_a_histogram_is_a_fixed_length_list_of_ints() -> None:
    hist = histogram.from_latencies([0.5, 3, 3, 250, 99_999])

    assert len(hist) == len(BOUNDS_MS)
    assert all(type(count) is int for count in hist)
    assert sum(hist) == 5


def test_an_empty_histogram_has_no_percentile() -> None:
    assert histogram.percentile(histogram.empty(), 0.5) is None


def test_q_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        histogram.percentile(histogram.from_latencies([5]), 1.5)


def test_a_histogram_of_another_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="buckets"):
        histogram.merge(histogram.empty(), [0, 1, 2])


@pytest.mark.parametrize(
    ("seed", "median_ms", "sigma"), [(1, 40.0, 0.6), (2, 250.0, 1.0), (3, 5.0, 1.5)]
)
@pytest.mark.parametrize("q", [0.0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0])
def test_percentiles_agree_with_exact_ones_within_the_bucket_error(
    seed: int, median_ms: float, sigma: float, q: float
) -> None:
    values = [v for v in lognormal_latencies(seed, 20_000, median_ms, sigma) if 1 <= v <= 60_000]
    hist = histogram.from_latencies(values)

    estimate = histogram.percentile(hist, q)

    assert estimate is not None
    promised = exact_low_rank(values, q)
    assert abs(estimate - promised) <= MAX_RELATIVE_ERROR * promised
    usual = exact_interpolated(values, q)
    assert abs(estimate - usual) <= MAX_RELATIVE_ERROR * usual


def test_the_median_is_typically_much_closer_than_the_bound() -> None:
    values = lognormal_latencies(4, 50_000, 120.0, 0.8)

    estimate = histogram.percentile(histogram.from_latencies(values), 0.5)

    assert estimate == pytest.approx(exact_interpolated(values, 0.5), rel=0.02)


def test_latencies_below_one_ms_are_within_one_ms() -> None:
    values = [0.05, 0.2, 0.3, 0.9]

    estimate = histogram.percentile(histogram.from_latencies(values), 0.5)

    assert estimate is not None
    assert abs(estimate - exact_low_rank(values, 0.5)) <= 1.0


def test_latencies_above_the_last_bound_report_the_bound() -> None:
    hist = histogram.from_latencies([100.0, 90_000.0, 120_000.0])

    assert histogram.percentile(hist, 1.0) == 60_000.0


def test_merge_equals_the_histogram_of_all_samples() -> None:
    a = lognormal_latencies(5, 1000, 30.0, 1.0)
    b = lognormal_latencies(6, 1000, 300.0, 1.0)

    merged = histogram.merge(histogram.from_latencies(a), histogram.from_latencies(b))

    assert merged == histogram.from_latencies(a + b)


def test_merge_is_associative_and_commutative_and_leaves_its_inputs_alone() -> None:
    a, b, c = (histogram.from_latencies(lognormal_latencies(s, 500, 50.0, 1.2)) for s in (7, 8, 9))
    a_before = list(a)

    left = histogram.merge(histogram.merge(a, b), c)
    right = histogram.merge(a, histogram.merge(b, c))

    assert left == right == histogram.merge(c, histogram.merge(b, a))
    assert a == a_before
    assert histogram.merge(a, histogram.empty()) == a


def test_add_counts_into_the_given_histogram() -> None:
    hist = histogram.empty()

    histogram.add(hist, 12.0)
    histogram.add(hist, 12.4)

    assert hist[histogram.bucket_index(12.0)] == 2
    assert sum(hist) == 2
