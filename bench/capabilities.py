"""Benchmark: the summary and capability pages read through the capability -> tests read model
(reports.CapabilityCase) against the pattern scan it replaced, on the same data, PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/stageloop_bench_pages \\
        .venv/bin/python bench/capabilities.py [--repeat 3] [--explain]

Needs a history written first by bench/history.py (its test names: test_<topic>_<n> in
tests/suite-NNN/test_<topic>.py). Saves a handful of capabilities through capability_save (timing
each rebuild: one INSERT … SELECT over every test) unless some exist, then opens the summary
and each capability's page as a Viewer would, three ways. "pattern scan" is the oldest path
exactly: the pages fall back to it for a capability whose rows were not built for its patterns,
which this script arranges by clearing mapped_patterns, then restores; "rows counted" reads the
mapped rows but counts their latest results per request; "tallies" adds up the counts kept at
ingest (reports.CapabilityTally), as the pages do now. --explain prints EXPLAIN (ANALYZE, BUFFERS)
of one capability's status counts on both paths.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MODES = ("pattern scan", "rows counted", "tallies")
GOAL = 0.2  # seconds: server p95 of every page (issue 17)
CAPABILITIES = [
    # (name, patterns, services: how many of the first ones; 0 = every service)
    ("Search and threads", "name:test_search*\nfile:*test_threads.py", 5),
    ("Billing", "class:*TestBilling1*", 0),
    ("Streaming", "file:*/test_streaming.py\n!name:*7", 10),
    ("Auth", "*auth_0000*", 0),
    ("Agents of the first suites", "key:tests/suite-00?/test_agents.py::*", 0),
]


def _ensure_capabilities() -> list[int]:
    from django.db import connection

    from reports.models import Capability, CapabilityCase, CapabilityTally
    from reports.services.capability_cases import capability_save
    from runs.models import Service

    if Capability.objects.exists():
        return list(Capability.objects.order_by("pk").values_list("pk", flat=True))
    services = list(Service.objects.order_by("pk"))
    for name, patterns, first in CAPABILITIES:
        began = time.perf_counter()
        capability = capability_save(capability=Capability(name=name, patterns=patterns))
        took = time.perf_counter() - began
        if first:
            capability.services.add(*services[:first])
        rows = capability.case_rows.count()
        print(f"Saved {name!r}: {rows:,} tests mapped in {took:.2f} s (the rebuild).")
    # As autovacuum would within a minute or two: measured at once, the planner still believes
    # the table empty and plans the status queries for a few rows (summary 3.2 s -> 2.2 s).
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {CapabilityCase._meta.db_table}")
        cursor.execute(f"ANALYZE {CapabilityTally._meta.db_table}")
    return list(Capability.objects.order_by("pk").values_list("pk", flat=True))


def _times(client, url: str, repeat: int) -> list[float]:
    client.get(url)  # warm-up
    out = []
    for _ in range(repeat):
        began = time.perf_counter()
        response = client.get(url)
        out.append(time.perf_counter() - began)
        assert response.status_code == 200, (url, response.status_code)
    return out


def _explain(capability_id: int) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the capability page's tests (mapped_tests' query: the
    tests in scope with their latest result id, by key, 500 at most)."""
    from datetime import date

    from django.db import connection

    from reports.models import Capability
    from reports.scope import Scope
    from reports.selectors.capabilities import mapped_cases

    capability = Capability.objects.prefetch_related("services").get(pk=capability_id)
    today = date.today()
    scope = Scope(start=today.replace(day=1), end=today, services=())
    rows = mapped_cases(capability, scope).order_by("key").values("pk", "key", "latest_id")[:500]
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        print("\n".join(row[0] for row in cursor.fetchall()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    from bench._django import setup

    url = setup("stageloop_bench_pages")
    from django.contrib.auth import get_user_model
    from django.db.models import F
    from django.test import Client

    from reports.models import Capability
    from runs.models import TestCase, TestResult

    print(
        f"{url}: {TestResult.objects.count():,} results, {TestCase.objects.count():,} tests; "
        f"load average {os.getloadavg()[0]:.2f}."
    )
    ids = _ensure_capabilities()
    user = get_user_model().objects.filter(is_superuser=True).first() or (
        get_user_model().objects.create_superuser("bench-admin", "bench@example.com", "x")
    )
    client = Client()
    client.force_login(user)
    pages = {"summary": "/reports/summary"} | {
        f"capability {pk}": f"/reports/capabilities/{pk}/" for pk in ids
    }
    from reports.selectors import capabilities as selector

    tallied = selector._tallied
    results: dict[str, dict[str, float]] = {}
    try:
        for mode in MODES:
            if mode == "pattern scan":
                Capability.objects.update(mapped_patterns="")
            else:
                Capability.objects.update(mapped_patterns=F("patterns"))
            # "rows counted": the mapped tests' latest results counted per request, as before
            # the tallies (reports.CapabilityTally) kept those counts at ingest.
            selector._tallied = tallied if mode == "tallies" else (lambda *a: None)
            for name, page in pages.items():
                times = _times(client, page, args.repeat)
                results.setdefault(name, {})[mode] = statistics.median(times)
                print(f"  {mode:13} {name:14} median {statistics.median(times) * 1000:8.0f} ms")
            if args.explain:
                print(f"-- {mode}: the tests of capability {ids[0]} in scope, counted")
                _explain(ids[0])
    finally:
        Capability.objects.update(mapped_patterns=F("patterns"))
        selector._tallied = tallied
    print(f"\n{'page':16} " + " ".join(f"{m:>14}" for m in MODES) + "  scan/tallies  goal")
    for name, by_mode in results.items():
        cells = " ".join(f"{by_mode[m] * 1000:11.0f} ms" for m in MODES)
        ratio = by_mode["pattern scan"] / by_mode["tallies"]
        goal = by_mode["tallies"] / GOAL
        print(f"{name:16} {cells} {ratio:12.1f}x  {goal:.1f}x the 200 ms goal")
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
