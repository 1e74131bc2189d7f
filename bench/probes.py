"""Benchmark: probing 10,000 targets every 10 s from two Celery workers, and the health page.

Run it against a throwaway PostgreSQL database (created if missing; its health tables and
``bench-*`` services are wiped first) and a Redis database of its own:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/stageloop_bench \\
        .venv/bin/python bench/probes.py

(the defaults are the goal: ``--targets 10000 --interval 10 --workers 2 --duration 120``;
``--locations`` makes each worker a location of its own, with half of the probes each.)

What it does:
1. starts a local HTTP server (a separate process) answering ``/t/<n>`` for every target;
2. creates one service with ``--targets`` probes at ``--interval`` seconds, spread evenly;
3. starts ``--workers`` real workers (``celery -A dashboard worker``, prefork,
   ``--worker-concurrency`` processes each) on ``--broker``, sharing the default queue (or one
   location queue each with ``--locations``), and, in this process, calls ``probes_dispatch``
   every ``--tick`` seconds as celery beat would, for ``--duration`` seconds; recording includes
   the rollup upserts (they are part of each batch's transaction);
4. prints the machine's load (``uptime``) before and after, the lag distribution (checked_at -
   due time, of the checks made), the lateness of every due check (a check never made counts as
   late by the whole run), and both against the goals (no check late by more than 1 s, lag p99
   under 250 ms) as ratios;
   Every check opens a new TCP connection (no keep-alive), as probing does in production and as
   probers do (Prometheus' Blackbox exporter, cloudprober's default): the figures include the
   connect. Then CPU per check by part (workers, dispatch, target server, this database's
   PostgreSQL backends), achieved checks/s against the goal's, and the cores the goal would take;
5. times the beat's other tasks at that scale (``--slo-services`` services sharing the probes,
   an availability and a latency SLO each, ``--slo-hours`` of minute and hour rollups, kept and
   topped up between runs): SLO evaluation with burn-rate checks (every minute) and sealing
   (every 5 minutes), wall and CPU per run and their share of 2 cores, added to the cores needed;
6. writes 30 days of minute and hour rollups for a second service and prints the health page's
   server time (p50/p95, Django test client in this process) for several ranges.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def serve(port: int) -> None:
    """A minimal asyncio HTTP/1.1 server: 200 "ok" on every path, one request per connection."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
                b"Connection: close\r\n\r\nok"
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=2048)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--targets", type=int, default=10_000)
    parser.add_argument("--interval", type=int, default=10)
    parser.add_argument("--duration", type=int, default=120)
    parser.add_argument("--workers", type=int, default=2, help="worker processes (celery worker)")
    parser.add_argument(
        "--locations", action="store_true", help="one location (queue) per worker, probes split"
    )
    parser.add_argument("--batch-size", type=int, help="HEALTH_PROBE_BATCH_SIZE for this run")
    parser.add_argument("--tick", type=float, default=2.0, help="dispatch period (beat), s")
    parser.add_argument("--worker-concurrency", type=int, default=4)
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/5")
    parser.add_argument("--page-requests", type=int, default=30)
    parser.add_argument("--page-only", action="store_true", help="skip the probing part")
    parser.add_argument("--probe-only", action="store_true", help="skip the health page part")
    parser.add_argument("--beat-only", action="store_true", help="only the beat tasks' part")
    parser.add_argument("--slo-services", type=int, default=50, help="services of the SLO part")
    parser.add_argument("--slo-hours", type=int, default=7, help="hours of rollups it reads")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return 0

    db_url = os.environ.get("DATABASE_URL", "")
    if not db_url.startswith(("postgres://", "postgresql://")):
        print("bench/probes.py: set DATABASE_URL to a throwaway PostgreSQL database.")
        return 2
    os.environ.update(
        DJANGO_SETTINGS_MODULE="dashboard.settings",
        CELERY_BROKER_URL=args.broker,
        DEBUG="0",
        SECRET_KEY=os.environ.get("SECRET_KEY", "bench-only-secret-key"),
        ALLOWED_HOSTS="testserver,127.0.0.1",
        LOG_LEVEL="WARNING",
    )
    if args.batch_size:
        os.environ["STAGELOOP_PROBE_BATCH_SIZE"] = str(args.batch_size)
    ensure_database(db_url)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    probing = None if args.page_only or args.beat_only else probe_lag(args)
    beat = None if args.page_only else beat_tasks(args)
    if probing is not None and beat is not None:
        what_it_takes(args, probing, beat)
    if not args.probe_only and not args.beat_only:
        page_time(args)
    return 0


