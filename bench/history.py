"""Write a realistic test history at any size into PostgreSQL, by COPY (issue 17's shape).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/stageloop_bench_pages \\
        .venv/bin/python bench/history.py --results 10M [--force]

The shape: 50 services and 200 suites over a year. Suite sizes are long-tailed, from 30 to
200,000 tests (most suites have a few hundred, one has 200,000 and runs at least once), so run
sizes are too. 1 % of the tests are flaky: their outcome flips between runs of one revision, or
they pass only on a retry. Failures cluster: a few revisions (about 5 %) break one area of tests in
every suite of their service for all their runs; the rest is a thin background of failures, each
with one of a suite's five failure signatures. Every service gets a revision, with its Deploy,
every one to three days. The newest revision of each service serves.

The database is created and migrated when missing; the script refuses to write into one that
already holds runs unless given --force (then it adds a second history beside the first, under
other service names). Results are generated in Python per run from precomputed rows per test, so
the writing is bound by PostgreSQL's COPY; runs are bulk-created in chunks.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SERVICES = 50
SUITES = 200
SMALLEST, LARGEST = 30, 200_000
DAYS = 365
FLAKY_SHARE = 0.01
SKIPPED_SHARE = 0.01
BAD_REVISION_SHARE = 0.05
BACKGROUND_FAIL_RATE = 0.0005
AREAS = ["auth", "threads", "messages", "agents", "streaming", "billing", "search", "admin"]
CLUSTERS = [
    ("error", "ConnectionRefusedError: connection refused to 10.0.3.7:5432"),
    ("failed", "AssertionError: expected status 200, got 503 from 10.0.3.7:8080"),
    ("failed", "TimeoutError: stream did not complete within 30.0 s"),
    ("failed", "AssertionError: assert 41 == 42"),
    ("error", "KeyError: 'thread_7' not found in response"),
]
RUN_CHUNK_RESULTS = 400_000


def parse_size(text: str) -> int:
    """ "10M", "250k", "1_000_000" -> a whole number; raises ValueError."""
    text = text.strip().replace("_", "").replace(",", "")
    scale = {"k": 1_000, "m": 1_000_000, "g": 1_000_000_000}.get(text[-1:].lower(), 1)
    number = float(text[:-1] if scale != 1 else text)
    if number <= 0:
        raise ValueError(text)
    return int(number * scale)


def suite_sizes(rng: random.Random, suites: int) -> list[int]:
    """Long-tailed: log-uniform on a skewed exponent, most suites small; the first the largest."""
    span = math.log(LARGEST / SMALLEST)
    sizes = [round(SMALLEST * math.exp(span * rng.random() ** 3)) for _ in range(suites)]
    sizes[0] = LARGEST
    return sizes


def runs_per_suite(sizes: list[int], results: int) -> list[int]:
    """How often each suite ran so that the runs hold about `results` results. Small suites run
    often (the budget share grows with the square root of the size, the runs fall with it); every
    suite runs at least twice, and the largest at least once."""
    weights = [math.sqrt(s) for s in sizes]
    total = sum(weights)
    counts = [max(2, round(results * w / total / s)) for s, w in zip(sizes, weights, strict=True)]
    counts[0] = max(1, round(results * weights[0] / total / sizes[0]))
    return counts


@dataclass
class SuitePlan:
    pk: int
    service_index: int
    size: int
    runs: int
    case_ids: list[int] = field(default_factory=list)
    signature_ids: list[int] = field(default_factory=list)


def _copy(cursor, table: str, columns: tuple[str, ...], lines) -> None:
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with cursor.cursor.copy(sql) as copy:
        buffer: list[str] = []
        size = 0
        for line in lines:
            buffer.append(line)
            size += 1
            if size >= 20_000:
                copy.write("".join(buffer))
                buffer, size = [], 0
        if buffer:
            copy.write("".join(buffer))


def write_history(*, results: int, seed: int, prefix: str, now: datetime, log) -> dict[str, int]:
    from django.db import connection, transaction

    from runs.models import (
        Deploy,
        FailureSignature,
        Revision,
        Service,
        Suite,
        TestCase,
        TestResult,
        TestRun,
    )
    from runs.models.testing import case_key_hash
    from runs.services.bulk import RESULT_COLUMNS
    from runs.signatures import failure_signature

    rng = random.Random(seed)
    start = now - timedelta(days=DAYS)
    sizes = suite_sizes(rng, SUITES)
    counts = runs_per_suite(sizes, results)

    with transaction.atomic():
        services = Service.objects.bulk_create(
            [
                Service(
                    name=f"{prefix}{i:02d}",
                    display_name=f"{prefix.replace('-', ' ').title()}{i:02d}",
                    is_demo=True,
                )
                for i in range(SERVICES)
            ]
        )
        # Revisions every one to three days per service, each with a deploy; ~5 % break things.
        revisions: list[list[tuple[datetime, int, int | None]]] = []  # (at, pk, broken area)
        revision_rows: list[Revision] = []
        plans: list[list[tuple[datetime, int | None]]] = []
        for service in services:
            at, number, mine = start, 0, []
            while at < now:
                number += 1
                bad = rng.randrange(len(AREAS)) if rng.random() < BAD_REVISION_SHARE else None
                name = f"{service.name}-{number:05d}"
                revision_rows.append(
                    Revision(
                        service=service,
                        name=name,
                        image=f"registry.local/{service.name}:1.{number}.0",
                        commit_sha=case_key_hash(name),
                        commit_message=f"Release 1.{number}.0: {rng.choice(AREAS)} changes",
                        url=f"https://{name}.staging.local",
                        status=Revision.Status.RETIRED,
                        ready_at=at,
                    )
                )
                mine.append((at, bad))
                at += timedelta(hours=rng.uniform(24, 72))
            plans.append(mine)
        made = Revision.objects.bulk_create(revision_rows, batch_size=2000)
        Deploy.objects.bulk_create(
            [
                Deploy(
                    service_id=r.service_id,
                    revision=r,
                    image=r.image,
                    commit_sha=r.commit_sha,
                    trigger=Deploy.Trigger.CLI,
                    status=Deploy.Status.SUCCEEDED,
                    started_at=r.ready_at - timedelta(seconds=90),
                    finished_at=r.ready_at,
                )
                for r in made
            ],
            batch_size=2000,
        )
        position = 0
        for mine in plans:
            revisions.append([(at, made[position + i].pk, bad) for i, (at, bad) in enumerate(mine)])
            position += len(mine)
        for service, mine in zip(services, revisions, strict=True):
            serving = mine[-1][1]
            Revision.objects.filter(pk=serving).update(
                status=Revision.Status.READY, traffic_percent=100
            )
            Service.objects.filter(pk=service.pk).update(current_revision_id=serving)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Revision._meta.db_table} SET created_at = ready_at "  # noqa: S608
                f"WHERE service_id = ANY(%s)",
                [[s.pk for s in services]],
            )
            cursor.execute(
                f"UPDATE {Deploy._meta.db_table} SET created_at = started_at "  # noqa: S608
                f"WHERE service_id = ANY(%s)",
                [[s.pk for s in services]],
            )
        log(f"{len(services)} services, {len(made):,} revisions and deploys.")

        # Suites: the first (the 200,000-test one) belongs to service 0; the rest spread round.
        suites = Suite.objects.bulk_create(
            [
                Suite(
                    service=services[i % SERVICES],
                    name=f"suite-{i:03d}",
                    target_test_count=sizes[i],
                )
                for i in range(SUITES)
            ]
        )
        suite_plans = [
            SuitePlan(pk=s.pk, service_index=i % SERVICES, size=sizes[i], runs=counts[i])
            for i, s in enumerate(suites)
        ]
        signature_rows = []
        for s in suites:
            for kind, example in CLUSTERS:
                sig = failure_signature(kind=kind, message=f"{example} ({s.name})")
                signature_rows.append(
                    FailureSignature(
                        suite=s,
                        hash=sig.hash,
                        kind=kind,
                        normalized=sig.normalized,
                        example=example,
                    )
                )
        signatures = FailureSignature.objects.bulk_create(signature_rows)
        for i, plan in enumerate(suite_plans):
            plan.signature_ids = [sig.pk for sig in signatures[i * 5 : i * 5 + 5]]

        began = time.perf_counter()
        cases_table = TestCase._meta.db_table
        first_seen = start.isoformat()

        def case_lines():
            for suite, plan in zip(suites, suite_plans, strict=True):
                for n in range(plan.size):
                    area = AREAS[n % len(AREAS)]
                    key = (
                        f"tests/{suite.name}/test_{area}.py::Test{area.title()}{n // 50}"
                        f"::test_{area}_{n:06d}"
                    )
                    yield (
                        f"{suite.pk}\t{key}\t{case_key_hash(key)}\ttest_{area}_{n:06d}\t"
                        f"tests.{suite.name}.test_{area}.Test{area.title()}{n // 50}\t"
                        f"tests/{suite.name}/test_{area}.py\t{first_seen}\tt\n"
                    )

        with connection.cursor() as cursor:
            # The search's trigram indexes cost more per row than the COPY itself: built after.
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
                "AND indexdef LIKE '%%gin_trgm_ops%%'",
                [cases_table],
            )
            trigram = cursor.fetchall()
            for name, _ in trigram:
                cursor.execute(f'DROP INDEX "{name}"')
            _copy(
                cursor,
                cases_table,
                (
                    "suite_id",
                    "key",
                    "key_hash",
                    "name",
                    "classname",
                    "file",
                    "first_seen_at",
                    "ever_real",
                ),
                case_lines(),
            )
            for _, definition in trigram:
                cursor.execute(definition)
            cursor.execute(
                f"SELECT suite_id, id FROM {cases_table} WHERE suite_id = ANY(%s) "  # noqa: S608
                "ORDER BY suite_id, id",
                [[s.pk for s in suites]],
            )
            by_suite = {plan.pk: plan for plan in suite_plans}
            for suite_id, case_id in cursor.fetchall():
                by_suite[suite_id].case_ids.append(case_id)
        total_cases = sum(sizes)
        log(f"{SUITES} suites, {total_cases:,} tests in {time.perf_counter() - began:.0f} s.")

        # Every run of every suite, in time order per suite.
        schedule: list[tuple[datetime, SuitePlan]] = []
        for plan in suite_plans:
            for k in range(plan.runs):
                offset = (k + rng.random()) / plan.runs
                schedule.append((start + timedelta(days=DAYS * offset), plan))
        # The largest suite's newest run is the last thing written: the page to open.
        schedule.sort(key=lambda item: item[0])

        results_table = TestResult._meta.db_table
        written = run_count = 0
        began = time.perf_counter()
        chunk: list[tuple[TestRun, str]] = []
        chunk_results = 0
        # Per suite, precomputed COPY line tails (after run_id) for its passing / skipped tests.
        tails: dict[int, tuple[list[str], list[int], list[int]]] = {}
        skipped_sets: dict[int, set[int]] = {}

        def suite_tails(plan: SuitePlan) -> tuple[list[str], list[int], list[int]]:
            if plan.pk in tails:
                return tails[plan.pk]
            prng = random.Random(plan.pk)
            lines, flaky, skipped = [], [], []
            for index, case_id in enumerate(plan.case_ids):
                roll = prng.random()
                if roll < SKIPPED_SHARE:
                    skipped.append(index)
                    lines.append(f"\t{case_id}\tskipped\t0.0000\t\t\t\t1\tf\t\\N\n")
                    continue
                if roll < SKIPPED_SHARE + FLAKY_SHARE:
                    flaky.append(index)
                seconds = (
                    prng.uniform(2.0, 9.0) if prng.random() < 0.03 else prng.uniform(0.02, 0.4)
                )
                lines.append(f"\t{case_id}\tpassed\t{seconds:.4f}\t\t\t\t1\tf\t\\N\n")
            tails[plan.pk] = (lines, flaky, skipped)
            return tails[plan.pk]

        def revision_at(service_index: int, at: datetime) -> tuple[int, int | None]:
            mine = revisions[service_index]
            lo, hi = 0, len(mine) - 1
            while lo < hi:  # the newest revision ready at or before `at`
                mid = (lo + hi + 1) // 2
                if mine[mid][0] <= at:
                    lo = mid
                else:
                    hi = mid - 1
            return mine[lo][1], mine[lo][2]

        def failure_tail(case_id: int, kind_index: int, plan: SuitePlan, seconds: float) -> str:
            kind, example = CLUSTERS[kind_index]
            details = f"Traceback (most recent call last):\\n  File test.py, line 42\\n{example}"
            return (
                f"\t{case_id}\t{kind}\t{seconds:.4f}\t{example}\t{details}\t\t1\tf"
                f"\t{plan.signature_ids[kind_index]}\n"
            )

        def flush() -> None:
            nonlocal written, run_count, chunk, chunk_results
            if not chunk:
                return
            made = TestRun.objects.bulk_create([run for run, _ in chunk])
            with connection.cursor() as cursor:
                _copy(
                    cursor,
                    results_table,
                    RESULT_COLUMNS,
                    (
                        f"{run.pk}{tail}"
                        for run, (_, body) in zip(made, chunk, strict=True)
                        for tail in body
                    ),
                )
            written += chunk_results
            run_count += len(chunk)
            took = time.perf_counter() - began
            log(f"  {run_count:,} runs, {written:,} results ({written / took:,.0f} results/s)")
            chunk, chunk_results = [], 0

        for at, plan in schedule:
            lines, flaky, skipped = suite_tails(plan)
            body = list(lines)
            revision_id, bad_area = revision_at(plan.service_index, at)
            failed = errors = flaky_passes = 0
            size = len(body)
            skipped_set = skipped_sets.setdefault(plan.pk, set(skipped))
            broken: set[int] = set()
            if bad_area is not None:
                # A bad revision fails one area (1/8 of the tests) in a 1-in-20 slice: clustered.
                broken = set(range(bad_area, size, len(AREAS) * 20)) - skipped_set
            background = rng.sample(range(size), k=min(size, int(size * BACKGROUND_FAIL_RATE)))
            broken.update(i for i in background if i not in skipped_set)
            for i in flaky:
                roll = rng.random()
                if roll < 0.15:
                    case_id = plan.case_ids[i]
                    body[i] = f"\t{case_id}\tpassed\t0.8000\t\t\t\t2\tt\t\\N\n"
                    flaky_passes += 1
                elif roll < 0.35:
                    broken.add(i)
            for i in broken:
                kind_index = bad_area if bad_area is not None and i % len(AREAS) == bad_area else 2
                kind_index %= len(CLUSTERS)
                body[i] = failure_tail(plan.case_ids[i], kind_index, plan, 1.5)
                if CLUSTERS[kind_index][0] == "error":
                    errors += 1
                else:
                    failed += 1
            skipped_count = len(skipped)
            seconds = 0.3 * size
            run = TestRun(
                suite_id=plan.pk,
                service_id=services[plan.service_index].pk,
                revision_id=revision_id,
                status=TestRun.Status.FAILED if failed + errors else TestRun.Status.PASSED,
                trigger=TestRun.Trigger.SEED,
                started_at=at,
                finished_at=at + timedelta(seconds=seconds),
                duration=round(seconds, 3),
                total=size,
                passed=size - failed - errors - skipped_count,
                failed=failed,
                errors=errors,
                skipped=skipped_count,
                flaky=flaky_passes,
                progress_done=size,
                progress_total=size,
            )
            chunk.append((run, body))
            chunk_results += size
            if chunk_results >= RUN_CHUNK_RESULTS:
                flush()
        flush()
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {TestRun._meta.db_table} SET created_at = started_at "  # noqa: S608
                "WHERE suite_id = ANY(%s)",
                [[s.pk for s in suites]],
            )
    return {"runs": run_count, "results": written, "tests": total_cases}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="10M", help="how many results, e.g. 250k, 10M")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--prefix", default="svc-", help="service names: <prefix>00 .. 49")
    parser.add_argument(
        "--force", action="store_true", help="write even though the database holds runs"
    )
    args = parser.parse_args()
    try:
        results = parse_size(args.results)
    except ValueError:
        sys.exit(f"--results {args.results!r} is not a size; write e.g. 250k, 10M or 30000000.")
    if results < SUITES * 2 * SMALLEST:
        sys.exit(f"--results must be at least {SUITES * 2 * SMALLEST:,} for {SUITES} suites.")

    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production")
    from bench._django import setup

    url = setup("stageloop_bench_pages")
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from runs.models import Service, TestRun

    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        sys.exit(f"bench/history.py writes by COPY into PostgreSQL; DATABASE_URL is {url}.")
    if TestRun.objects.exists() and not args.force:
        sys.exit(
            f"{url} already holds {TestRun.objects.count():,} runs; use another database, "
            "or --force (with another --prefix) to add a second history beside them."
        )
    if Service.objects.filter(name__startswith=args.prefix).exists():
        sys.exit(f"Services named {args.prefix}* exist already; choose another --prefix.")

    began = time.perf_counter()

    def log(text: str) -> None:
        print(f"[{time.perf_counter() - began:6.0f} s] {text}", flush=True)

    log(f"Writing about {results:,} results into {url} ...")
    made = write_history(
        results=results, seed=args.seed, prefix=args.prefix, now=timezone.now(), log=log
    )
    took = time.perf_counter() - began
    log(
        f"Wrote {made['results']:,} results in {made['runs']:,} runs of {made['tests']:,} tests "
        f"in {took:.0f} s ({made['results'] / took:,.0f} results/s overall)."
    )
    from reports.services.capability_cases import capability_cases_rebuild_all
    from runs.services.read_models import case_latest_rebuild, flake_windows_rebuild

    case_latest_rebuild()  # the summary's latest result per test, as the importer keeps it
    log("Built the latest result of each test (runs.CaseLatest, runs.CaseBehind).")
    # The flaky windows and the suite trees, as the importer and its rollup task leave them.
    log(f"Built the flaky windows and trees of {flake_windows_rebuild():,} suites.")
    log(f"Mapped {capability_cases_rebuild_all():,} tests to the capabilities.")
    connection.cursor().execute("VACUUM ANALYZE")
    log(f"VACUUM ANALYZE done; load average {os.getloadavg()[0]:.2f}.")


if __name__ == "__main__":
    main()
