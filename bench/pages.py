"""Benchmark: every page of the app (tests/pages/inventory.PAGES) one user opens, PostgreSQL.

    # issue 17's shape, written first by bench/history.py (50 services, 200 suites, ...):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/stageloop_bench_pages \\
        .venv/bin/python bench/pages.py [--repeat 20] [--show-sql]
    # the old single-service history (seed_history: --runs x --tests, service `seeded-web`):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/stageloop_bench10m \\
        .venv/bin/python bench/pages.py --single [--runs 10000] [--tests 1000]

Every page in PAGES is requested with the Django test client, logged in as a Viewer ("login"
logged out), after a few warm-up requests. Ids are sampled across the dataset, a different one
per request (runs of every size, suites, tests, revisions, services ...), so no one row's pages
stay cached; the largest run (200,000 results) has rows of its own. Per page the script prints
p50/p95 server time, the query count (the most any sampled id needed, to show it does not grow
with the data) and its slowest ("main") SQL query's time run alone with a cursor; then the worst
p95 and its ratio to the target, p95 < 200 ms, and the load average.
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
SLOW_S = 2.0  # a page slower than this is measured 3 times only


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


def world_urls(rng) -> dict[str, list[str]]:
    """Every page in tests/pages/inventory.PAGES, with ids sampled across the whole dataset; the
    rows no history writes (an analysis, a loop, a capability, a token) are made once."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from analyses.models import Analysis
    from analyses.services.analyses import analysis_start_from_run
    from integrations.models import Webhook
    from reports.models import Capability
    from runs.models import ApiToken, Deploy, Loop, Revision, Service, Suite, TestCase, TestRun
    from runs.services.tokens import token_create
    from tests.pages.inventory import PAGES

    def sample(model, k: int = 8, **filters) -> list[int]:
        # TABLESAMPLE would favour old pages of the table; a random id range is spread enough.
        ids = list(model.objects.filter(**filters).values_list("pk", flat=True).order_by("pk"))
        return rng.sample(ids, k=min(k, len(ids)))

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM runs_testrun WHERE status IN ('passed', 'failed') "
            "ORDER BY random() LIMIT 8"
        )
        run_ids = [row[0] for row in cursor.fetchall()]
    biggest = TestRun.objects.order_by("-total", "-pk").first()
    failing = (
        TestRun.objects.filter(failed__gt=0, total__gte=1000).order_by("-created_at").first()
        or biggest
    )
    admin = get_user_model().objects.filter(is_superuser=True).first() or (
        get_user_model().objects.create_superuser("bench-admin", "bench@example.com", "x")
    )
    analyses = list(Analysis.objects.values_list("pk", flat=True)[:8])
    if not analyses:
        for run in TestRun.objects.filter(failed__gt=0).order_by("?")[:5]:
            analyses.append(analysis_start_from_run(run=run, user=admin).pk)
    loops = list(Loop.objects.values_list("pk", flat=True)[:8])
    if not loops:
        suite = Suite.objects.order_by("pk").first()
        loops = [Loop.objects.create(service=suite.service, suite=suite, status="waiting").pk]
    capabilities = list(Capability.objects.values_list("pk", flat=True)[:8])
    if not capabilities:
        capability = Capability.objects.create(
            name="Search and threads", patterns="name:test_search*\nfile:*test_threads.py"
        )
        capability.services.add(*Service.objects.order_by("pk")[:5])
        capabilities = [capability.pk]
    if not ApiToken.objects.exists():
        token_create(user=admin, name="bench")
    webhook = Webhook.objects.first() or Webhook.objects.create(
        name="bench", url="https://hooks.example.com/stageloop", secret="bench-secret"
    )
    services = list(Service.objects.filter(pk__in=sample(Service)).values_list("name", flat=True))
    suites = sample(Suite)
    cases = sample(TestCase, k=12)
    revisions = sample(Revision)
    deploys = sample(Deploy)
    compare_runs = []
    for pk in run_ids[:4]:
        run = TestRun.objects.get(pk=pk)
        before = (
            TestRun.objects.filter(suite_id=run.suite_id, created_at__lt=run.created_at)
            .order_by("-created_at")
            .first()
        )
        if before:
            compare_runs.append(f"/compare?runs={before.pk},{run.pk}")
    compare_revisions = []
    for pk in revisions[:4]:
        revision = Revision.objects.get(pk=pk)
        before = (
            Revision.objects.filter(
                service_id=revision.service_id, created_at__lt=revision.created_at
            )
            .order_by("-created_at")
            .first()
        )
        if before:
            compare_revisions.append(f"/compare?revisions={before.pk},{revision.pk}")
    urls = {
        "login": ["/login/"],
        "not found": ["/no-such-page/"],
        "overview": ["/"],
        "service": [f"/services/{name}/" for name in services],
        "suite": [f"/suites/{pk}/" for pk in suites],
        "run": [f"/runs/{pk}/" for pk in run_ids],
        "test": [f"/tests/{pk}/" for pk in cases],
        "revision": [f"/revisions/{pk}/" for pk in revisions],
        "deploy": [f"/deploys/{pk}/" for pk in deploys],
        "loop": [f"/loops/{pk}/" for pk in loops],
        "compare": compare_runs + compare_revisions,
        "health": [f"/services/{name}/health/" for name in services],
        "analyses": ["/analyses/"],
        "analysis": [f"/analyses/{pk}/" for pk in analyses],
        "analysis edit": [f"/analyses/{pk}/edit" for pk in analyses],
        "action items": ["/action-items/"],
        "summary": ["/reports/summary"],
        "capabilities": ["/reports/capabilities/"],
        "capability": [f"/reports/capabilities/{pk}/" for pk in capabilities],
        "capability edit": [f"/reports/capabilities/{pk}/edit" for pk in capabilities],
        "capability new": ["/reports/capabilities/new"],
        "evidence runs": ["/reports/evidence/runs"],
        "evidence deploys": ["/reports/evidence/deploys"],
        "evidence restores": ["/reports/evidence/restores"],
        "evidence incidents": ["/reports/evidence/incidents"],
        "evidence triage": ["/reports/evidence/triage"],
        "tokens": ["/account/tokens/"],
        "upload": [f"/suites/{pk}/upload" for pk in suites],
        "search": ["/search?q=checkout", "/search?q=streaming", "/search?q=thread_7"],
        "webhooks": ["/settings/webhooks/"],
        "webhook": [f"/settings/webhooks/{webhook.pk}/"],
        "webhooks docs": ["/settings/webhooks/docs"],
        "search tests": ["/search?q=test_search_00&kind=tests", "/search?q=agents&kind=tests"],
    }
    # Lists that need no row of their own; the edit pages of rows no history writes (an SLO, a
    # maintenance window, a status page, a notification channel ...) are named, not measured.
    urls["notifications"] = ["/settings/notifications/"]
    urls["my notifications"] = ["/settings/notifications/mine/"]
    urls["commit statuses"] = ["/settings/commit-statuses/"]
    urls["slos"] = [f"/services/{name}/slos/" for name in services]
    urls["maintenance"] = [f"/services/{name}/maintenance/" for name in services]
    missing = set(PAGES) - set(urls)
    if missing:
        print(f"Not measured (no such row in the dataset): {', '.join(sorted(missing))}.")
    # The largest run explicitly: its page, its failures, a search in it, its next page.
    urls[f"run of {biggest.total:,}"] = [f"/runs/{biggest.pk}/"]
    urls[f"run of {biggest.total:,}, failed"] = [f"/runs/{biggest.pk}/?outcome=failed"]
    urls[f"run of {biggest.total:,}, search"] = [f"/runs/{biggest.pk}/?q=test_agents_0042"]
    urls[f"run of {biggest.total:,}, only new"] = [f"/runs/{biggest.pk}/?only=new"]
    urls[f"run of {failing.total:,}, failed"] = [f"/runs/{failing.pk}/?outcome=failed"]
    urls[f"suite of {biggest.total:,}"] = [f"/suites/{biggest.suite_id}/"]
    return urls