def what_it_takes(
    args: argparse.Namespace, probing: dict[str, float], beat: dict[str, float]
) -> None:
    """The goal's load on this machine's 2 cores, from the CPU per check measured and the beat
    tasks' shares: how far from the goal, and how many cores it would take."""
    needed = args.targets / args.interval
    cores = needed * probing["cpu_per_check"] + beat["slo"] + beat["seal"]
    print(
        f"what {args.targets:,} probes every {args.interval} s take: {needed:,.0f} checks/s x "
        f"{probing['cpu_per_check'] * 1000:.2f} ms = {needed * probing['cpu_per_check']:.2f} "
        f"cores for probing (rollups included), + {beat['slo']:.3f} SLO evaluation + "
        f"{beat['seal']:.4f} sealing = {cores:.2f} cores: {cores / 2:.2f}x the 2 cores; "
        f"achieved {probing['checks_per_s']:,.0f} checks/s = "
        f"{probing['checks_per_s'] / needed:.2f}x the goal's {needed:,.0f}/s "
        f"(load during: {probing['load']})"
    )


def load() -> str:
    """The machine's load, as ``uptime`` prints it (others may be using the machine)."""
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def _tree_cpu(pids: list[int]) -> float:
    """CPU seconds so far of ``pids`` and their live descendants (Linux /proc)."""
    total, pending = 0.0, list(pids)
    while pending:
        pid = pending.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        pending += [int(child) for child in children]
    return total


