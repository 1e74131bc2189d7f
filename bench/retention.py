"""Benchmark: the retention pass deletes ≥ 10 M results on PostgreSQL while pages keep answering.

    .venv/bin/python bench/retention.py [--runs 10000] [--tests 1050] [--keep-days 30] [--full]

A year of history (`--runs` runs of `--tests` tests, one every 50 minutes: 10.5 M results by
default) is seeded once into `stageloop_retention_seed` and copied for each run of the script
into `stageloop_retention_bench` (CREATE DATABASE ... TEMPLATE: seconds), so every measurement
starts from the same data. A few old runs are pinned, the suite keeps `--keep-days` days, and the
script times:

1. page p95 (suite, run, overview; Django test client, a Viewer) with nothing else running;
2. the retention pass's deletes, while a thread requests the same pages in a loop;
3. VACUUM (ANALYZE) of the tables (the pass runs it after deleting), pages again in parallel;
4. with --full, VACUUM FULL of the results table, which gives the space back to the OS but
   locks the table: pages wait for it (measured, to show why the pass does not do it).

It prints the space of the results, attachments and runs tables (pg_total_relation_size) before
and after, and each figure's ratio to the goals (delete < 60 s; page p95 < 200 ms) with the load
average beside it. `--keep` keeps the bench database; it is dropped otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DELETE_GOAL_S = 60.0
PAGE_GOAL_MS = 200.0
SEED_DB = "stageloop_retention_seed"
BENCH_DB = "stageloop_retention_bench"


def _load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] if ordered else 0.0


def _p50(values: list[float]) -> float:
    return sorted(values)[len(values) // 2] if values else 0.0


def _admin_url(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/postgres"))


def _seed_if_missing(base: str, runs: int, tests: int) -> None:
    """Seed the template database once, in a child process (Django set up on it)."""
    import subprocess

    import psycopg

    with psycopg.connect(_admin_url(base), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname=%s", [SEED_DB]).fetchone()
    if exists:
        print(f"Reusing the seeded history in {SEED_DB}.")
        return
    print(f"Seeding {runs:,} runs x {tests:,} tests into {SEED_DB} ...", flush=True)
    script = (
        "from bench._django import setup; setup('x');"
        "from demo.seed.history import history_seed;"
        f"r = history_seed(runs={runs}, tests={tests});"
        "print(f'seeded {r.results:,} results')"
    )
    env = {**os.environ, "DATABASE_URL": urlunsplit(urlsplit(base)._replace(path=f"/{SEED_DB}"))}
    subprocess.run(
        [sys.executable, "-c", script], check=True, env=env, cwd=Path(__file__).parent.parent
    )


def _clone(base: str) -> str:
    import psycopg

    began = time.perf_counter()
    with psycopg.connect(_admin_url(base), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}" TEMPLATE "{SEED_DB}"')
    print(f"Copied {SEED_DB} to {BENCH_DB} in {time.perf_counter() - began:.1f} s.")
    return urlunsplit(urlsplit(base)._replace(path=f"/{BENCH_DB}"))


def _drop(base: str) -> None:
    import psycopg

    with psycopg.connect(_admin_url(base), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')


class Pages(threading.Thread):
    """Requests the pages in turn until stopped; keeps each request's milliseconds."""

    def __init__(self, user, urls: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.user, self.urls = user, urls
        self.times: dict[str, list[float]] = {name: [] for name in urls}
        self.errors: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        from django.db import connection
        from django.test import Client

        client = Client()
        client.force_login(self.user)
        try:
            while not self.stop.is_set():
                for name, url in self.urls.items():
                    began = time.perf_counter()
                    response = client.get(url)
                    self.times[name].append((time.perf_counter() - began) * 1000)
                    if response.status_code != 200:
                        self.errors.append(f"{name}: {response.status_code}")
        finally:
            connection.close()

    def report(self, label: str) -> float:
        worst = 0.0
        for name, values in self.times.items():
            p95 = _p95(values)
            worst = max(worst, p95)
            print(
                f"  {label:<14} {name:<9} n={len(values):>4}  p50 {_p50(values):7.1f} ms"
                f"  p95 {p95:7.1f} ms  = {p95 / PAGE_GOAL_MS:.2f}x the 200 ms goal"
            )
        if self.errors:
            print(f"  {label}: {len(self.errors)} errors, e.g. {self.errors[:3]}")
        return worst


def _during(user, urls, work, label: str, started: list | None = None):
    pages = Pages(user, urls)
    if started is not None:
        started.append(pages)
    pages.start()
    began = time.perf_counter()
    result = work()
    took = time.perf_counter() - began
    pages.stop.set()
    pages.join()
    return result, took, pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--tests", type=int, default=1_050)
    parser.add_argument("--keep-days", type=int, default=30)
    parser.add_argument("--pins", type=int, default=5)
    parser.add_argument("--baseline-seconds", type=float, default=15)
    parser.add_argument("--full", action="store_true", help="also time VACUUM FULL")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()

    base = os.environ.get("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}")
    os.environ.setdefault("STAGELOOP_VAR_DIR", "/tmp/var-retention-bench")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    _seed_if_missing(base, args.runs, args.tests)
    os.environ["DATABASE_URL"] = _clone(base)

    from bench._django import setup

    setup(BENCH_DB)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Sum

    from runs.models import RetentionPolicy, Suite, TestRun
    from runs.roles import VIEWER
    from runs.services.retention import (
        retention_pass,
        run_pin_set,
        space_reclaim,
        table_bytes,
    )
    from runs.services.roles import roles_ensure

    try:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # what autovacuum would have done after the seed
        suite = Suite.objects.get(service__name="seeded-web", name="e2e")
        total = TestRun.objects.aggregate(n=Sum("total"))["n"]
        user, _ = get_user_model().objects.get_or_create(username="bench-viewer")
        user.groups.add(roles_ensure()[VIEWER])
        for run in suite.runs.order_by("created_at")[: args.pins]:
            run_pin_set(run=run, pinned=True, user=user)
        RetentionPolicy.objects.update_or_create(
            suite=suite, defaults={"keep_days": args.keep_days}
        )
        latest = suite.runs.order_by("-created_at").first()
        urls = {
            "suite": f"/suites/{suite.pk}/?range=30d",
            "run": f"/runs/{latest.pk}/?range=30d",
            "overview": "/?range=30d",
        }
        print(
            f"{total:,} results in {suite.runs.count():,} runs; "
            f"policy keeps {args.keep_days} days; "
            f"{args.pins} oldest runs pinned.  ({_load()})"
        )
        connection.close()

        bytes_before = table_bytes()
        pages_before: list[Pages] = []

        def baseline() -> None:
            time.sleep(args.baseline_seconds)
            # At least a few requests of each page, however slow the machine is now.
            while min(len(v) for v in pages_before[0].times.values()) < 5:
                time.sleep(0.2)

        _, _, before = _during(user, urls, baseline, "before", started=pages_before)
        print(f"Pages with nothing else running ({_load()}):")
        worst_before = before.report("before")

        record, took, during = _during(user, urls, lambda: retention_pass(vacuum=False), "delete")
        rate = record.results_deleted / took
        print(
            f"Retention pass: {record.runs_deleted:,} runs, {record.results_deleted:,} results, "
            f"{record.attachments_deleted} attachments in {took:.1f} s ({rate:,.0f} results/s) "
            f"= {took / DELETE_GOAL_S:.2f}x the 60 s goal; 10 M would take "
            f"{10_000_000 / rate:.1f} s.  ({_load()})"
        )
        worst_delete = during.report("during delete")
        bytes_deleted = table_bytes()

        _, vacuum_took, vacuuming = _during(user, urls, space_reclaim, "vacuum")
        bytes_vacuumed = table_bytes()
        print(f"VACUUM (ANALYZE) of the three tables: {vacuum_took:.1f} s.  ({_load()})")
        worst_vacuum = vacuuming.report("during vacuum")

        mb = 1024 * 1024
        print(
            f"Space of results+attachments+runs: before {bytes_before / mb:,.0f} MB, after the "
            f"deletes {bytes_deleted / mb:,.0f} MB, after VACUUM {bytes_vacuumed / mb:,.0f} MB "
            "(VACUUM makes the space reusable by new rows; it gives back to the OS only empty "
            "pages at the end of each file)."
        )
        if args.full:

            def full() -> None:
                with connection.cursor() as cursor:
                    cursor.execute("VACUUM FULL runs_testresult")

            _, full_took, fulling = _during(user, urls, full, "vacuum full")
            bytes_full = table_bytes()
            print(
                f"VACUUM FULL runs_testresult: {full_took:.1f} s, space {bytes_full / mb:,.0f} MB "
                f"(returned to the OS: {(bytes_vacuumed - bytes_full) / mb:,.0f} MB); it holds an "
                f"exclusive lock, so pages wait.  ({_load()})"
            )
            fulling.report("during FULL")
        pinned_left = TestRun.objects.filter(pinned=True).count()
        print(
            f"Pinned runs left: {pinned_left} of {args.pins}.  Worst page p95: before "
            f"{worst_before:.0f} ms, during the delete {worst_delete:.0f} ms, during VACUUM "
            f"{worst_vacuum:.0f} ms (goal 200 ms); during the delete / before = "
            f"{worst_delete / max(worst_before, 1e-9):.2f}.  ({_load()})"
        )
    finally:
        connection.close()
        if not args.keep:
            _drop(base)


if __name__ == "__main__":
    main()
