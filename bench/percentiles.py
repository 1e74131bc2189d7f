"""Benchmark: the measured error of latency percentiles, the cost of sketching a result, and
merging a year of hour rollups of 50 services in SQL.

    .venv/bin/python bench/percentiles.py                      # parts 1 and 2 (no database)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/stageloop_bench_pct \\
        .venv/bin/python bench/percentiles.py --sql              # and part 3 (wipes health rows)

1. For uniform, log-normal and bimodal latencies: hour sketches (a probe every 10 s, 360
   samples an hour) merged into windows of 1 hour to 400 days; the largest relative error of
   p50/p95/p99 against numpy's percentiles of the raw samples (default interpolation, and
   "lower", the rank the sketch targets), beside the old fixed-bucket histogram's error.
2. Microseconds to count one latency into a sketch (the probe worker's share) and into the old
   histogram; bins per hour sketch.
3. With ``--sql`` (or ``--sql-only``): 50 services x one probe x 400 days of hour rollups
   (480,000 rows) written with SQL, then the time of the merges the pages run (median of 5;
   once for the 50-service merges).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from bisect import bisect_left
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from health import sketch

# The fixed-bucket histogram rollups carried before sketches, for comparison.
_STEPS = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.5)
OLD_BOUNDS = (
    *(step * 10**exp for exp in range(4) for step in _STEPS),
    *(10_000.0, 12_500.0, 15_000.0, 20_000.0, 25_000.0, 30_000.0, 40_000.0, 50_000.0, 60_000.0),
    math.inf,
)


def old_add(hist: list[int], value: float) -> None:
    hist[bisect_left(OLD_BOUNDS, value)] += 1


def old_percentile(hist: list[int], q: float) -> float:
    """The old reader: linear interpolation inside the bucket of rank floor(q * (n - 1))."""
    total = sum(hist)
    rank = math.floor(q * (total - 1))
    seen = 0
    for index, count in enumerate(hist):
        if count and rank < seen + count:
            lower = 0.0 if index == 0 else OLD_BOUNDS[index - 1]
            upper = OLD_BOUNDS[index]
            if math.isinf(upper):
                return lower
            position = (q * (total - 1) - seen + 0.5) / count
            return lower + (upper - lower) * min(position, 1.0)
        seen += count
    raise AssertionError


def draw(distribution: str, rng: np.random.Generator, n: int) -> np.ndarray:
    if distribution == "uniform":
        return rng.uniform(5.0, 500.0, n)
    if distribution == "lognormal":
        return rng.lognormal(np.log(40.0), 0.9, n)
    fast = rng.normal(30.0, 3.0, n)
    slow = rng.lognormal(np.log(400.0), 0.3, n)
    return np.where(rng.random(n) < 0.7, fast, slow).clip(min=1.0)


WINDOWS = {"1 h": 1, "1 d": 24, "7 d": 24 * 7, "30 d": 24 * 30, "400 d": 24 * 400}
QUANTILES = (0.50, 0.95, 0.99)


def accuracy(per_hour: int) -> None:
    print(f"1. percentile error, hour sketches of {per_hour} samples merged per window")
    print(f"   {'distribution':<12} {'window':>6} {'samples':>10}  "
          f"{'sketch vs numpy':>16} {'(lower)':>8}  {'old histogram':>13}")  # fmt: skip
    worst = 0.0
    for distribution in ("uniform", "lognormal", "bimodal"):
        rng = np.random.default_rng(42)
        hours = max(WINDOWS.values())
        samples = draw(distribution, rng, hours * per_hour).reshape(hours, per_hour)
        sketches = []
        olds = []
        for row in samples:
            values = row.tolist()
            sketches.append(sketch.from_latencies(values))
            hist = [0] * len(OLD_BOUNDS)
            for v in values:
                old_add(hist, v)
            olds.append(hist)
        for label, span in WINDOWS.items():
            merged = sketch.merge(*sketches[-span:])
            old = [sum(col) for col in zip(*olds[-span:], strict=True)]
            raw = samples[-span:].ravel()
            errors = {"linear": 0.0, "lower": 0.0, "old": 0.0}
            for q in QUANTILES:
                estimate = sketch.percentile(merged, q)
                assert estimate is not None
                for method in ("linear", "lower"):
                    true = float(np.quantile(raw, q, method=method))
                    errors[method] = max(errors[method], abs(estimate - true) / true)
                true = float(np.quantile(raw, q))
                errors["old"] = max(errors["old"], abs(old_percentile(old, q) - true) / true)
            worst = max(worst, errors["linear"])
            print(
                f"   {distribution:<12} {label:>6} {len(raw):>10,}  {errors['linear']:>15.3%} "
                f"{errors['lower']:>8.3%}  {errors['old']:>13.2%}"
            )
    print(f"   worst sketch error against numpy's default: {worst:.3%} (goal ≤ 2 %, bound 1 %)")
    print("   (the sketch reads like numpy's default; 'lower' is the sample at the rank, which")
    print("   differs from it in small windows where neighbouring samples are far apart)")


def add_cost(per_hour: int) -> None:
    values = np.random.default_rng(7).lognormal(np.log(40.0), 0.9, 200_000).tolist()
    bins: dict[str, int] = {}
    start = time.perf_counter()
    for v in values:
        sketch.add(bins, v)
    sketch_us = (time.perf_counter() - start) / len(values) * 1e6
    hist = [0] * len(OLD_BOUNDS)
    start = time.perf_counter()
    for v in values:
        old_add(hist, v)
    old_us = (time.perf_counter() - start) / len(values) * 1e6
    sizes = [
        len(sketch.from_latencies(values[i : i + per_hour]))
        for i in range(0, 100 * per_hour, per_hour)
    ]
    print("2. counting one latency (probe worker's share of a result)")
    print(f"   sketch: {sketch_us:.2f} µs   old histogram: {old_us:.2f} µs")
    print(
        f"   bins per hour sketch ({per_hour} log-normal samples): median "
        f"{statistics.median(sizes):.0f}, max {max(sizes)}; JSON "
        f"{len(json.dumps(sketch.from_latencies(values[:per_hour])))} bytes "
        f"(old histogram: {len(OLD_BOUNDS)} counts)"
    )


def sql_merge(services: int, days: int, per_hour: int) -> None:
    from bench._django import setup

    setup("stageloop_bench_pct")
    from django.db import connection

    from health.models import Probe
    from health.ranges import RANGES
    from health.selectors import latency_series, latency_window
    from health.selectors.latency import latency_p95_by_service
    from runs.models import Service

    if connection.vendor != "postgresql":
        print("3. skipped: --sql needs DATABASE_URL of a throwaway PostgreSQL database")
        return
    Service.objects.filter(name__startswith="bench-pct-").delete()
    end = datetime.now(tz=UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=days)
    rng = np.random.default_rng(5)
    # 24 distinct hour shapes per service, cycled: realistic bins without a Python loop per row.
    shapes = [
        json.dumps(sketch.from_latencies(rng.lognormal(np.log(30 + 5 * k), 0.5, per_hour).tolist()))
        for k in range(24)
    ]
    ids = []
    began = time.perf_counter()
    for n in range(services):
        service = Service.objects.create(name=f"bench-pct-{n:02d}")
        probe = Probe.objects.create(service=service, name="healthz", path="/healthz")
        ids.append(service.pk)
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO health_proberolluphour (probe_id, bucket_start, count, ok_count,
                    latency_sum, latency_min, latency_max, sketch, latency_error)
                SELECT %s, t, %s, %s, 0, 1, 100, (%s::jsonb[])[1 + (g.n %% 24)], %s
                FROM generate_series(%s::timestamptz, %s::timestamptz, '1 hour')
                     WITH ORDINALITY AS g(t, n)
                """,
                [probe.pk, per_hour, per_hour, shapes, sketch.RELATIVE_ACCURACY, start, end],
            )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE health_proberolluphour")
    rows = services * days * 24
    print(f"3. SQL merges over {rows:,} hour rollups ({services} services x {days} days), "
          f"written in {time.perf_counter() - began:.0f} s")  # fmt: skip

    def timed(label: str, call, repeat: int = 5) -> None:
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            call()
            times.append((time.perf_counter() - t) * 1000)
        print(f"   {label:<58} median {statistics.median(times):7.0f} ms")

    year = timedelta(days=days)
    timed(
        "one service, whole window, one merged sketch",
        lambda: latency_window(start=end - year, end=end, service_ids=ids[:1]),
    )
    timed(
        "one service, 90 d chart (12 h points)",
        lambda: latency_series(service_id=ids[0], time_range=RANGES["90d"], end=end),
    )
    timed(
        f"{services} services, 90 d sparklines in one query",
        lambda: latency_p95_by_service(service_ids=ids, time_range=RANGES["90d"], end=end),
        repeat=1,
    )
    timed(
        f"{services} services, whole window, one merged sketch",
        lambda: latency_window(start=end - year, end=end, service_ids=ids),
        repeat=1,
    )
    Service.objects.filter(name__startswith="bench-pct-").delete()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--per-hour", type=int, default=360, help="samples per hour sketch")
    parser.add_argument("--sql", action="store_true", help="part 3, on DATABASE_URL")
    parser.add_argument("--sql-only", action="store_true", help="part 3 alone")
    parser.add_argument("--services", type=int, default=50)
    parser.add_argument("--days", type=int, default=400)
    args = parser.parse_args()
    if not args.sql_only:
        accuracy(args.per_hour)
        add_cost(args.per_hour)
    if args.sql or args.sql_only:
        if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
            print("3. --sql needs DATABASE_URL of a throwaway PostgreSQL database")
            return 2
        sql_merge(args.services, args.days, args.per_hour)
    return 0


if __name__ == "__main__":
    sys.exit(main())
