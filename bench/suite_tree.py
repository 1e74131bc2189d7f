"""Benchmark: the suite page's test tree for a suite of 20,000 tests, PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/stageloop_bench_tree \\
        .venv/bin/python bench/suite_tree.py [--runs 30] [--tests 20000] [--repeat 10]
    # or the largest suite of a history written by bench/history.py (200,000 tests):
        .venv/bin/python bench/suite_tree.py --largest

Seeds the history once (service `tree-web`, suite `e2e`) and reuses it. Prints the time of the
rollup's rebuild (what each run's post-import task pays), then, per view of the tree, the
p50/p95 time of the selector alone (from the rollup), of the suite page and of one branch loaded
when opened, with each one's query count and the page's size; the load average beside them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _timed(fn, repeat: int) -> tuple[float, float]:
    fn()
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--tests", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--largest", action="store_true", help="the largest suite already there")
    args = parser.parse_args()
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    from bench._django import setup

    setup("stageloop_bench_tree")
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.pages import ensure_history
    from runs.models import Suite
    from runs.roles import VIEWER
    from runs.selectors import suite_tree
    from runs.services.roles import roles_ensure
    from runs.services.suite_tree_rollup import suite_tree_rebuild

    if args.largest:
        suite = Suite.objects.annotate(n=Count("cases")).order_by("-n")[0]
    else:
        ensure_history(args.runs, args.tests, "tree-web", "e2e")
        suite = Suite.objects.get(service__name="tree-web", name="e2e")
    began = time.perf_counter()
    suite_tree_rebuild(suite_id=suite.pk)
    print(f"rollup rebuilt in {time.perf_counter() - began:.1f} s; load {os.getloadavg()}")
    user, _ = get_user_model().objects.get_or_create(username="bench-viewer")
    user.groups.add(roles_ensure()[VIEWER])
    client = Client()
    client.force_login(user)

    print(f"{'what':<34}{'p50 ms':>9}{'p95 ms':>9}{'queries':>9}{'KB':>8}")
    for view in suite_tree.VIEWS:
        tree = suite_tree.suite_tree(suite_id=suite.pk, view=view)
        lazy = next(
            (n for n in tree.root.shown[0].shown if not n.inline), tree.root.shown[0].shown[0]
        )
        urls = {
            f"suite page, {view}": (f"/suites/{suite.pk}/", {"tree": view}),
            f"branch {lazy.label[:14]}, {view}": (
                f"/suites/{suite.pk}/tree",
                {"tree": view, "path": list(lazy.path)},
            ),
        }
        p50, p95 = _timed(lambda v=view: suite_tree.suite_tree(suite_id=suite.pk, view=v), 10)
        with CaptureQueriesContext(connection) as captured:
            suite_tree.suite_tree(suite_id=suite.pk, view=view)
        queries = len(captured)
        print(f"{'selector, ' + view:<34}{p50:>9.1f}{p95:>9.1f}{queries:>9}{'':>8}")
        for name, (path, params) in urls.items():
            p50, p95 = _timed(lambda p=path, q=params: client.get(p, q), args.repeat)
            with CaptureQueriesContext(connection) as captured:
                response = client.get(path, params)
            assert response.status_code == 200, name
            size = len(response.content) / 1024
            print(f"{name:<34}{p50:>9.1f}{p95:>9.1f}{len(captured):>9}{size:>8.0f}")
    print(f"{tree.root.tests:,} tests in the tree over the last {tree.window} runs.")
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
