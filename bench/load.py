"""Team load (issue 17): 50 logged-in viewers and 20 uploaders against the production server.

    .venv/bin/python bench/load.py [--database URL] [--duration 60] [--rate 100]
        [--web-concurrency 5] [--worker-class gthread] [--threads 4] [--no-uncached]

1. Seeds (or reuses) a PostgreSQL dataset (default database stageloop_load): --services
   services x --suites suites of `history_seed` history (--runs x --tests each, a few M results),
   plus the service the uploaders post to. `--database` points it at another database (such as
   bench/history.py's): any services, suites, runs and tests found there are sampled.
2. Runs collectstatic and starts `bin/web` itself (gunicorn with the options it ships: DEBUG=0,
   SECRET_KEY, ALLOWED_HOSTS, the page cache in Redis db --redis-db), and `bin/worker` (uploads
   enqueue their analyze step).
3. Logs in --viewers users through the login form, then each requests pages in a mix of overview,
   service, suite, run, test, revision, compare, health, analyses and summary pages, the ids
   sampled across the whole dataset. Open loop: the viewers together aim at --rate requests/s
   (Poisson), so latency is not hidden by viewers waiting (with --rate 0 each viewer sends its
   next request as soon as the last one answers: the server's maximum).
   The load generator is an asyncio/aiohttp client in its own process; its CPU is printed.
4. Meanwhile --uploaders clients each POST tests/data/junit/jest-monorepo.xml (4,239 cases) to
   /api/v1/runs back to back, each upload a new revision (so each makes a new run).
5. Prints throughput, p50/p95/p99 and errors per page and overall, the page cache's hit ratio,
   the load average, and each figure's ratio to its goal; then the same with the page cache
   off (STAGELOOP_PAGE_CACHE=0): the uncached p95 beside the cached one.

Goals: >= 100 requests/s, p95 < 500 ms, p99 < 1 s, no errors.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REPORT = ROOT / "tests" / "data" / "junit" / "jest-monorepo.xml"
PASSWORD = "bench-load-password-1"  # a throwaway bench account
SECRET_KEY = "bench-load-secret-" + "k" * 40
GOAL_RPS = 100.0
GOAL_P95_MS = 500.0
GOAL_P99_MS = 1000.0
UPLOAD_SERVICE = "load-ci"
UPLOAD_SUITE = "jest"

# Page kind -> weight in the mix.
MIX = {
    "overview": 10,
    "service": 10,
    "suite": 12,
    "run": 18,
    "test": 15,
    "revision": 10,
    "compare": 7,
    "health": 6,
    "analyses": 6,
    "summary": 6,
}


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


# --- Dataset ------------------------------------------------------------------------------------


def dataset_ensure(args: argparse.Namespace) -> None:
    from django.db import connection

    from demo.seed.history import history_seed
    from runs.models import Service, TestRun

    seeded = False
    for s in range(args.services):
        for t in range(args.suites):
            service, suite = f"load-svc-{s}", f"suite-{t}"
            if TestRun.objects.filter(service__name=service, suite__name=suite).exists():
                continue
            began = time.perf_counter()
            made = history_seed(
                runs=args.runs,
                tests=args.tests,
                service_name=service,
                suite_name=suite,
                seed=1000 + s * 10 + t,
            )
            seeded = True
            print(
                f"Seeded {service}/{suite}: {made.results:,} results in "
                f"{time.perf_counter() - began:.0f} s.",
                flush=True,
            )
    Service.objects.get_or_create(name=UPLOAD_SERVICE, defaults={"display_name": "Load CI"})
    if seeded:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def accounts_ensure(viewers: int) -> tuple[list[str], str]:
    """`viewers` users who may read every page (the Manager role: read and the summary), and an
    Operator's API token for the uploaders."""
    from django.contrib.auth import get_user_model

    from runs.roles import MANAGER, OPERATOR
    from runs.services.roles import roles_ensure
    from runs.services.tokens import token_create

    roles = roles_ensure()
    users = get_user_model().objects
    names = []
    for i in range(viewers):
        name = f"load-viewer-{i:02d}"
        user = users.filter(username=name).first()
        if user is None:
            user = users.create_user(username=name, password=PASSWORD)
        user.groups.add(roles[MANAGER])
        names.append(name)
    uploader, _ = users.get_or_create(username="load-uploader")
    uploader.groups.add(roles[OPERATOR])
    return names, token_create(user=uploader, name=f"load-{time.time_ns()}")[1]