def measure(client, urls: list[str], repeat: int, anonymous: bool) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ok = (200, 404) if urls == ["/no-such-page/"] else (200,)
    for url in urls[:3]:
        began = time.perf_counter()
        response = client.get(url)
        assert response.status_code in ok, (url, response.status_code)
        if time.perf_counter() - began > SLOW_S:  # far over the target: a few samples say so
            repeat = min(repeat, 3)
            break
    times = []
    for i in range(repeat):
        url = urls[i % len(urls)]
        began = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - began)
        assert response.status_code in ok, (url, response.status_code)
    queries = 0
    main = None
    for url in urls[:1] if repeat < 5 else urls:
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        queries = max(queries, len(captured.captured_queries))
        slowest = max(captured.captured_queries, key=lambda q: float(q["time"]), default=None)
        if slowest and (main is None or float(slowest["time"]) > float(main["time"])):
            main = slowest
    main_times = []
    if main is not None:
        if main["sql"].lstrip().upper().startswith("DECLARE"):  # a server-side cursor's
            main_times.append(float(main["time"]))
        else:
            with connection.cursor() as cursor:
                for _ in range(3 if repeat >= 5 else 1):
                    began = time.perf_counter()
                    cursor.execute(main["sql"])
                    if cursor.description:
                        cursor.fetchall()
                    main_times.append(time.perf_counter() - began)
    return {
        "p50": statistics.median(times) * 1000,
        "p95": _percentile(times, 0.95) * 1000,
        "queries": queries,
        "main": statistics.median(main_times) * 1000 if main_times else 0.0,
        "main_sql": main["sql"] if main else "",
    }