def _backends_cpu(since: dict[int, float]) -> dict[int, float]:
    """CPU seconds of this database's PostgreSQL backends (same machine), less ``since``'s."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        pids = [row[0] for row in cursor.fetchall()]
    return {pid: _tree_cpu([pid]) - since.get(pid, 0.0) for pid in pids}


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def probe_lag(args: argparse.Namespace) -> dict[str, float]:
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from dashboard.celery import app
    from health.locations import location_queue
    from health.models import DEFAULT_LOCATION, Probe, ProbeResult
    from health.tasks import probes_dispatch
    from runs.models import Service

    Service.objects.filter(name__startswith="bench-").delete()
    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port)])
    service = Service.objects.create(name="bench-targets", base_url=f"http://127.0.0.1:{port}")
    labels = (
        [f"bench-{i + 1}" for i in range(args.workers)] if args.locations else [DEFAULT_LOCATION]
    )
    start = timezone.now() + timedelta(days=1)  # moved once the workers are up
    Probe.objects.bulk_create(
        (
            Probe(
                service=service,
                name=f"t{n}",
                path=f"/t/{n}",
                interval_seconds=args.interval,
                timeout_seconds=5,
                locations=[labels[n % len(labels)]],
                next_probe_at=start,
            )
            for n in range(args.targets)
        ),
        batch_size=2000,
    )
    app.control.purge()
    logs, workers = [], []
    for i in range(args.workers):
        label = labels[i % len(labels)]
        queue = location_queue(label) or "celery"
        logs.append(open(ROOT / "var" / f"bench-probes-worker-{i + 1}.log", "w"))  # noqa: SIM115
        workers.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "dashboard",
                    "worker",
                    "--pool",
                    "prefork",
                    "--concurrency",
                    str(args.worker_concurrency),
                    "--loglevel",
                    "WARNING",
                    "--without-gossip",
                    "--without-mingle",
                    "-Q",
                    queue,
                    "-n",
                    f"bench{i + 1}@%h",
                ],
                cwd=ROOT,
                env={**os.environ, "STAGELOOP_PROBE_LOCATION": label},
                stdout=logs[-1],
                stderr=subprocess.STDOUT,
            )
        )
    # Workers take seconds to boot (longer on a loaded machine): the schedule starts once all
    # answer, so a slow start is not measured as lag.
    deadline = time.monotonic() + 180
    while len(app.control.ping(timeout=1.0)) < args.workers:
        if time.monotonic() > deadline:
            raise SystemExit("bench/probes.py: the workers did not start within 3 minutes")
    start = timezone.now() + timedelta(seconds=3)
    with connection.cursor() as cursor:
        # probe t<n> is first due n/targets of an interval after the start, as created
        cursor.execute(
            "UPDATE health_probe SET next_probe_at = %s + make_interval(secs => "
            "substring(name from 2)::int * %s::float8 / %s) WHERE service_id = %s",
            [start, args.interval, args.targets, service.pk],
        )
    load_before = load()
    print(
        f"probing {args.targets} targets every {args.interval} s for {args.duration} s from "
        f"{args.workers} workers (prefork x{args.worker_concurrency} each, "
        f"{'one location each' if args.locations else 'one shared queue'}; batches of "
        f"{settings.HEALTH_PROBE_BATCH_SIZE}, dispatch every {args.tick} s) ..."
    )
    print(f"load before: {load_before}")
    end = start + timedelta(seconds=args.duration)
    dispatch_ms: list[float] = []
    cpu_self = _cpu(resource.RUSAGE_SELF)
    # Worker CPU is counted from here (booting Django in each pool process is not probing).
    cpu_booted = _tree_cpu([w.pid for w in workers])
    cpu_pg_booted = _backends_cpu({})
    cpu_server_booted = _tree_cpu([server.pid])
    try:
        while timezone.now() < end:
            began = time.perf_counter()
            probes_dispatch()
            dispatch_ms.append((time.perf_counter() - began) * 1000)
            time.sleep(max(0.0, args.tick - (time.perf_counter() - began)))
        load_during = load()
        time.sleep(args.interval)  # let the last batches finish
        cpu_workers = _tree_cpu([w.pid for w in workers]) - cpu_booted
        cpu_pg = sum(_backends_cpu(cpu_pg_booted).values())
        cpu_server = _tree_cpu([server.pid]) - cpu_server_booted
        cpu_dispatch = _cpu(resource.RUSAGE_SELF) - cpu_self
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=60)
        server.terminate()
        server.wait(timeout=10)
        for log in logs:
            log.close()

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*),
                   percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY lag),
                   max(lag), count(*) FILTER (WHERE lag > 1), count(*) FILTER (WHERE NOT ok),
                   min(lag)
            FROM (SELECT EXTRACT(EPOCH FROM checked_at - due_at) AS lag, ok
                  FROM health_proberesult r JOIN health_probe p ON p.id = r.probe_id
                  WHERE p.service_id = %s AND due_at >= %s AND due_at < %s) s
            """,
            [service.pk, start, end],
        )
        count, (p50, p95, p99), worst, late, failed, earliest = cursor.fetchone()
        cursor.execute(
            """
            SELECT location, count(*) FROM health_proberesult r
            JOIN health_probe p ON p.id = r.probe_id
            WHERE p.service_id = %s AND due_at >= %s AND due_at < %s GROUP BY location
            """,
            [service.pk, start, end],
        )
        per_location = dict(cursor.fetchall())
    expected = args.targets * args.duration // args.interval
    missed = max(0, expected - count)
    # Lateness of every due check: a check made is late by its lag, one never made by the run.
    lags = sorted(
        ProbeResult.objects.filter(
            probe__service=service, due_at__gte=start, due_at__lt=end
        ).values_list("checked_at", "due_at")
    )
    lateness = [(checked - due).total_seconds() for checked, due in lags] + [
        float(args.duration)
    ] * missed
    late_p99 = pct(lateness, 0.99) if lateness else float("nan")
    late_max = max(lateness) if lateness else float("nan")
    print(f"load during: {load_during}")
    print(
        f"checks: {count} of {expected} due ({missed} missed), {failed} failed; "
        f"{count / args.duration:,.0f} checks/s of the {args.targets / args.interval:,.0f}/s due "
        f"({count / args.duration / (args.targets / args.interval):.2f}x)"
    )
    print(f"checks per location: {per_location}")
    print(
        f"lag (checked_at - due, checks made): p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"p99 {p99 * 1000:.0f} ms, max {worst * 1000:.0f} ms, min {earliest * 1000:.0f} ms"
    )
    print(
        f"lateness (every due check, missed = {args.duration} s): p99 {late_p99 * 1000:.0f} ms, "
        f"max {late_max * 1000:.0f} ms; late by more than 1 s: {late + missed} "
        f"({late} made late, {missed} missed)"
    )
    print(
        f"against the goals: max lateness {late_max:.2f} s / 1 s = {late_max / 1:.2f}x, "
        f"lag p99 {p99 * 1000:.0f} ms / 250 ms = {p99 / 0.25:.2f}x; "
        f"{'MET' if late + missed == 0 and p99 < 0.25 else 'NOT MET'}"
    )
    # On a busy machine lag only says the run was starved; CPU per check says what 2 quiet
    # cores could carry (PostgreSQL's own CPU is not counted: the cluster may be shared).
    per_check = (cpu_workers + cpu_dispatch + cpu_server + cpu_pg) / max(count, 1) * 1000
    needed = args.targets / args.interval
    print(
        f"CPU per check made: workers {cpu_workers / max(count, 1) * 1000:.2f} ms, dispatch "
        f"{cpu_dispatch / max(count, 1) * 1000:.2f} ms, target server "
        f"{cpu_server / max(count, 1) * 1000:.2f} ms, PostgreSQL (this database's backends) "
        f"{cpu_pg / max(count, 1) * 1000:.2f} ms; total {per_check:.2f} ms -> 2 cores carry at "
        f"most {2000 / per_check:,.0f} checks/s (the goal needs "
        f"{needed:,.0f}/s: {needed / (2000 / per_check):.2f}x)"
    )
    print(
        f"dispatch tick: p50 {statistics.median(dispatch_ms):.1f} ms, "
        f"max {max(dispatch_ms):.1f} ms over {len(dispatch_ms)} ticks"
    )
    latency = ProbeResult.objects.filter(probe__service=service, ok=True).values_list(
        "latency_ms", flat=True
    )
    values = list(latency)
    if values:
        print(f"probe latency: p50 {pct(values, 0.5):.1f} ms, p95 {pct(values, 0.95):.1f} ms")
    print(f"load after: {load()}")
    return {
        "cpu_per_check": per_check / 1000,
        "checks_per_s": count / args.duration,
        "load": float(load_during.rsplit("load average:", 1)[1].split(",")[0]),
    }