def urls_sample(per_kind: int, rng: random.Random) -> dict[str, list[str]]:
    """URLs of each page kind, ids drawn uniformly across the whole dataset."""
    from django.db import connection

    def column(sql: str, params: tuple = ()) -> list:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [row[0] if len(row) == 1 else row for row in cursor.fetchall()]

    services = column("SELECT name FROM runs_service ORDER BY name")
    suites = column("SELECT id FROM runs_suite")
    runs = column("SELECT id FROM runs_testrun ORDER BY random() LIMIT %s", (per_kind,))
    cases = column("SELECT id FROM runs_testcase ORDER BY random() LIMIT %s", (per_kind,))
    revisions = column("SELECT id FROM runs_revision ORDER BY random() LIMIT %s", (per_kind,))
    # Pairs to compare: a run and the one before it in its suite; a revision and its predecessor.
    run_pairs = column(
        "SELECT prev, id FROM (SELECT id, lag(id) OVER (PARTITION BY suite_id ORDER BY created_at)"
        " AS prev FROM runs_testrun) t WHERE prev IS NOT NULL ORDER BY random() LIMIT %s",
        (per_kind,),
    )
    revision_pairs = column(
        "SELECT prev, id FROM (SELECT id, lag(id) OVER (PARTITION BY service_id ORDER BY"
        " created_at) AS prev FROM runs_revision) t WHERE prev IS NOT NULL ORDER BY random()"
        " LIMIT %s",
        (per_kind,),
    )
    ranges = ["", "", "?range=24h", "?range=30d"]
    compare = [f"/compare?runs={a},{b}" for a, b in run_pairs] + [
        f"/compare?revisions={a},{b}" for a, b in revision_pairs
    ]
    rng.shuffle(compare)
    return {
        "overview": ["/" + r for r in ranges],
        "service": [f"/services/{s}/" for s in services],
        "suite": [f"/suites/{pk}/{rng.choice(ranges)}" for pk in suites],
        "run": [f"/runs/{pk}/" for pk in runs],
        "test": [f"/tests/{pk}/" for pk in cases],
        "revision": [f"/revisions/{pk}/" for pk in revisions],
        "compare": compare,
        "health": [f"/services/{s}/health/" for s in services],
        "analyses": ["/analyses/", "/action-items/"],
        "summary": ["/reports/summary" + r for r in ranges],
    }


# --- Load generator (its own process) -----------------------------------------------------------


async def _login(session, base: str, username: str) -> None:
    async with session.get(f"{base}/login/") as response:
        text = await response.text()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text).group(1)
    async with session.post(
        f"{base}/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/login/"},
        allow_redirects=False,
    ) as response:
        if response.status != 302:
            raise RuntimeError(f"login of {username} answered {response.status}")


async def _logins(base: str, names: list[str]) -> list[str]:
    """Log each viewer in through the login form (a few at a time: password hashing is slow on
    purpose); return their session cookies, which stay valid across server restarts."""
    import aiohttp

    gate = asyncio.Semaphore(4)

    async def one(name: str) -> str:
        async with gate, aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
            await _login(s, base, name)
            return next(c.value for c in s.cookie_jar if c.key == "sessionid")

    return list(await asyncio.gather(*(one(n) for n in names)))


async def _viewers(
    base: str, cookies: list[str], urls: dict, rate: float, duration: float, seed: int
) -> list:
    import aiohttp
    from yarl import URL

    rng = random.Random(seed)
    kinds = list(MIX)
    weights = [MIX[k] for k in kinds]
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=60)
    sessions = []
    for cookie in cookies:
        jar = aiohttp.CookieJar(unsafe=True)
        jar.update_cookies({"sessionid": cookie}, URL(base))
        sessions.append(
            aiohttp.ClientSession(
                connector=connector, connector_owner=False, timeout=timeout, cookie_jar=jar
            )
        )
    samples: list[tuple[str, float, float, int]] = []  # kind, started, seconds, status (0: error)
    began = time.perf_counter()
    end = began + duration
    per_viewer = rate / len(sessions) if rate else 0.0

    async def viewer(session) -> None:
        next_at = time.perf_counter() + (rng.expovariate(per_viewer) if per_viewer else 0)
        while True:
            if per_viewer:
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
                next_at += rng.expovariate(per_viewer)
            started = time.perf_counter()
            if started >= end:
                return
            kind = rng.choices(kinds, weights)[0]
            url = rng.choice(urls[kind])
            try:
                async with session.get(base + url, allow_redirects=False) as response:
                    await response.read()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError):
                status = 0
            samples.append((kind, started - began, time.perf_counter() - started, status))

    await asyncio.gather(*(viewer(s) for s in sessions))
    for session in sessions:
        await session.close()
    await connector.close()
    return samples