def main() -> None:
    import random

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--single", action="store_true", help="the old single-service history")
    parser.add_argument("--runs", type=int, default=10_000, help="with --single")
    parser.add_argument("--tests", type=int, default=1_000, help="with --single")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--service", default="seeded-web", help="with --single")
    parser.add_argument("--suite", default="e2e", help="with --single")
    parser.add_argument("--only", default="", help="pages whose name contains this")
    parser.add_argument("--skip", default="", help="comma-separated: skip pages named so")
    parser.add_argument("--seed", type=int, default=None, help="the id sample's random seed")
    parser.add_argument("--show-sql", action="store_true", help="print each page's main query")
    args = parser.parse_args()

    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    from bench._django import setup

    url = setup("stageloop_bench10m" if args.single else "stageloop_bench_pages")
    from django.conf import settings
    from django.db import connection

    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        sys.exit(f"bench/pages.py measures PostgreSQL; DATABASE_URL is {url}.")
    import logging

    from django.contrib.auth import get_user_model
    from django.test import Client

    from runs.models import TestRun
    from runs.roles import VIEWER
    from runs.services.roles import roles_ensure

    logging.getLogger("django.request").setLevel(logging.ERROR)  # the 404 page's warnings
    if args.single:
        ensure_history(args.runs, args.tests, args.service, args.suite)
        pages = {name: [path] for name, path in page_urls(args.service, args.suite).items()}
    else:
        if not TestRun.objects.exists():
            sys.exit(f"{url} holds no runs: write a history first with bench/history.py.")
        pages = world_urls(random.Random(args.seed))
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'runs_testresult'")
        results = cursor.fetchone()[0]
    runs = TestRun.objects.count()
    print(f"About {results:,} results in {runs:,} runs; load average {os.getloadavg()}.")
    user, _ = get_user_model().objects.get_or_create(username="bench-viewer")
    user.groups.add(roles_ensure()[VIEWER])
    client = Client()
    client.force_login(user)
    anonymous = Client()
    manager = Client()
    manager.force_login(
        get_user_model().objects.filter(is_superuser=True).first()
        or get_user_model().objects.create_superuser("bench-admin", "bench@example.com", "x")
    )

    print(f"\n{'page':<30}{'p50 ms':>9}{'p95 ms':>9}{'queries':>9}{'main SQL ms':>13}{'ids':>5}")
    worst, worst_page = 0.0, ""
    for name, paths in pages.items():
        if args.only and args.only not in name:
            continue
        if name in args.skip.split(","):
            print(f"{name:<30}   (skipped)")
            continue
        if not paths:
            print(f"{name:<30}   (nothing of this kind in the dataset)")
            continue
        logged_out = name == "login"
        who = anonymous if logged_out else client
        if not logged_out and who.get(paths[0]).status_code == 403:
            who = manager  # pages a Viewer may not open (edits, reports) as a superuser
        m = measure(who, paths, args.repeat, logged_out)
        if m["p95"] > worst:
            worst, worst_page = m["p95"], name
        print(
            f"{name:<30}{m['p50']:>9.1f}{m['p95']:>9.1f}{m['queries']:>9}"
            f"{m['main']:>13.1f}{len(paths):>5}",
            flush=True,
        )
        if args.show_sql:
            print(f"    {m['main_sql'][:600]}")
    verdict = "met" if worst < TARGET_P95_MS else "MISSED"
    print(
        f"\nWorst p95: {worst:.1f} ms ({worst_page}), {worst / TARGET_P95_MS:.2f} x the target "
        f"p95 < {TARGET_P95_MS:.0f} ms: {verdict}. Load average {os.getloadavg()}."
    )


if __name__ == "__main__":
    main()
