"""Benchmark: every dashboard page against 10,000 runs x 1,000 tests (10 M results), PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/stageloop_bench10m \\
        .venv/bin/python bench/pages.py [--runs 10000] [--tests 1000] [--repeat 30]

The database (default: the URL above) is created and migrated if missing. The history is written
once by `seed_history` (service `seeded-web`, suite `e2e`; a few minutes for 10 M results) and
reused by later runs. Each page is requested with the Django test client, logged in as a Viewer,
after a few warm-up requests; the script prints p50/p95 server time, the query count, and the
page's p50 against its slowest ("main") SQL query run alone with a cursor. Target: p95 < 200 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_P95_MS = 200.0


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ensure_history(runs: int, tests: int, service: str, suite: str) -> None:
    from django.db import connection

    from demo.seed.history import history_seed
    from runs.models import TestRun

    have = TestRun.objects.filter(service__name=service, suite__name=suite).count()
    if have >= runs:
        print(f"Reusing {have} runs of {service} / {suite} already in the database.")
        return
    if have:
        sys.exit(f"{service} / {suite} has {have} runs, not {runs}: use another --service.")
    print(f"Seeding {runs} runs x {tests} tests ...", flush=True)
    began = time.perf_counter()
    made = history_seed(runs=runs, tests=tests, service_name=service, suite_name=suite)
    took = time.perf_counter() - began
    print(f"Seeded {made.results:,} results in {took:.0f} s ({made.results / took:,.0f}/s).")
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"VACUUM ANALYZE took {time.perf_counter() - began:.0f} s.")


def page_urls(service: str, suite_name: str) -> dict[str, str]:
    from runs.models import Revision, Suite, TestResult

    suite = Suite.objects.select_related("service").get(service__name=service, name=suite_name)
    runs = suite.runs.filter(status__in=("passed", "failed")).order_by("-created_at")
    latest, previous = runs[0], runs[1]
    failing_run = runs.filter(failed__gt=0).first() or latest
    failing = TestResult.objects.filter(run=failing_run, outcome="failed").first()
    case_id = failing.case_id if failing else suite.cases.order_by("pk").first().pk
    revision = suite.service.current_revision
    before = (
        Revision.objects.filter(service=suite.service, created_at__lt=revision.created_at)
        .order_by("-created_at")
        .first()
    )
    return {
        "overview": "/",
        "service": f"/services/{service}/",
        "suite": f"/suites/{suite.pk}/",
        "suite, page 200 of runs": f"/suites/{suite.pk}/?page=200",
        "run": f"/runs/{latest.pk}/",
        "run, failed only": f"/runs/{failing_run.pk}/?outcome=failed",
        "run, search": f"/runs/{latest.pk}/?q=case_0042",
        "run progress": f"/runs/{latest.pk}/progress",
        "test": f"/tests/{case_id}/",
        "revision": f"/revisions/{revision.pk}/",
        "compare runs": f"/compare?runs={previous.pk},{latest.pk}",
        "compare revisions": f"/compare?revisions={before.pk},{revision.pk}",
    }


def measure(client, url: str, repeat: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        assert client.get(url).status_code == 200, url
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - began)
        assert response.status_code == 200, url
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    main = max(captured.captured_queries, key=lambda q: float(q["time"]))
    main_times = []
    with connection.cursor() as cursor:
        for _ in range(max(5, repeat // 2)):
            began = time.perf_counter()
            cursor.execute(main["sql"])
            cursor.fetchall()
            main_times.append(time.perf_counter() - began)
    return {
        "p50": statistics.median(times) * 1000,
        "p95": _percentile(times, 0.95) * 1000,
        "queries": len(captured.captured_queries),
        "main": statistics.median(main_times) * 1000,
        "main_sql": main["sql"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--tests", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--service", default="seeded-web")
    parser.add_argument("--suite", default="e2e")
    parser.add_argument("--show-sql", action="store_true", help="print each page's main query")
    args = parser.parse_args()

    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    from bench._django import setup

    url = setup("stageloop_bench10m")
    from django.conf import settings

    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        sys.exit(f"bench/pages.py measures PostgreSQL; DATABASE_URL is {url}.")
    from django.contrib.auth import get_user_model
    from django.test import Client

    from runs.models import TestResult
    from runs.roles import VIEWER
    from runs.services.roles import roles_ensure

    ensure_history(args.runs, args.tests, args.service, args.suite)
    print(f"{TestResult.objects.count():,} results in the database.")
    user, _ = get_user_model().objects.get_or_create(username="bench-viewer")
    user.groups.add(roles_ensure()[VIEWER])
    client = Client()
    client.force_login(user)

    print(f"\n{'page':<26}{'p50 ms':>9}{'p95 ms':>9}{'queries':>9}{'main SQL ms':>13}{'ratio':>8}")
    worst = 0.0
    for name, path in page_urls(args.service, args.suite).items():
        m = measure(client, path, args.repeat)
        worst = max(worst, m["p95"])
        ratio = m["p50"] / m["main"] if m["main"] else float("inf")
        print(
            f"{name:<26}{m['p50']:>9.1f}{m['p95']:>9.1f}{m['queries']:>9}"
            f"{m['main']:>13.1f}{ratio:>8.1f}"
        )
        if args.show_sql:
            print(f"    {m['main_sql'][:400]}")
    verdict = "met" if worst < TARGET_P95_MS else "MISSED"
    print(f"\nWorst p95: {worst:.1f} ms; target p95 < {TARGET_P95_MS:.0f} ms: {verdict}.")
    print("ratio = page p50 / main query p50 (the main query is the page's slowest, run alone).")


if __name__ == "__main__":
    main()