def viewers_process(base, cookies, urls, rate, duration, seed, out) -> None:
    cpu = time.process_time()
    wall = time.perf_counter()
    samples = asyncio.run(_viewers(base, cookies, urls, rate, duration, seed))
    out.put(
        {
            "samples": samples,
            "cpu": time.process_time() - cpu,
            "wall": time.perf_counter() - wall,
        }
    )


async def _uploaders(base: str, token: str, count: int, duration: float, tag: str) -> list:
    import aiohttp

    data = REPORT.read_bytes()
    samples: list[tuple[float, int]] = []
    end = time.perf_counter() + duration
    timeout = aiohttp.ClientTimeout(total=300)

    async def uploader(i: int) -> None:
        n = 0
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while time.perf_counter() < end:
                n += 1
                form = aiohttp.FormData()
                form.add_field("service", UPLOAD_SERVICE)
                form.add_field("suite", UPLOAD_SUITE)
                form.add_field("revision", f"{tag}-{i:02d}-{n:04d}")
                form.add_field("create", "true")
                form.add_field("files", data, filename="jest-monorepo.xml")
                started = time.perf_counter()
                try:
                    async with session.post(
                        f"{base}/api/v1/runs",
                        data=form,
                        headers={"Authorization": f"Bearer {token}"},
                    ) as response:
                        await response.read()
                        status = response.status
                except (aiohttp.ClientError, TimeoutError):
                    status = 0
                samples.append((time.perf_counter() - started, status))

    await asyncio.gather(*(uploader(i) for i in range(count)))
    return samples


def uploaders_process(base, token, count, duration, tag, out) -> None:
    cpu = time.process_time()
    samples = asyncio.run(_uploaders(base, token, count, duration, tag))
    out.put({"samples": samples, "cpu": time.process_time() - cpu})


# --- Servers ------------------------------------------------------------------------------------


class Servers:
    """`bin/web` and `bin/worker`, with the production environment the bench ships."""

    def __init__(self, args: argparse.Namespace, *, page_cache: bool, log_dir: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
            "DEBUG": "0",
            "SECRET_KEY": SECRET_KEY,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            # Plain http on the loopback: cookies without the Secure flag (compose's default too).
            "SESSION_COOKIE_SECURE": "0",
            "STAGELOOP_BIND": f"127.0.0.1:{self.port}",
            "DATABASE_URL": args.database,
            "CELERY_BROKER_URL": args.redis,
            "CACHE_URL": args.redis,
            "STAGELOOP_PAGE_CACHE": "1" if page_cache else "0",
            "STAGELOOP_PAGE_CACHE_STATS": "1",
            "LOG_LEVEL": "WARNING",
        }
        for name, value in (
            ("WEB_CONCURRENCY", args.web_concurrency),
            ("WEB_WORKER_CLASS", args.worker_class),
            ("WEB_THREADS", args.threads),
        ):
            if value is not None:
                self.env[name] = str(value)
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen] = []
        self.worker = not args.no_worker
        self.worker_concurrency = args.worker_concurrency

    def __enter__(self) -> Servers:
        log = (self.log_dir / "web.log").open("ab")
        self.procs.append(
            subprocess.Popen(
                [str(ROOT / "bin" / "web")],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        )
        if self.worker:
            log = (self.log_dir / "worker.log").open("ab")
            self.procs.append(
                subprocess.Popen(
                    [str(ROOT / "bin" / "worker")],
                    cwd=ROOT,
                    env={**self.env, "STAGELOOP_WORKER_CONCURRENCY": str(self.worker_concurrency)},
                    stdout=log,
                    stderr=log,
                    start_new_session=True,
                )
            )
        import httpx

        for _ in range(600):
            try:
                if httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"bin/web did not answer; see {self.log_dir / 'web.log'}")

    def __exit__(self, *exc) -> None:
        for proc in self.procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


# --- One pass -----------------------------------------------------------------------------------


def page_cache_stats(redis_url: str) -> tuple[int, int]:
    from runs.page_cache import stats_read

    return stats_read()


