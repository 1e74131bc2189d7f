"""Benchmark: the public status page over 50 services with a year of hour rollups, PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/stageloop_bench_status \\
        .venv/bin/python bench/status_page.py [--services 50] [--days 365] [--repeat 40] \\
        [--pages status,health,slos]

Seeds (once; reused when present) one probe per service, an hour rollup for every hour of the
last ``--days`` days (written by COPY), minute rollups for the last 15 minutes (the state's
window), a weekly maintenance window per service, an incident a week per service and an
analysis per incident's revision; then opens the public page ``/status/bench/`` anonymously
``--repeat`` times after warm-up and prints p50/p95 server time, the query count, the ratio
of p95 to the 200 ms target, and the load average. The daily bars read the day rollups, which
the seed merges from the hour rollups as the rollup pass would have written them (timed and
printed), and three SLOs per service (their 28-day status read from day rollups and the
window's end hours). No cache: every request reads the 90 days and the SLO windows. Days
follow STAGELOOP_TIME_ZONE (Europe/Berlin unless set).

``--pages`` also measures one service's health page (``/services/<name>/health/``, 30-day
range) and SLO page (``/services/<name>/slos/``) as a signed-in Viewer, with the same three
SLOs and year of rollups; the closed hours and days are sealed once first (``latency_points_seal``,
as the beat task would have). Besides wall time each page prints the web process's CPU time
per request (p50): on a loaded machine wall time mostly measures the wait for a core.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_P95_MS = 200.0
SLUG = "bench"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _copy(cursor, table: str, columns: tuple[str, ...], lines) -> None:
    with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for line in lines:
            copy.write(line)


def seed(services: int, days: int) -> None:
    from django.db import connection, transaction

    from analyses.models import Analysis
    from health.models import Incident, MaintenanceWindow, Probe, ProbeRollupHour, ProbeRollupMinute
    from reports.models import StatusPage
    from runs.models import Revision, Service

    if StatusPage.objects.filter(slug=SLUG).exists():
        print("Reusing the seeded status page.")
        return
    began = time.perf_counter()
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    hours = days * 24
    sketch = json.dumps({"1200": 50, "1210": 40, "1250": 10})
    with transaction.atomic():
        page = StatusPage.objects.create(name="Bench status", slug=SLUG, public=True)
        probes = []
        for n in range(services):
            service = Service.objects.create(
                name=f"bench-svc-{n:02d}", base_url=f"http://bench-{n}.internal:8080"
            )
            revision = Revision.objects.create(
                service=service, name=f"bench-svc-{n:02d}-00001", status="ready"
            )
            service.current_revision = revision
            service.save(update_fields=["current_revision"])
            page.services.add(service)
            probe = Probe.objects.create(service=service, name="home", path="/healthz")
            probes.append((probe, revision))
            MaintenanceWindow.objects.create(
                service=service,
                kind="weekly",
                weekdays=[7],
                local_start="03:00",
                duration_minutes=30,
            )
            Incident.objects.bulk_create(
                [
                    Incident(
                        probe=probe,
                        service=service,
                        revision=revision,
                        opened_at=now - timedelta(days=7 * w, hours=n % 24),
                        closed_at=now - timedelta(days=7 * w, hours=n % 24) + timedelta(minutes=9),
                        first_error="connection refused",
                    )
                    for w in range(1, days // 7)
                ]
            )
            Analysis.objects.create(
                service=service,
                revision=revision,
                title="Pool exhausted",
                problem="…",
                root_causes=["The connection pool was too small"],
            )
        with connection.cursor() as cursor:
            _copy(
                cursor,
                ProbeRollupHour._meta.db_table,
                (
                    "probe_id",
                    "revision_id",
                    "bucket_start",
                    "count",
                    "ok_count",
                    "maintenance_count",
                    "latency_sum",
                    "latency_min",
                    "latency_max",
                    "sketch",
                    "latency_error",
                ),
                (
                    f"{probe.pk}\t{revision.pk}\t{(now - timedelta(hours=h)).isoformat()}\t"
                    f"360\t{360 - (h % 97 == 0) * 5}\t0\t36000\t80\t300\t{sketch}\t0.01\n"
                    for probe, revision in probes
                    for h in range(hours)
                ),
            )
        ProbeRollupMinute.objects.bulk_create(
            [
                ProbeRollupMinute(
                    probe=probe,
                    revision=revision,
                    bucket_start=datetime.now(UTC).replace(second=0, microsecond=0)
                    - timedelta(minutes=m),
                    count=6,
                    ok_count=6,
                    latency_sum=600,
                    sketch=json.loads(sketch),
                )
                for probe, revision in probes
                for m in range(15)
            ]
        )
    took = time.perf_counter() - began
    print(f"Seeded {services * hours:,} hour rollups for {services} services in {took:.0f} s.")
    from health.services.rollups import day_rollups_refresh

    began = time.perf_counter()
    day_rows = day_rollups_refresh(since=None)
    took = time.perf_counter() - began
    print(f"Day rollups merged from them: {day_rows:,} rows in {took:.0f} s.")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def slos_seed() -> None:
    """Three SLOs per service of the page (availability, latency under 250 ms, scheduled
    tests), 28-day windows, as a team that uses them would have: the page shows each one."""
    from health.models import Slo
    from reports.models import StatusPage

    if Slo.objects.filter(name="bench availability").exists():
        return
    kinds = [
        ("bench availability", Slo.Kind.AVAILABILITY, None),
        ("bench latency", Slo.Kind.LATENCY, 250),
        ("bench tests", Slo.Kind.TESTS, None),
    ]
    Slo.objects.bulk_create(
        Slo(
            service=service,
            name=name,
            kind=kind,
            objective_percent=99.5,
            latency_threshold_ms=threshold,
            window_days=28,
        )
        for service in StatusPage.objects.get(slug=SLUG).services.all()
        for name, kind, threshold in kinds
    )


def seal() -> None:
    """Seal the closed hours and days once, as the beat task's first pass would have."""
    from django.utils import timezone

    from health.models import LatencySeal
    from health.services.sealing import latency_points_seal

    if LatencySeal.objects.exists():
        return
    began = time.perf_counter()
    written = latency_points_seal(now=timezone.now())
    print(f"Sealed latency points {written} in {time.perf_counter() - began:.0f} s.")


