"""Benchmark: the overview, reports summary, analyses lists and health pages (issue 17), PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/stageloop_bench_overview \\
        .venv/bin/python bench/pages_overview.py [--scale 1.0] [--repeat 20] [--seed-only]

The history has the issue's shape at a smaller size: one service with a long history of 1,000
tests, one 200,000-case run and twenty 4,239-case runs, and many small services whose suites have
long-tailed sizes (30..600 tests). It is seeded once by `history_seed` and reused. Each page is
requested with the Django test client as a Viewer; the script prints p50/p95 server time and the
query count, and the slowest query of each page. Target: p95 < 200 ms, queries independent of size.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_P95_MS = 200.0


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _shape(scale: float) -> list[tuple[str, str, int, int]]:
    """(service, suite, runs, tests) of the seeded history."""
    rng = random.Random(17)
    shape = [
        ("seeded-web", "e2e", int(2000 * scale), 1000),
        ("big-monolith", "full", 1, 200_000),
        ("big-monolith", "nightly", 20, 4239),
    ]
    for s in range(int(24 * scale)):
        for k in range(2):
            tests = min(600, int(30 / (1 - rng.random()) ** 0.7))  # long tail from 30
            shape.append((f"svc-{s:02d}", f"suite-{k}", rng.randint(50, 300), tests))
    return shape


def ensure_history(scale: float) -> None:
    from django.db import connection
    from django.utils import timezone

    from demo.seed.history import history_seed
    from runs.models import TestRun

    now = timezone.now()
    for service, suite, runs, tests in _shape(scale):
        if TestRun.objects.filter(service__name=service, suite__name=suite).exists():
            continue
        began = time.perf_counter()
        made = history_seed(
            runs=runs,
            tests=tests,
            service_name=service,
            suite_name=suite,
            now=now - timedelta(minutes=random.Random(suite + service).randrange(600)),
        )
        took = time.perf_counter() - began
        print(f"{service}/{suite}: {made.results:,} results in {took:.0f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def page_urls() -> dict[str, str]:
    return {
        "overview": "/",
        "reports summary": "/reports/summary",
        "analyses": "/analyses/",
        "action items": "/action-items/",
        "health big-monolith": "/services/big-monolith/health/",
        "health seeded-web": "/services/seeded-web/health/",
    }


def measure(client, url: str, repeat: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):
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
    return {
        "p50": statistics.median(times) * 1000,
        "p95": _percentile(times, 0.95) * 1000,
        "queries": len(captured.captured_queries),
        "main": float(main["time"]) * 1000,
        "main_sql": main["sql"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--seed-only", action="store_true")
    parser.add_argument("--show-sql", action="store_true", help="print each page's main query")
    parser.add_argument("--pages", default="", help="comma-separated page names to measure")
    args = parser.parse_args()

    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    from bench._django import setup

    url = setup("stageloop_bench_overview")
    from django.conf import settings

    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        sys.exit(f"bench/pages_overview.py measures PostgreSQL; DATABASE_URL is {url}.")
    from django.contrib.auth import get_user_model
    from django.test import Client

    from runs.models import TestResult
    from runs.roles import MANAGER, VIEWER
    from runs.services.roles import roles_ensure

    ensure_history(args.scale)
    print(f"{TestResult.objects.count():,} results in the database.")
    if args.seed_only:
        return
    user, _ = get_user_model().objects.get_or_create(username="bench-viewer")
    user.groups.add(roles_ensure()[VIEWER], roles_ensure()[MANAGER])  # Managers read reports
    client = Client()
    client.force_login(user)
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print(f"\n{'page':<22}{'p50 ms':>9}{'p95 ms':>9}{'queries':>9}{'slowest SQL ms':>16}")
    worst = 0.0
    wanted = {p for p in args.pages.split(",") if p}
    for name, path in page_urls().items():
        if wanted and name not in wanted:
            continue
        m = measure(client, path, args.repeat)
        worst = max(worst, m["p95"])
        print(f"{name:<22}{m['p50']:>9.1f}{m['p95']:>9.1f}{m['queries']:>9}{m['main']:>16.1f}")
        if args.show_sql:
            print(f"    {m['main_sql'][:1500]}")
    verdict = "met" if worst < TARGET_P95_MS else "MISSED"
    print(f"\nWorst p95: {worst:.1f} ms; target p95 < {TARGET_P95_MS:.0f} ms: {verdict}.")


if __name__ == "__main__":
    main()
