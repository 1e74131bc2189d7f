"""Benchmark: the overview cards' latency read and the health page with a year of rollups for
50 services (issue 19: p95 under 200 ms), PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/stageloop_bench_health \\
        .venv/bin/python bench/health_pages.py [--repeat 10] [--ranges 24h,7d,30d,90d,1y]

Seeds once (reused by later runs): 50 services with one probe each and a revision a week,
366 days of hour rollups (439,200 rows) and the last ``--minute-days`` days of minute rollups,
written with COPY; sketches are cycled from 24 log-normal hour shapes of 360 samples (a probe
every 10 s). Where the code has day rollups, they are built from the hour rollups
(``day_rollups_refresh``), and where it has sealed latency points, the closed hours and days
are sealed (``latency_points_seal``, the beat task's first pass after an upgrade); both times
are printed. Then, per range, p50/p95 of:

- the overview cards' latency read (``latency_p95_by_service`` for all 50 services, as
  ``cards_decorate`` calls it), and
- the whole health page of one service (Django test client, as a logged-in Viewer),

with the ratio of p95 to the 200 ms goal and the query counts. The machine's load is printed:
on a shared machine compare ratios between runs, not absolute times.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

GOAL_MS = 200.0
PREFIX = "bench-hp-"
RANGES = ("24h", "7d", "30d", "90d", "1y")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _copy(table: str, columns: str, rows) -> None:
    from django.db import connection

    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        buffer = io.StringIO()
        for n, row in enumerate(rows, 1):
            buffer.write("\t".join("\\N" if v is None else str(v) for v in row) + "\n")
            if n % 20_000 == 0:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())


def seed(services: int, days: int, minute_days: int, now: datetime) -> list[int]:
    """The seeded services' ids (seeding them first when they are missing)."""
    from django.db import connection

    from health import sketch
    from health.models import Probe, ProbeRollupHour, ProbeRollupMinute
    from runs.models import Revision, Service

    existing = list(
        Service.objects.filter(name__startswith=PREFIX)
        .order_by("name")
        .values_list("pk", flat=True)
    )
    if len(existing) == services:
        return existing
    Service.objects.filter(name__startswith=PREFIX).delete()
    began = time.perf_counter()
    rng = np.random.default_rng(19)
    hour_shapes = [
        json.dumps(sketch.from_latencies(rng.lognormal(np.log(30 + 5 * k), 0.5, 360).tolist()))
        for k in range(24)
    ]
    minute_shapes = [
        json.dumps(sketch.from_latencies(rng.lognormal(np.log(30 + 5 * k), 0.5, 6).tolist()))
        for k in range(24)
    ]
    end = now.replace(minute=0, second=0, microsecond=0)
    first = end - timedelta(days=days)
    weeks = days // 7 + 1
    ids, probes, revisions = [], [], []
    for n in range(services):
        service = Service.objects.create(name=f"{PREFIX}{n:02d}")
        ids.append(service.pk)
        probes.append(Probe.objects.create(service=service, name="healthz", path="/healthz").pk)
        made = Revision.objects.bulk_create(
            [Revision(service=service, name=f"{PREFIX}{n:02d}-r{w:03d}") for w in range(weeks)]
        )
        revisions.append([r.pk for r in made])
    hours = days * 24
    error = sketch.RELATIVE_ACCURACY

    def hour_rows():
        for s, probe in enumerate(probes):
            for h in range(hours):
                at = first + timedelta(hours=h)
                revision = revisions[s][h // (24 * 7)]
                yield (probe, revision, at.isoformat(), 360, 359, 360 * 40.0, 5.0, 400.0,
                       hour_shapes[(h + s) % 24], error)  # fmt: skip

    def minute_rows():
        start = end - timedelta(days=minute_days)
        for s, probe in enumerate(probes):
            revision = revisions[s][-1]
            for m in range(minute_days * 24 * 60):
                at = start + timedelta(minutes=m)
                yield (probe, revision, at.isoformat(), 6, 6, 240.0, 5.0, 400.0,
                       minute_shapes[(m // 60 + s) % 24], error)  # fmt: skip

    columns = (
        "probe_id, revision_id, bucket_start, count, ok_count, latency_sum, latency_min, "
        "latency_max, sketch, latency_error"
    )
    _copy(ProbeRollupHour._meta.db_table, columns, hour_rows())
    _copy(ProbeRollupMinute._meta.db_table, columns, minute_rows())
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {ProbeRollupHour._meta.db_table}")
        cursor.execute(f"VACUUM ANALYZE {ProbeRollupMinute._meta.db_table}")
    print(
        f"seeded {services} services: {services * hours:,} hour rollups, "
        f"{services * minute_days * 1440:,} minute rollups in {time.perf_counter() - began:.0f} s"
    )
    return ids


def build_day_rollups(now: datetime) -> None:
    try:
        from health.models import ProbeRollupDay
        from health.services.rollups import day_rollups_refresh
    except ImportError:
        print("no day rollups in this code: every range reads hour or minute rollups")
        return
    from django.db import connection

    if ProbeRollupDay.objects.exists():
        print(f"{ProbeRollupDay.objects.count():,} day rollups already built")
        return
    began = time.perf_counter()
    day_rollups_refresh(since=None)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {ProbeRollupDay._meta.db_table}")
    print(
        f"built {ProbeRollupDay.objects.count():,} day rollups from the hour rollups in "
        f"{time.perf_counter() - began:.1f} s"
    )


def seal_points(now: datetime) -> None:
    try:
        from health.services.sealing import latency_points_seal
    except ImportError:
        print("no sealed latency points in this code")
        return
    from django.db import connection

    from health.models import LatencyPoint

    began = time.perf_counter()
    written = latency_points_seal(now=now)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {LatencyPoint._meta.db_table}")
    print(f"sealed {written} latency points in {time.perf_counter() - began:.1f} s")


def app_range(key: str, now: datetime):
    from runs.time_range import PRESETS, TimeRange

    if key in PRESETS:
        return TimeRange(start=now - PRESETS[key][1], end=now, key=key)
    return TimeRange(start=now - timedelta(days=365), end=now, key="")


def timed(call, repeat: int) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call()  # warm
    began = time.perf_counter()
    call()
    first = (time.perf_counter() - began) * 1000
    if first > 5_000:  # far past the goal: one call says enough (main took minutes)
        return first, first, -1
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        times.append((time.perf_counter() - began) * 1000)
    with CaptureQueriesContext(connection) as captured:
        call()
    return statistics.median(times), _percentile(times, 0.95), len(captured.captured_queries)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=50)
    parser.add_argument("--days", type=int, default=366)
    parser.add_argument("--minute-days", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--ranges", default=",".join(RANGES))
    parser.add_argument("--seed-only", action="store_true")
    args = parser.parse_args()

    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    from bench._django import setup

    url = setup("stageloop_bench_health")
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit(f"bench/health_pages.py measures PostgreSQL; DATABASE_URL is {url}.")
    from django.contrib.auth import get_user_model
    from django.test import Client

    from health.ranges import health_range
    from health.selectors.latency import latency_p95_by_service
    from runs.models import Service
    from runs.roles import VIEWER
    from runs.services.roles import roles_ensure

    now = datetime.now(tz=UTC)
    ids = seed(args.services, args.days, args.minute_days, now)
    build_day_rollups(now)
    seal_points(now)
    if args.seed_only:
        return 0
    user, _ = get_user_model().objects.get_or_create(username="bench-viewer")
    user.groups.add(roles_ensure()[VIEWER])
    client = Client()
    client.force_login(user)
    name = Service.objects.get(pk=ids[0]).name
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {args.repeat} repeats each")
    print(f"{'range':<6}{'read':<30}{'p50 ms':>9}{'p95 ms':>9}{'p95/goal':>10}{'queries':>9}")
    for key in args.ranges.split(","):
        chosen = app_range(key, now)
        time_range = health_range(chosen)
        query = chosen.query

        def cards(chosen=chosen, time_range=time_range):
            return latency_p95_by_service(service_ids=ids, time_range=time_range, end=chosen.end)

        def page(query=query):
            response = client.get(f"/services/{name}/health/?{query}")
            assert response.status_code == 200, response.status_code

        for label, call in ((f"overview cards, {len(ids)} services", cards), ("health page", page)):
            p50, p95, queries = timed(call, args.repeat)
            print(
                f"{key:<6}{label:<30}{p50:>9.1f}{p95:>9.1f}{p95 / GOAL_MS:>9.2f}x{queries:>9}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