def _viewer_client():
    from django.contrib.auth import get_user_model
    from django.test import Client

    from runs.roles import VIEWER
    from runs.services.roles import roles_ensure

    user, _ = get_user_model().objects.get_or_create(username="bench-viewer")
    user.groups.add(roles_ensure()[VIEWER])
    client = Client()
    client.force_login(user)
    return client


def measure(client, path: str, repeat: int) -> tuple[float, float, float, int]:
    """p50 and p95 wall time, p50 CPU time of this process (ms) and the most queries."""
    from django.conf import settings
    from django.db import connection, reset_queries

    for _ in range(3):
        assert client.get(path).status_code == 200, path
    timings, cpu = [], []
    queries = 0
    settings.DEBUG = True
    for _ in range(repeat):
        reset_queries()
        began, began_cpu = time.perf_counter(), time.process_time()
        response = client.get(path)
        timings.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
        assert response.status_code == 200, path
        queries = max(queries, len(connection.queries))
    return statistics.median(timings), _percentile(timings, 0.95), statistics.median(cpu), queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=50)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--pages", default="status", help="any of status,health,slos")
    args = parser.parse_args()
    os.environ.setdefault("STAGELOOP_TIME_ZONE", "Europe/Berlin")
    from bench._django import setup

    url = setup("stageloop_bench_status")
    if not url.startswith("postgres"):
        sys.exit(f"bench/status_page.py needs PostgreSQL; DATABASE_URL is {url}.")
    from django.conf import settings
    from django.test import Client

    seed(args.services, args.days)
    slos_seed()
    settings.ALLOWED_HOSTS = ["*"]
    pages = args.pages.split(",")
    if set(pages) - {"status", "health", "slos"}:
        sys.exit(f"--pages takes status, health and slos; got {args.pages}.")
    if "health" in pages or "slos" in pages:
        seal()
    from dashboard.process import web_process_ready

    web_process_ready()  # as dashboard/wsgi.py does in each gunicorn worker
    name = "bench-svc-00"
    paths = {
        "status": (Client(), f"/status/{SLUG}/"),
        "health": (_viewer_client(), f"/services/{name}/health/?range=30d"),
        "slos": (_viewer_client(), f"/services/{name}/slos/"),
    }
    for page in pages:
        client, path = paths[page]
        p50, p95, cpu, queries = measure(client, path, args.repeat)
        print(
            f"{page} page {path}, {args.services} services ({3 * args.services} SLOs), "
            f"{args.days} days of hour and day rollups: "
            f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, CPU p50 {cpu:.0f} ms, {queries} queries; "
            f"p95 / {TARGET_P95_MS:.0f} ms = {p95 / TARGET_P95_MS:.2f}"
        )
        print("load average:", " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