def one_pass(args, *, page_cache: bool, names, urls, token, log_dir: Path) -> dict:
    """`names` are the viewers' session cookies (logged in once, through the form)."""
    from runs.page_cache import stats_reset

    label = "cached" if page_cache else "uncached"
    with Servers(args, page_cache=page_cache, log_dir=log_dir) as servers:
        if not names or not names[0].startswith("session:"):
            # Sessions live in the database: a later bench run against it reuses them.
            saved = log_dir.parent / "load-sessions.txt"
            kept = saved.read_text().split() if saved.exists() else []
            if len(kept) < len(names):
                began = time.perf_counter()
                kept = asyncio.run(_logins(servers.base, names))
                saved.write_text("\n".join(kept))
                print(f"{len(names)} viewers logged in in {time.perf_counter() - began:.0f} s")
            names[:] = ["session:" + c for c in kept[: len(names)]]
        cookies = [n.removeprefix("session:") for n in names]
        ctx = multiprocessing.get_context("spawn")
        # Warm up: every worker imports its modules and opens its database connection.
        warm_out = ctx.Queue()
        warm = ctx.Process(
            target=viewers_process,
            args=(servers.base, cookies[:10], urls, 0, args.warmup, 1, warm_out),
        )
        warm.start()
        warm_out.get(timeout=args.warmup + 300)
        warm.join()
        stats_reset()
        load_before = os.getloadavg()
        view_out, up_out = ctx.Queue(), ctx.Queue()
        viewers = ctx.Process(
            target=viewers_process,
            args=(servers.base, cookies, urls, args.rate, args.duration, args.seed, view_out),
        )
        uploaders = ctx.Process(
            target=uploaders_process,
            args=(
                servers.base,
                token,
                args.uploaders,
                args.duration,
                f"{label}-{time.time_ns()}",
                up_out,
            ),
        )
        cpu_before = _server_cpu(servers)
        viewers.start()
        if args.uploaders:
            uploaders.start()
        viewed = view_out.get(timeout=args.duration + 300)
        uploaded = (
            up_out.get(timeout=args.duration + 600)
            if args.uploaders
            else {"samples": [], "cpu": 0.0}
        )
        viewers.join()
        if args.uploaders:
            uploaders.join()
        server_cpu = _server_cpu(servers) - cpu_before
        hits, misses = page_cache_stats(args.redis)
    return {
        "label": label,
        "viewed": viewed,
        "uploaded": uploaded,
        "hits": hits,
        "misses": misses,
        "load": (load_before, os.getloadavg()),
        "server_cpu": server_cpu,
    }


