"""Benchmark: search (runs.selectors.search and GET /search) against a large history, PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/stageloop_bench_search \\
        .venv/bin/python bench/search.py [--runs 1000] [--tests 1000] [--suites 1000] [--repeat 20]

Search never reads the results table (failure messages are searched through FailureSignature, one
row per distinct failure per suite), so its cost grows with the searched tables: test cases,
signatures, revisions, suites, services. The script therefore seeds, once and reused later:
  - a seed_history history (service `seeded-web`, suite `e2e`, --runs x --tests results), as
    bench/pages.py does, so the results table is not empty;
  - `search-bench`: --suites suites of --tests-per-suite test cases each (1 M by default, 1,000
    times what a 10 M-result history of 1,000 tests holds), --signatures-per-suite failure
    signatures per suite and --revisions revisions, written with INSERT ... SELECT.
Each kind is timed through the selector (its capped matches and its hits, as the results page
asks them), then the whole results page and the typeahead partial through the Django test client,
logged in as a Viewer. Prints p50/p95 in ms and the ratio of p95 to the 200 ms goal, and whether
the plans use the trigram indexes of migration 0020_search.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

GOAL_MS = 200.0
SERVICE = "search-bench"
# What people type: test names, parts of paths, classnames, a commit fragment, a revision,
# failure text, a rare word, a common one, and characters LIKE would treat as wildcards.
QUERIES = [
    "test_login",
    "login",
    "tests/checkout/",
    "TestPayments",
    "a1b2",
    "rev-00123",
    "timeout",
    "expected 200",
    "ConnectionRefused",
    "zz_nothing_matches",
    "test",
    "_%",
]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ensure_search_rows(*, suites: int, tests: int, signatures: int, revisions: int) -> None:
    from django.db import connection

    from runs.models import Service, TestCase

    service, _ = Service.objects.get_or_create(
        name=SERVICE, defaults={"display_name": "Search bench", "is_demo": True}
    )
    have = TestCase.objects.filter(suite__service=service).count()
    if have >= suites * tests:
        print(f"Reusing {have:,} test cases of {SERVICE}.")
        return
    if have:
        sys.exit(f"{SERVICE} has {have:,} test cases, not {suites * tests:,}: drop the database.")
    print(
        f"Seeding {suites:,} suites x {tests:,} tests, {signatures} signatures each, "
        f"{revisions:,} revisions ...",
        flush=True,
    )
    began = time.perf_counter()
    areas = "ARRAY['auth','checkout','payments','search','profile','orders','admin','login']"
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO runs_suite (service_id, name, command, working_dir, env, timeout_seconds,"
            " created_at) SELECT %s, 'suite-' || lpad(s::text, 5, '0'), '[]', '', '{}', 1800, now()"
            " FROM generate_series(1, %s) s",
            [service.pk, suites],
        )
        cursor.execute(
            f"""
            INSERT INTO runs_testcase (suite_id, key, key_hash, name, classname, file,
                                       first_seen_at, ever_real)
            SELECT s.id, k.key, left(encode(sha256(convert_to(k.key, 'UTF8')), 'hex'), 40),
                   k.name, k.classname, k.file, now(), true
            FROM runs_suite s
            CROSS JOIN generate_series(1, %s) i
            CROSS JOIN LATERAL (SELECT ({areas})[1 + (i + s.id) %% 8] AS area) a
            CROSS JOIN LATERAL (SELECT
                'tests/' || a.area || '/test_' || a.area || '_' || (i %% 50) || '.py' AS file,
                'tests.' || a.area || '.Test' || initcap(a.area) || (i / 40) AS classname,
                'test_' || a.area || '_case_' || s.id || '_' || i AS name) n
            CROSS JOIN LATERAL (SELECT n.file || '::' || n.classname || '::' || n.name AS key,
                n.name, n.classname, n.file) k
            WHERE s.service_id = %s
            """,  # noqa: S608 (a constant array, no input)
            [tests, service.pk],
        )
        cursor.execute(
            f"""
            INSERT INTO runs_failuresignature (suite_id, kind, hash, normalized, example,
                                               first_seen_at, last_seen_at, triage_comment)
            SELECT s.id, CASE WHEN i %% 5 = 0 THEN 'error' ELSE 'failed' END,
                   left(md5(s.id || ':' || i) || md5(i || ':' || s.id), 40),
                   m.normalized, replace(m.normalized, '<N>', (i * 7 %% 1000)::text),
                   now(), now(), ''
            FROM runs_suite s
            CROSS JOIN generate_series(1, %s) i
            CROSS JOIN LATERAL (SELECT (ARRAY[
                'AssertionError: expected 200, got <N> from /api/' || ({areas})[1 + i %% 8],
                'TimeoutError: page did not load within <N> ms (' || ({areas})[1 + i %% 8] || ')',
                'ConnectionRefusedError: [Errno <N>] connection refused by db-' || i,
                'KeyError: ''field_' || i || ''' in ' || ({areas})[1 + i %% 8] || ' response',
                'ValueError: invalid literal for int() with base <N>: ''x' || s.id || ''''
            ])[1 + i %% 5] AS normalized) m
            WHERE s.service_id = %s
            """,  # noqa: S608 (a constant array, no input)
            [signatures, service.pk],
        )
        cursor.execute(
            "INSERT INTO runs_revision (service_id, name, image, commit_sha, commit_message, url,"
            " status, traffic_percent, created_at, target_state)"
            " SELECT %s, 'rev-' || lpad(r::text, 6, '0'), 'registry.local/search:' || r,"
            " encode(sha256(convert_to(r::text, 'UTF8')), 'hex'), 'change ' || r, '', 'retired', 0,"
            " now() - r * interval '1 minute', '{}' FROM generate_series(1, %s) r",
            [service.pk, revisions],
        )
        cursor.execute("VACUUM ANALYZE")
    print(f"Seeded in {time.perf_counter() - began:.0f} s.", flush=True)


def timed(fn, repeat: int) -> list[float]:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append((time.perf_counter() - began) * 1000)
    return times


def uses_index(kind: str, q: str) -> str:
    """The search_ indexes in the plan of ``kind``'s matching query, or its first line."""
    import re

    from django.db import connection

    from runs.selectors.search import COUNT_CAP, _matching

    matches = _matching(kind, q).order_by().values_list("pk")[: COUNT_CAP + 1]
    sql, params = matches.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    found = sorted(set(re.findall(r"search_\w+", plan)))
    return ", ".join(found) if found else plan.splitlines()[0].strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1_000)
    parser.add_argument("--tests", type=int, default=1_000)
    parser.add_argument("--suites", type=int, default=1_000)
    parser.add_argument("--tests-per-suite", type=int, default=1_000)
    parser.add_argument("--signatures-per-suite", type=int, default=100)
    parser.add_argument("--revisions", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    from bench._django import setup

    url = setup("stageloop_bench_search")
    from django.conf import settings

    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        sys.exit(f"bench/search.py measures PostgreSQL; DATABASE_URL is {url}.")
    from django.contrib.auth import get_user_model
    from django.test import Client

    from bench.pages import ensure_history
    from runs.models import FailureSignature, Revision, Suite, TestCase, TestResult
    from runs.roles import VIEWER
    from runs.selectors import search
    from runs.services.roles import roles_ensure

    ensure_history(args.runs, args.tests, "seeded-web", "e2e")
    ensure_search_rows(
        suites=args.suites,
        tests=args.tests_per_suite,
        signatures=args.signatures_per_suite,
        revisions=args.revisions,
    )
    results = TestResult.objects.count()
    print(
        f"{results:,} results; searched: {TestCase.objects.count():,} tests, "
        f"{FailureSignature.objects.count():,} failure signatures, "
        f"{Revision.objects.count():,} revisions, {Suite.objects.count():,} suites."
    )
    user, _ = get_user_model().objects.get_or_create(username="bench-viewer")
    user.groups.add(roles_ensure()[VIEWER])
    client = Client()
    client.force_login(user)

    def page(path: str, q: str):
        def get() -> None:
            response = client.get(f"{path}?{urlencode({'q': q})}")
            assert response.status_code == 200, (path, q, response.status_code)

        return get

    rows: dict[str, list[float]] = {}
    for kind in search.KINDS:
        rows[kind] = [
            t
            for q in QUERIES
            for t in timed(
                lambda q=q, kind=kind: search.search_group(q=q, kind=kind, limit=11), args.repeat
            )
        ]
    rows["selector, all kinds"] = [
        t for q in QUERIES for t in timed(lambda q=q: search.search_all(q=q, limit=10), args.repeat)
    ]
    rows["results page (all kinds)"] = [
        t for q in QUERIES for t in timed(page("/search", q), args.repeat)
    ]
    rows["typeahead partial"] = [
        t for q in QUERIES for t in timed(page("/search/typeahead", q), args.repeat)
    ]
    worst_q = {
        q: statistics.median(timed(page("/search", q), max(5, args.repeat // 4))) for q in QUERIES
    }

    print(f"\n{len(QUERIES)} queries x {args.repeat} repeats each; goal: p95 < {GOAL_MS:.0f} ms.")
    print(f"{'kind':<28}{'p50 ms':>9}{'p95 ms':>9}{'p95/goal':>10}")
    worst = 0.0
    for name, times in rows.items():
        p95 = _percentile(times, 0.95)
        if name.endswith(("page (all kinds)", "partial")):
            worst = max(worst, p95)
        print(f"{name:<28}{statistics.median(times):>9.1f}{p95:>9.1f}{p95 / GOAL_MS:>10.2f}")
    print("\nResults page p50 per query (ms):")
    for q, ms in worst_q.items():
        print(f"  {q!r:<24}{ms:>8.1f}")
    print("\nIndexes in each kind's plan for 'test_login' and 'timeout':")
    for kind in search.KINDS:
        print(f"  {kind:<10} {uses_index(kind, 'test_login')} | {uses_index(kind, 'timeout')}")
    verdict = "met" if worst < GOAL_MS else "MISSED"
    print(f"\nLoad average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.")
    print(
        f"\nOverall worst p95 (page or typeahead): {worst:.1f} ms, {worst / GOAL_MS:.2f} x the "
        f"{GOAL_MS:.0f} ms goal: {verdict}."
    )


if __name__ == "__main__":
    main()