def beat_tasks(args: argparse.Namespace) -> dict[str, float]:
    """Time the beat's SLO evaluation (every minute) and sealing (every 5 minutes) at the probing
    scale: ``--targets`` probes over ``--slo-services`` services with an availability and a
    latency SLO each, ``--slo-hours`` of minute and hour rollups (one check per probe every 10 s).
    Returns the CPU seconds per second (cores) each task costs on average."""
    from django.db import connection
    from django.utils import timezone

    from health import sketch
    from health.models import LatencySeal, Probe, ProbeRollupMinute, Slo
    from health.ranges import local_day_start
    from health.services.sealing import GRACE, latency_points_seal
    from health.services.slo_alerts import slo_alerts_evaluate
    from runs.models import Service

    now = timezone.now()
    per_service = max(1, args.targets // args.slo_services)
    services = list(Service.objects.filter(name__startswith="bench-slo-").order_by("name"))
    seeded = (
        len(services) == args.slo_services
        and Probe.objects.filter(service__in=services).count() == per_service * len(services)
        and Slo.objects.filter(service__in=services).count() == 2 * len(services)
    )
    if not seeded:  # else the rows of an earlier run are kept and topped up to now
        Service.objects.filter(name__startswith="bench-slo-").delete()
        services = Service.objects.bulk_create(
            Service(name=f"bench-slo-{i:03d}", base_url="http://127.0.0.1:9")
            for i in range(args.slo_services)
        )
        Probe.objects.bulk_create(
            (
                Probe(service=service, name=f"p{n}", path=f"/p/{n}", enabled=False)
                for service in services
                for n in range(per_service)
            ),
            batch_size=5000,
        )
        Slo.objects.bulk_create(
            slo
            for service in services
            for slo in (
                Slo(
                    service=service,
                    name="availability",
                    kind=Slo.Kind.AVAILABILITY,
                    objective_percent=99.9,
                    window_days=30,
                ),
                Slo(
                    service=service,
                    name="latency",
                    kind=Slo.Kind.LATENCY,
                    objective_percent=99.0,
                    latency_threshold_ms=250,
                    window_days=30,
                ),
            )
        )
    shape = json.dumps(sketch.from_latencies([8, 9, 10, 12, 14, 15, 18, 20, 30, 40]))
    first_hour = (now - timedelta(hours=args.slo_hours)).replace(minute=0, second=0, microsecond=0)
    began = time.perf_counter()
    with connection.cursor() as cursor:
        for table, step, checks in (
            ("health_proberollupminute", timedelta(minutes=1), 6),
            ("health_proberolluphour", timedelta(hours=1), 360),
        ):
            cursor.execute(
                f"SELECT max(bucket_start) FROM {table} r JOIN health_probe p ON p.id = r.probe_id"  # noqa: S608
                " WHERE p.service_id = %s",
                [services[0].pk],
            )
            (latest,) = cursor.fetchone()
            since = first_hour if latest is None else latest + step
            # One failed check in 500 buckets: alerts stay closed, every row is read.
            cursor.execute(
                f"""
                INSERT INTO {table} (probe_id, revision_id, bucket_start, count, ok_count,
                    maintenance_count, latency_sum, latency_min, latency_max, sketch,
                    latency_error)
                SELECT p.id, NULL, g.t, %s, %s - ((p.id + g.n) %% 500 = 0)::int, 0,
                       %s * 43.6, 8.0, 300.0, %s::jsonb, %s
                FROM health_probe p
                CROSS JOIN generate_series(%s::timestamptz, %s::timestamptz, %s::interval)
                     WITH ORDINALITY AS g(t, n)
                WHERE p.service_id = ANY(%s)
                """,  # noqa: S608 - table names are constants above
                [
                    checks,
                    checks,
                    checks,
                    shape,
                    sketch.RELATIVE_ACCURACY,
                    since,
                    now,
                    step,
                    [s.pk for s in services],
                ],
            )
        cursor.execute("ANALYZE health_proberollupminute, health_proberolluphour, health_probe")
    minute_rows = ProbeRollupMinute.objects.filter(probe__service__in=services).count()
    print(
        f"beat tasks at {per_service * len(services):,} probes over {len(services)} services "
        f"({2 * len(services)} SLOs: availability + latency), {args.slo_hours} h of rollups "
        f"({minute_rows:,} minute rows, seeded in {time.perf_counter() - began:.0f} s)"
    )
    print(f"load: {load()}")
    backends = _backends_cpu({})

    def timed(call) -> tuple[float, float]:
        nonlocal backends
        cpu, wall = _cpu(resource.RUSAGE_SELF), time.perf_counter()
        call()
        after = _backends_cpu({})
        db = sum(after[pid] - backends.get(pid, 0.0) for pid in after)
        backends = after
        return time.perf_counter() - wall, _cpu(resource.RUSAGE_SELF) - cpu + db

    slo_runs = [timed(lambda: slo_alerts_evaluate(now=timezone.now())) for _ in range(3)]
    slo_wall = statistics.median(w for w, _ in slo_runs)
    slo_cpu = statistics.median(c for _, c in slo_runs)
    # Sealing: one closed hour to seal (the pass that runs after each hour ends), then a pass
    # with nothing new (the other 11 of the hour's 12 passes).
    last_closed = (now - GRACE).replace(minute=0, second=0, microsecond=0)
    LatencySeal.objects.all().delete()
    LatencySeal.objects.create(
        step="hour",
        sealed_from=last_closed - timedelta(hours=1),
        sealed_until=last_closed - timedelta(hours=1),
    )
    today = local_day_start(now)
    LatencySeal.objects.create(step="day", sealed_from=today, sealed_until=today)
    seal_hour = timed(lambda: latency_points_seal(now=now))
    seal_idle = timed(lambda: latency_points_seal(now=now))
    slo_share = slo_cpu / 60
    seal_share = (seal_hour[1] + 11 * seal_idle[1]) / 3600
    print(
        f"  SLO evaluation and burn-rate checks (every 60 s): {slo_wall * 1000:,.0f} ms a run, "
        f"CPU {slo_cpu * 1000:,.0f} ms (this process + PostgreSQL) -> {slo_share:.3f} cores, "
        f"{slo_share / 2:.1%} of 2 cores"
    )
    print(
        f"  sealing (every 300 s): {seal_hour[0] * 1000:,.0f} ms the pass sealing an hour "
        f"(CPU {seal_hour[1] * 1000:,.0f} ms), {seal_idle[0] * 1000:,.0f} ms a pass with "
        f"nothing new -> {seal_share:.4f} cores, {seal_share / 2:.2%} of 2 cores"
    )
    return {"slo": slo_share, "seal": seal_share}


def page_time(args: argparse.Namespace) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from health import sketch
    from health.models import Incident, Probe
    from runs.models import Deploy, Revision, Service

    Service.objects.filter(name="bench-page").delete()
    now = timezone.now()
    service = Service.objects.create(name="bench-page", base_url="http://127.0.0.1:9")
    revisions = [
        Revision.objects.create(service=service, name=f"bench-{i:05d}", status="ready")
        for i in range(6)
    ]
    probes = [
        Probe.objects.create(service=service, name=name, path=f"/{name}")
        for name in ("healthz", "api", "stream")
    ]
    shapes = [
        sketch.from_latencies([base * (1 + k / 10) for k in range(10)]) for base in (8, 15, 40)
    ]
    days = 30
    per_revision = timedelta(days=days) / len(revisions)
    for rev_index, revision in enumerate(revisions):
        Deploy.objects.create(
            service=service,
            revision=revision,
            status="succeeded",
            finished_at=now - timedelta(days=days) + per_revision * rev_index,
        )
    with connection.cursor() as cursor:
        for table, step in (("health_proberollupminute", 60), ("health_proberolluphour", 3600)):
            for probe_index, probe in enumerate(probes):
                cursor.execute(
                    f"""
                    INSERT INTO {table} (probe_id, revision_id, bucket_start, count, ok_count,
                        latency_sum, latency_min, latency_max, sketch, latency_error)
                    SELECT %s,
                           (%s::bigint[])[1 + LEAST(%s, floor(extract(epoch from
                               (t - %s::timestamptz)) / %s))::int],
                           t, %s, %s - (n %% 97 = 0)::int, 300.0, 5.0, 60.0, %s::jsonb, %s
                    FROM generate_series(%s::timestamptz, %s::timestamptz, %s::interval)
                         WITH ORDINALITY AS g(t, n)
                    """,  # noqa: S608 - table names are constants above
                    [
                        probe.pk,
                        [r.pk for r in revisions],
                        len(revisions) - 1,
                        now - timedelta(days=days),
                        per_revision.total_seconds(),
                        6 * step // 60 if step == 60 else 360,
                        6 * step // 60 if step == 60 else 360,
                        json.dumps(shapes[probe_index]),
                        sketch.RELATIVE_ACCURACY,
                        (now - timedelta(days=days)).replace(second=0, microsecond=0),
                        now,
                        f"{step} seconds",
                    ],
                )
    for k in range(40):
        Incident.objects.create(
            probe=probes[k % 3],
            service=service,
            revision=revisions[k % len(revisions)],
            opened_at=now - timedelta(hours=17 * k + 3),
            closed_at=now - timedelta(hours=17 * k + 2),
            first_error="expected status 200, got 503",
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE health_proberollupminute, health_proberolluphour, health_probe")
    user, _ = get_user_model().objects.get_or_create(username="bench-viewer")
    client = Client()
    client.force_login(user)
    print(
        f"health page of a service with 3 probes, 6 revisions, {days} days of rollups "
        f"({days * 1440 * 3:,} minute + {days * 24 * 3:,} hour rows):"
    )
    for key in ("24h", "7d", "30d", "90d"):
        url = reverse("service-health", args=[service.name]) + f"?range={key}"
        assert client.get(url).status_code == 200  # warm up
        timings = []
        for _ in range(args.page_requests):
            reset_queries()
            with CaptureQueriesContext(connection) as queries:
                began = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200
        print(
            f"  range {key:>3}: p50 {statistics.median(timings):.0f} ms, "
            f"p95 {pct(timings, 0.95):.0f} ms, {len(queries.captured_queries)} queries"
        )


if __name__ == "__main__":
    sys.exit(main())