def _server_cpu(servers: Servers) -> float:
    """CPU seconds used so far by the web and worker process groups (children included)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    groups = {p.pid for p in servers.procs}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) in groups:  # process group id
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def report(result: dict, args) -> None:
    viewed, uploaded = result["viewed"], result["uploaded"]
    samples = viewed["samples"]
    wall = args.duration
    print(f"\n== {result['label']} pass: {len(samples)} page requests in {wall:.0f} s ==")
    print(
        f"{'page':10} {'req':>6} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
        f" {'errors':>7}"
    )
    rows = {}
    for kind in MIX:
        times = [s[2] * 1000 for s in samples if s[0] == kind]
        rows[kind] = times
    all_times = [s[2] * 1000 for s in samples]
    errors = [s for s in samples if s[3] != 200]
    for kind, times in [*rows.items(), ("overall", all_times)]:
        errs = len(errors) if kind == "overall" else sum(1 for s in errors if s[0] == kind)
        print(
            f"{kind:10} {len(times):6} {len(times) / wall:7.1f} {_percentile(times, 0.5):8.0f} "
            f"{_percentile(times, 0.95):8.0f} {_percentile(times, 0.99):8.0f} {errs:7}"
        )
    if errors:
        statuses: dict = {}
        for s in errors:
            statuses[(s[0], s[3])] = statuses.get((s[0], s[3]), 0) + 1
        print("errors by page and status (0: no answer):", statuses)
    rps = len(samples) / wall
    p95, p99 = _percentile(all_times, 0.95), _percentile(all_times, 0.99)
    print(
        f"goal ratios: throughput {rps:.1f}/{GOAL_RPS:.0f} = {rps / GOAL_RPS:.2f}; "
        f"p95 {p95:.0f}/{GOAL_P95_MS:.0f} ms = {p95 / GOAL_P95_MS:.2f}; "
        f"p99 {p99:.0f}/{GOAL_P99_MS:.0f} ms = {p99 / GOAL_P99_MS:.2f}; errors {len(errors)}/0"
    )
    ups = [s[0] * 1000 for s in uploaded["samples"]]
    up_errors = sum(1 for s in uploaded["samples"] if s[1] not in (200, 201))
    print(
        f"uploads: {len(ups)} of 4,239 cases in {wall:.0f} s ({len(ups) / wall:.2f}/s, "
        f"{len(ups) * 4239 / wall:,.0f} results/s), p50 {_percentile(ups, 0.5):.0f} ms, "
        f"p95 {_percentile(ups, 0.95):.0f} ms, errors {up_errors}"
    )
    lookups = result["hits"] + result["misses"]
    ratio = result["hits"] / lookups if lookups else 0.0
    print(f"page cache: {result['hits']} hits / {lookups} fragment lookups = {ratio:.0%} hit ratio")
    print(
        f"load generator CPU: {viewed['cpu']:.1f} s in {viewed['wall']:.0f} s "
        f"({viewed['cpu'] / viewed['wall']:.0%} of one core); uploaders' client "
        f"{uploaded['cpu']:.1f} s; server (web + worker) CPU {result['server_cpu']:.0f} s "
        f"({result['server_cpu'] / wall:.2f} cores)"
    )
    before, after = result["load"]
    print(
        f"load average before {before[0]:.2f} {before[1]:.2f} {before[2]:.2f}, "
        f"after {after[0]:.2f} {after[1]:.2f} {after[2]:.2f} ({os.cpu_count()} cores)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database",
        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/stageloop_load"),
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/10")
    parser.add_argument("--services", type=int, default=4)
    parser.add_argument("--suites", type=int, default=2)
    parser.add_argument("--runs", type=int, default=800)
    parser.add_argument("--tests", type=int, default=600)
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--uploaders", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=GOAL_RPS, help="0: closed loop")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--web-concurrency", type=int, help="WEB_CONCURRENCY for bin/web")
    parser.add_argument("--worker-class", help="WEB_WORKER_CLASS for bin/web (sync, gthread)")
    parser.add_argument("--threads", type=int, help="WEB_THREADS for bin/web")
    parser.add_argument("--no-worker", action="store_true", help="no Celery worker")
    parser.add_argument("--worker-concurrency", type=int, default=1)
    parser.add_argument("--no-uncached", action="store_true", help="skip the uncached pass")
    parser.add_argument("--seed-only", action="store_true")
    args = parser.parse_args()
    # Stopped (Ctrl-C, timeout): unwind, so the servers this script started are stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    var = Path(os.environ.get("STAGELOOP_VAR_DIR", "/tmp/var-load-bench"))
    os.environ["STAGELOOP_VAR_DIR"] = str(var)
    os.environ["DATABASE_URL"] = args.database
    os.environ["CELERY_BROKER_URL"] = args.redis
    os.environ["CACHE_URL"] = args.redis
    from bench._django import setup

    setup("stageloop_load")
    dataset_ensure(args)
    if args.seed_only:
        return
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    names, token = accounts_ensure(args.viewers)
    urls = urls_sample(3000, random.Random(args.seed))
    from runs.models import TestResult, TestRun

    print(
        f"Dataset: {TestRun.objects.count():,} runs, {TestResult.objects.count():,} results; "
        + ", ".join(f"{len(v)} {k} URLs" for k, v in urls.items())
    )
    print(
        "bin/web with WEB_CONCURRENCY={} WEB_WORKER_CLASS={} WEB_THREADS={}; {}".format(
            args.web_concurrency or "(bin/web default)",
            args.worker_class or "(bin/web default)",
            args.threads or "(bin/web default)",
            _load(),
        ),
        flush=True,
    )
    log_dir = var / "load-logs"
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir(parents=True)
    results = [
        one_pass(args, page_cache=True, names=names, urls=urls, token=token, log_dir=log_dir)
    ]
    report(results[0], args)
    if not args.no_uncached:
        results.append(
            one_pass(args, page_cache=False, names=names, urls=urls, token=token, log_dir=log_dir)
        )
        report(results[1], args)
        cached, uncached = ([s[2] * 1000 for s in r["viewed"]["samples"]] for r in results)
        print(
            f"\np95 cached {_percentile(cached, 0.95):.0f} ms, uncached "
            f"{_percentile(uncached, 0.95):.0f} ms; p50 cached {_percentile(cached, 0.5):.0f} ms, "
            f"uncached {_percentile(uncached, 0.5):.0f} ms"
        )


if __name__ == "__main__":
    main()
