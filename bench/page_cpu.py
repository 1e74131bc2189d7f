"""Server CPU per request for each page of the team-load mix (issue 17), and what it allows.

    .venv/bin/python bench/page_cpu.py [--database URL] [--per-kind 40] [--uploads 3]
        [--no-page-cache] [--profile KIND] [--kinds run,test]

Load-independent where bench/load.py is not: one process, the production settings (DEBUG=0, the
manifest's static files, the page cache in Redis db --redis-db), Django's test client (the whole
middleware stack, no socket), the URLs bench/load.py samples (ids across the dataset) in its mix.
Per page kind it prints:
- Python CPU ms per request (time.process_time() around the request: this process's CPU,
  the psycopg client included);
- PostgreSQL CPU ms (the connection's backend process, /proc/<pid>/schedstat: CPU time in ns,
  read before and after) and the queries' wall ms (connection.execute_wrapper), and queries;
- bytes of HTML; and per upload of tests/data/junit/jest-monorepo.xml (4,239 cases) the CPU of the
  request and of its analyze step (run inline, as the worker would), each Python + PostgreSQL.
Then the mix's weighted CPU per request and the implied maximum page requests/s on the machine's
cores (2 cores = 2,000 CPU ms per second) with the uploads' share subtracted, as a ratio to 100/s.
CPU time barely depends on the load average (printed beside the figures), wall time does.

--profile KIND prints cProfile's top functions over that kind's requests.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import GOAL_RPS, MIX, REPORT, UPLOAD_SERVICE, UPLOAD_SUITE  # noqa: E402

SECRET_KEY = "bench-page-cpu-secret-" + "k" * 40


def _schedstat_ns(pid: int) -> int:
    """CPU time of process `pid` so far, in ns (the kernel's scheduler accounting)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
    except OSError:
        return 0


@dataclass
class Sample:
    py_ms: float
    db_cpu_ms: float
    db_wall_ms: float
    queries: int
    size: int
    status: int


@dataclass
class Kind:
    samples: list[Sample] = field(default_factory=list)

    def mean(self, name: str) -> float:
        return statistics.fmean(getattr(s, name) for s in self.samples) if self.samples else 0.0

    def p95(self, name: str) -> float:
        values = sorted(getattr(s, name) for s in self.samples)
        return values[min(len(values) - 1, round(0.95 * (len(values) - 1)))] if values else 0.0


class QueryTimer:
    """connection.execute_wrapper: counts queries and sums their wall time."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - began
            self.count += 1


def backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def measured(call) -> tuple[object, Sample]:
    """Run `call()` (a request), measuring this process and its database backend."""
    from django.db import connection

    pid = backend_pid()
    timer = QueryTimer()
    db_before = _schedstat_ns(pid)
    cpu_before = time.process_time()
    with connection.execute_wrapper(timer):
        response = call()
    py = time.process_time() - cpu_before
    db = _schedstat_ns(pid) - db_before
    size = len(getattr(response, "content", b"") or b"")
    sample = Sample(py * 1000, db / 1e6, timer.seconds * 1000, timer.count, size, 0)
    sample.status = getattr(response, "status_code", 0)
    return response, sample


def pages(args, client, urls: dict[str, list[str]], rng: random.Random) -> dict[str, Kind]:
    kinds = {k: Kind() for k in MIX if not args.kinds or k in args.kinds}
    # CPU time, not wall time: on a loaded machine wall time is mostly waiting for a core.
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    order = [k for k in kinds for _ in range(args.per_kind)]
    rng.shuffle(order)  # interleaved, as the mix arrives: no kind profits from a warm run of itself
    for kind in order:
        url = rng.choice(urls[kind])
        profiled = profiler is not None and args.profile in (kind, "all")
        if profiled:
            profiler.enable()
        _, sample = measured(lambda u=url: client.get(u))
        if profiled:
            profiler.disable()
        if sample.status != 200:
            print(f"  {kind} {url} answered {sample.status}", flush=True)
        kinds[kind].samples.append(sample)
    if profiler:
        for order_by in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order_by).print_stats(args.profile_lines)
            print(f"\n-- cProfile of {args.profile}, by {order_by} --\n{out.getvalue()}")
    return kinds


def uploads(args, token: str) -> tuple[Kind, Kind]:
    """`args.uploads` uploads through the API, each a new revision; then each one's analyze step
    inline (the outbox's send is recorded instead of reaching a worker)."""
    from django.db import connection
    from django.test import Client

    from analyses.tasks import run_analyze
    from runs.services import outbox

    sent: list = []
    real_send = outbox._send
    outbox._send = lambda message: sent.append(message)  # type: ignore[assignment]
    request, analyze = Kind(), Kind()
    data = REPORT.read_bytes()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    try:
        for n in range(args.uploads):
            del sent[:]
            upload = io.BytesIO(data)
            upload.name = "jest-monorepo.xml"
            response, sample = measured(
                lambda f=upload, n=n: client.post(
                    "/api/v1/runs",
                    {
                        "service": UPLOAD_SERVICE,
                        "suite": UPLOAD_SUITE,
                        "revision": f"cpu-{time.time_ns()}-{n}",
                        "create": "true",
                        "files": f,
                    },
                )
            )
            if sample.status not in (200, 201):
                print(f"  upload answered {sample.status}: {response.content[:300]!r}")
            request.samples.append(sample)
            for message in sent:
                if message.task.endswith("run_analyze"):
                    _, step = measured(lambda m=message: run_analyze(*m.args))
                    step.status = 200
                    analyze.samples.append(step)
    finally:
        outbox._send = real_send  # type: ignore[assignment]
        connection.close()
    return request, analyze


def report(args, kinds: dict[str, Kind], up: Kind, analyze: Kind, hit_ratio: str) -> None:
    load = os.getloadavg()
    cores = os.cpu_count() or 2
    print(
        f"\n{'page':10} {'n':>4} {'py ms':>7} {'py p95':>7} {'db cpu':>7} {'db wall':>8} "
        f"{'queries':>7} {'KB html':>8} {'cpu ms':>7}"
    )
    for name, kind in kinds.items():
        total = kind.mean("py_ms") + kind.mean("db_cpu_ms")
        print(
            f"{name:10} {len(kind.samples):4} {kind.mean('py_ms'):7.1f} {kind.p95('py_ms'):7.1f} "
            f"{kind.mean('db_cpu_ms'):7.1f} {kind.mean('db_wall_ms'):8.1f} "
            f"{kind.mean('queries'):7.1f} {kind.mean('size') / 1024:8.1f} {total:7.1f}"
        )
    weights = {k: MIX[k] for k in kinds}
    mix_py = sum(weights[k] * kinds[k].mean("py_ms") for k in kinds) / sum(weights.values())
    mix_db = sum(weights[k] * kinds[k].mean("db_cpu_ms") for k in kinds) / sum(weights.values())
    mix = mix_py + mix_db
    print(
        f"mix (weighted as bench/load.py): Python {mix_py:.1f} ms + PostgreSQL {mix_db:.1f} ms = "
        f"{mix:.1f} CPU ms per page request; page cache {hit_ratio}"
    )
    per_upload = 0.0
    if up.samples:
        up_py, up_db = up.mean("py_ms"), up.mean("db_cpu_ms")
        an_py, an_db = analyze.mean("py_ms"), analyze.mean("db_cpu_ms")
        per_upload = up_py + up_db + an_py + an_db
        print(
            f"upload of 4,239 cases ({len(up.samples)}): request Python {up_py:.0f} ms + "
            f"PostgreSQL {up_db:.0f} ms ({up.mean('queries'):.0f} queries); analyze step "
            f"Python {an_py:.0f} ms + PostgreSQL {an_db:.0f} ms; {per_upload:.0f} CPU ms per upload"
        )
    budget = cores * 1000.0
    print(f"implied maximum on {cores} cores ({budget:.0f} CPU ms/s), ratio to {GOAL_RPS:.0f}/s:")
    for rate in (0.0, 0.5, 1.0, 2.0):
        left = budget - rate * per_upload
        rps = max(0.0, left) / mix if mix else float("inf")
        print(
            f"  uploads {rate:.1f}/s ({rate * per_upload:5.0f} CPU ms/s): "
            f"{rps:6.1f} page req/s = {rps / GOAL_RPS:.2f} of the goal"
        )
    print(f"goal budget: {budget / GOAL_RPS:.0f} CPU ms per request in all")
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({cores} cores)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database",
        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/stageloop_load"),
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/10")
    parser.add_argument("--per-kind", type=int, default=40, help="requests per page kind")
    parser.add_argument("--uploads", type=int, default=3)
    parser.add_argument("--kinds", type=lambda s: s.split(","), default=None)
    parser.add_argument("--no-page-cache", action="store_true")
    parser.add_argument("--warm", type=int, default=1, help="requests per kind before measuring")
    parser.add_argument("--profile", choices=[*MIX, "all"])
    parser.add_argument("--profile-lines", type=int, default=30)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()

    os.environ.update(
        {
            "DATABASE_URL": args.database,
            "CELERY_BROKER_URL": args.redis,
            "CACHE_URL": args.redis,
            "DEBUG": "0",
            "SECRET_KEY": SECRET_KEY,
            "ALLOWED_HOSTS": "testserver,127.0.0.1",
            "SESSION_COOKIE_SECURE": "0",
            "STAGELOOP_PAGE_CACHE": "0" if args.no_page_cache else "1",
            "STAGELOOP_PAGE_CACHE_STATS": "1",
        }
    )
    os.environ.setdefault("STAGELOOP_VAR_DIR", "/tmp/var-page-cpu")
    from bench._django import setup

    setup("stageloop_load")
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from bench.load import accounts_ensure, urls_sample
    from runs.page_cache import stats_read, stats_reset

    # One backend for the whole bench, so its CPU is read from one process (production
    # reconnects every 60 s: CONN_MAX_AGE; one connect per minute is noise).
    settings.DATABASES["default"]["CONN_MAX_AGE"] = None
    connection.settings_dict["CONN_MAX_AGE"] = None
    call_command("collectstatic", interactive=False, verbosity=0)
    from runs.models import Service

    Service.objects.get_or_create(name=UPLOAD_SERVICE, defaults={"display_name": "Load CI"})
    names, token = accounts_ensure(1)
    urls = urls_sample(3000, random.Random(args.seed))
    client = Client()
    client.force_login(get_user_model().objects.get(username=names[0]))
    print(
        f"{args.database.rsplit('/', 1)[1]}: "
        + ", ".join(f"{len(v)} {k} URLs" for k, v in urls.items())
        + f"; page cache {'off' if args.no_page_cache else 'on'}",
        flush=True,
    )
    rng = random.Random(args.seed)
    warm_args = argparse.Namespace(**{**vars(args), "per_kind": args.warm, "profile": None})
    pages(warm_args, client, urls, rng)  # imports, template compilation, first connection
    stats_reset()
    load_before = os.getloadavg()
    kinds = pages(args, client, urls, rng)
    hits, misses = stats_read()
    lookups = hits + misses
    hit_ratio = f"{hits}/{lookups} fragment hits" + (f" = {hits / lookups:.0%}" if lookups else "")
    up, analyze = uploads(args, token) if args.uploads else (Kind(), Kind())
    print(f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}")
    report(args, kinds, up, analyze, hit_ratio)


if __name__ == "__main__":
    main()
