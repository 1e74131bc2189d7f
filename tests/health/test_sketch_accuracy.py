"""Latency percentiles against the true percentiles of the raw samples, computed with numpy.

Every figure the pages chart is within 2 % of numpy's percentile of the raw latencies: for one
sketch, for one rollup written by the recorder (its upserts merge sketches in SQL), and for
windows of many minute and hour rollups merged in SQL, from one hour to 400 days. The figure is
numpy's default percentile (linear between the two samples around the rank); where a window
holds enough samples for neighbours to be close, the sample at the rank (numpy's "lower") too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from health import sketch
from health.models import ProbeResult, ProbeRollupHour, ProbeRollupMinute
from health.ranges import RANGES
from health.selectors import latency_series, latency_window
from health.selectors._sql import sketches_by
from health.services import probe_results_record
from tests.factories import ServiceFactory
from tests.health.helpers import make_probe, outcome

GOAL = 0.02
QUANTILES = (0.50, 0.95, 0.99)


def draw(distribution: str, rng: np.random.Generator, n: int) -> np.ndarray:
    """Latencies in ms: flat, skewed, and two modes (a fast cache hit and a slow miss)."""
    if distribution == "uniform":
        return rng.uniform(5.0, 500.0, n)
    if distribution == "lognormal":
        return rng.lognormal(np.log(40.0), 0.9, n)
    fast = rng.normal(30.0, 3.0, n)
    slow = rng.lognormal(np.log(400.0), 0.3, n)
    return np.where(rng.random(n) < 0.7, fast, slow).clip(min=1.0)


DISTRIBUTIONS = ("uniform", "lognormal", "bimodal")


def assert_within_goal(estimates: dict[float, float | None], samples: np.ndarray) -> None:
    methods = ("linear", "lower") if len(samples) >= 1000 else ("linear",)
    for q in QUANTILES:
        estimate = estimates[q]
        assert estimate is not None
        for method in methods:
            true = float(np.quantile(samples, q, method=method))
            error = abs(estimate - true) / true
            assert error <= GOAL, (q, method, estimate, true, f"{error:.2%}")


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_one_sketch_reads_within_2_percent_of_numpy(distribution):
    samples = draw(distribution, np.random.default_rng(1), 50_000)

    bins = sketch.from_latencies(samples.tolist())

    assert_within_goal({q: sketch.percentile(bins, q) for q in QUANTILES}, samples)
    # and the bins are few: a sketch's size follows the spread of latencies, not their number
    assert len(bins) < 700


def test_a_sketch_refuses_what_is_not_a_latency():
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="non-negative number of milliseconds"):
            sketch.add({}, bad)
    with pytest.raises(ValueError, match="between 0 and 1"):
        sketch.percentile({"1": 1}, 1.5)
    assert sketch.percentile({}, 0.5) is None
    # zero (a loopback answer below a microsecond) is a sample, read back as 0
    assert sketch.percentile(sketch.from_latencies([0.0, 0.0, 5.0]), 0.5) == 0.0


@pytest.mark.django_db
@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_one_rollup_written_by_the_recorder_reads_within_2_percent(distribution):
    # given 3,000 results of one probe in one minute, recorded in batches of 100 as the worker
    # does (each batch merged into the stored sketch by the upsert)
    probe = make_probe(ServiceFactory())
    start = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    samples = draw(distribution, np.random.default_rng(2), 3_000)
    for offset in range(0, len(samples), 100):
        probe_results_record(
            outcomes=[
                outcome(probe, at=start + timedelta(seconds=(offset + i) / 60), latency_ms=v)
                for i, v in enumerate(samples[offset : offset + 100].tolist())
            ]
        )

    # when the 1 h chart reads the one minute rollup
    [series] = latency_series(
        service_id=probe.service_id, time_range=RANGES["1h"], end=start + timedelta(minutes=30)
    )

    # then its percentiles are those of the raw rows within 2 %
    [point] = series.points
    assert point.samples == ProbeResult.objects.count() == len(samples)
    assert point.error == sketch.RELATIVE_ACCURACY
    assert_within_goal({0.50: point.p50, 0.95: point.p95, 0.99: point.p99}, samples)
    # and the minute and hour rollups hold the same sketch
    minute, hour = ProbeRollupMinute.objects.get(), ProbeRollupHour.objects.get()
    assert minute.sketch == hour.sketch == sketch.from_latencies(samples.tolist())


def _bulk_rollups(model, probe, starts: list[datetime], samples: np.ndarray) -> None:
    """One rollup per start holding its row of ``samples``, as the recorder would write it."""
    model.objects.bulk_create(
        [
            model(
                probe=probe,
                bucket_start=at,
                count=len(row),
                ok_count=len(row),
                latency_sum=float(row.sum()),
                latency_min=float(row.min()),
                latency_max=float(row.max()),
                sketch=sketch.from_latencies(row.tolist()),
            )
            for at, row in zip(starts, samples, strict=True)
        ],
        batch_size=2_000,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_minute_rollups_merged_into_hours_read_within_2_percent(distribution):
    # given a day of minute rollups of two probes, 12 latencies a minute each
    service = ServiceFactory()
    end = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
    starts = [end - timedelta(minutes=m) for m in range(1440, 0, -1)]
    rng = np.random.default_rng(3)
    by_probe = []
    for _ in range(2):
        samples = draw(distribution, rng, len(starts) * 12).reshape(len(starts), 12)
        _bulk_rollups(ProbeRollupMinute, make_probe(service), starts, samples)
        by_probe.append(samples)
    every = np.concatenate(by_probe, axis=1)  # row i: both probes' latencies of minute i

    # when the 24 h chart merges 15 minutes per point
    [series] = latency_series(service_id=service.pk, time_range=RANGES["24h"], end=end)

    # then every point is within 2 % of numpy over the raw latencies of its 15 minutes
    assert len(series.points) == 96
    for index, point in enumerate(series.points):
        raw = every[index * 15 : (index + 1) * 15].ravel()
        assert point.samples == len(raw) == 360
        assert_within_goal({0.50: point.p50, 0.95: point.p95, 0.99: point.p99}, raw)
    # and so is the last hour's 60 minute rollups merged into one window
    [hour] = sketches_by(
        table=ProbeRollupMinute._meta.db_table,
        groups=["1"],
        where="p.service_id = %s",
        params=[service.pk],
        start=end - timedelta(hours=1),
        end=end,
    ).values()
    raw = every[-60:].ravel()
    assert hour.samples == len(raw) == 1440
    assert_within_goal({q: hour.percentile(q) for q in QUANTILES}, raw)


@pytest.mark.django_db
@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_hour_rollups_merged_over_windows_up_to_400_days_read_within_2_percent(distribution):
    # given 400 days of hour rollups of one service, 30 latencies an hour
    service = ServiceFactory()
    probe = make_probe(service)
    end = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
    hours = 400 * 24
    starts = [end - timedelta(hours=h) for h in range(hours, 0, -1)]
    samples = draw(distribution, np.random.default_rng(4), hours * 30).reshape(hours, 30)
    _bulk_rollups(ProbeRollupHour, probe, starts, samples)

    for span in (timedelta(hours=1), timedelta(days=1), timedelta(days=7), timedelta(days=30),
                 timedelta(days=90), timedelta(days=400)):  # fmt: skip
        # when the window is merged in SQL
        merged = latency_window(start=end - span, end=end, service_ids=[service.pk])

        # then its percentiles are within 2 % of numpy over its raw latencies
        raw = samples[hours - int(span.total_seconds() // 3600) :].ravel()
        assert merged.samples == len(raw), span
        assert merged.error == sketch.RELATIVE_ACCURACY
        assert_within_goal({q: merged.percentile(q) for q in QUANTILES}, raw)
