"""Benchmark: search on the embedded SQLite database at embedded scale, and FTS5 beside it.

    .venv/bin/python bench/search_sqlite.py [--tests 100000] [--repeat 20]

Seeds a fresh SQLite database under var/bench-search-sqlite/ (--tests test cases in 100 suites,
a tenth as many failure signatures, 2,000 revisions), then times the selector the pages use
per kind and for the results page's five kinds (the tests through the FTS5 trigram table of
migration 0020_search, the rest with LIKE), and, for the tests, plain LIKE (Django's icontains)
on the same rows, the alternative FTS5 replaced.
Prints p50/p95 in ms against the 200 ms goal.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_MS = 200.0
QUERIES = [
    "test_login",
    "login",
    "tests/checkout/",
    "TestPayments",
    "timeout",
    "zz_nothing",
    "test",
]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(fn, repeat: int) -> list[float]:
    fn()
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append((time.perf_counter() - began) * 1000)
    return times


def seed(tests: int) -> None:
    from django.db import connection

    from runs.models import Service

    service = Service.objects.create(name="search-bench", display_name="Search bench")
    areas = '["auth","checkout","payments","search","profile","orders","admin","login"]'
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 100) "
            "INSERT INTO runs_suite (service_id, name, command, working_dir, env, "
            "timeout_seconds, created_at) SELECT %s, 'suite-' || i, '[]', '', '{}', 1800, "
            "datetime('now') FROM s",
            [service.pk],
        )
        cursor.execute(
            """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %s),
            c AS (SELECT i,
                         (SELECT min(id) FROM runs_suite WHERE service_id = %s) + i %% 100
                             AS suite_id,
                         json_extract(%s, '$[' || (i %% 8) || ']') AS area FROM n)
            INSERT INTO runs_testcase (suite_id, key, key_hash, name, classname, file,
                                       first_seen_at, ever_real)
            SELECT suite_id, 'k' || i, substr(hex(randomblob(20)), 1, 40),
                   'test_' || area || '_case_' || i,
                   'tests.' || area || '.Test' || upper(substr(area, 1, 1)) || substr(area, 2)
                       || (i / 40),
                   'tests/' || area || '/test_' || area || '_' || (i %% 50) || '.py',
                   datetime('now'), 1
            FROM c
            """,
            [tests, service.pk, areas],
        )
        cursor.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %s) "
            "INSERT INTO runs_failuresignature (suite_id, kind, hash, normalized, example, "
            "first_seen_at, last_seen_at, triage_comment) "
            "SELECT (SELECT min(id) FROM runs_suite) + i %% 100, "
            "'failed', substr(hex(randomblob(20)), 1, 40), "
            "'TimeoutError: page did not load within <N> ms (step ' || i || ')', "
            "'TimeoutError: page did not load within 3000 ms (step ' || i || ')', "
            "datetime('now'), datetime('now'), '' FROM n",
            [tests // 10],
        )
        cursor.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) "
            "INSERT INTO runs_revision (service_id, name, image, commit_sha, commit_message, url, "
            "status, traffic_percent, created_at, target_state) SELECT %s, 'rev-' || i, '', "
            "lower(hex(randomblob(20))), '', '', 'retired', 0, datetime('now'), '{}' FROM n",
            [service.pk],
        )
        cursor.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    var = ROOT / "var" / "bench-search-sqlite"
    shutil.rmtree(var, ignore_errors=True)
    var.mkdir(parents=True)
    os.environ.pop("DATABASE_URL", None)
    os.environ["STAGELOOP_VAR_DIR"] = str(var)
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from runs.selectors import search

    began = time.perf_counter()
    seed(args.tests)
    print(
        f"Seeded {args.tests:,} tests in {time.perf_counter() - began:.1f} s (SQLite, the FTS5 "
        "triggers included)."
    )

    rows: dict[str, list[float]] = {}
    for kind in search.KINDS:
        rows[kind] = [
            t
            for q in QUERIES
            for t in timed(
                lambda q=q, kind=kind: search.search_group(q=q, kind=kind, limit=11), args.repeat
            )
        ]
    rows["all kinds (results page)"] = [
        t for q in QUERIES for t in timed(lambda q=q: search.search_all(q=q, limit=10), args.repeat)
    ]

    from django.db.models import Q

    from runs.models import TestCase

    def like(q: str) -> None:
        matches = TestCase.objects.filter(
            Q(name__icontains=q) | Q(classname__icontains=q) | Q(file__icontains=q)
        )
        list(matches.values_list("pk", flat=True)[: search.COUNT_CAP + 1])

    rows["tests, plain LIKE (ids only)"] = [
        t for q in QUERIES for t in timed(lambda q=q: like(q), args.repeat)
    ]
    fts = search._sqlite_fts()
    print(f"Tests searched through FTS5 (migration 0020_search): {fts}.")
    print(f"\n{len(QUERIES)} queries x {args.repeat} repeats; goal p95 < {GOAL_MS:.0f} ms.")
    print(f"{'kind':<34}{'p50 ms':>9}{'p95 ms':>9}{'p95/goal':>10}")
    for name, times in rows.items():
        p95 = _percentile(times, 0.95)
        print(f"{name:<34}{statistics.median(times):>9.1f}{p95:>9.1f}{p95 / GOAL_MS:>10.2f}")


if __name__ == "__main__":
    main()
