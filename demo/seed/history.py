"""Synthetic test history at scale, for benchmarks and demos: written with COPY or bulk inserts.

The history looks like a real team's: the pass rate improves over time, a few tests are flaky
(they pass on a retry, or flip between runs of one revision), a few are slow, a few are trivial
(never fail, never take a millisecond), and failures come in clusters that share a signature,
often tied to one revision. A new revision, with its Deploy row, arrives every ~20 runs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from demo.seed.history_rows import AREAS, CLUSTERS, CaseProfile, run_rows
from demo.seed.seeding import (
    case_seeded,
    commit_sha_seed,
    history_finish,
    revision_seed_identity,
    run_counts_tally,
    signatures_seed,
)
from runs.models import Deploy, Revision, Service, Suite, TestCase, TestResult, TestRun
from runs.services.bulk import RESULT_COLUMNS

RUN_SPACING = timedelta(minutes=50)
CHUNK_RUNS = 50


class HistoryExists(Exception):
    """The suite already has runs, or the service is real: seeding would mix two histories."""


@dataclass(frozen=True)
class SeedResult:
    suite: Suite
    runs: int
    results: int
    revisions: int


def _cases_create(*, suite: Suite, tests: int, rng: random.Random) -> list[CaseProfile]:
    cases = []
    for i in range(tests):
        area = AREAS[i % len(AREAS)]
        key = f"tests/e2e/test_{area}.py::Test{area.title()}{i // 40}::test_case_{i:05d}"
        cases.append(
            case_seeded(
                suite=suite,
                key=key,
                name=f"test_case_{i:05d}",
                classname=f"tests.e2e.test_{area}.Test{area.title()}{i // 40}",
                file=f"tests/e2e/test_{area}.py",
            )
        )
    made = TestCase.objects.bulk_create(cases, batch_size=2000)
    profiles = []
    for i, case in enumerate(made):
        roll = rng.random()
        slow = 0.03 <= roll < 0.06
        profiles.append(
            CaseProfile(
                pk=case.pk,
                base_duration=rng.uniform(2.0, 9.0) if slow else rng.uniform(0.02, 0.4),
                flaky=roll < 0.02,
                trivial=0.06 <= roll < 0.065,
                skipped=0.065 <= roll < 0.075,
                cluster=(i // 12) % len(CLUSTERS),
            )
        )
    return profiles


def _revision_create(
    *, service: Service, number: int, at: datetime, rng: random.Random
) -> tuple[Revision, Deploy]:
    identity = revision_seed_identity(service=service, number=number, rng=rng)
    revision = Revision.objects.create(
        service=service,
        **identity,
        commit_sha=commit_sha_seed(identity["name"]),
        commit_message=f"Release 1.{number}.0: {rng.choice(AREAS)} changes",
        url=f"https://{identity['name']}.staging.local",
        status=Revision.Status.RETIRED,
        ready_at=at,
    )
    took = timedelta(seconds=rng.uniform(25, 140))
    deploy = Deploy.objects.create(
        service=service,
        revision=revision,
        image=revision.image,
        commit_sha=revision.commit_sha,
        trigger=Deploy.Trigger.CLI,
        status=Deploy.Status.SUCCEEDED,
        started_at=at - took,
        finished_at=at,
    )
    return revision, deploy


class _Writer:
    """Writes result rows: COPY on PostgreSQL, chunked bulk_create elsewhere."""

    COLUMNS = RESULT_COLUMNS

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"

    def write(self, rows: list[tuple]) -> None:
        if self.postgres:
            table = TestResult._meta.db_table
            sql = f"COPY {table} ({', '.join(self.COLUMNS)}) FROM STDIN"
            null = "\\N"
            lines = [
                f"{r[0]}\t{r[1]}\t{r[2]}\t{r[3]:.4f}\t{r[4]}\t{r[5]}\t\t{r[6]}"
                f"\t{'t' if r[7] else 'f'}\t{null if r[8] is None else r[8]}\n"
                for r in rows
            ]
            with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
                for start in range(0, len(lines), 5000):
                    copy.write("".join(lines[start : start + 5000]))
            return
        TestResult.objects.bulk_create(
            [
                TestResult(
                    run_id=r[0],
                    case_id=r[1],
                    outcome=r[2],
                    duration=round(r[3], 4),
                    message=r[4].replace("\\n", "\n"),
                    details=r[5].replace("\\n", "\n"),
                    attempts=r[6],
                    flaky=r[7],
                    signature_id=r[8],
                )
                for r in rows
            ],
            batch_size=2000,
        )


@transaction.atomic
def history_seed(
    *,
    runs: int,
    tests: int,
    service_name: str = "seeded-web",
    suite_name: str = "e2e",
    seed: int = 42,
    now: datetime | None = None,
    progress=None,
) -> SeedResult:
    """Write `runs` runs of `tests` tests each into a new suite of a demo service (made, and
    marked as demo data, when missing), all or nothing.

    Raises HistoryExists when the suite already has runs or the service holds real data.
    """
    rng = random.Random(seed)
    now = now or timezone.now()
    service, _ = Service.objects.get_or_create(
        name=service_name,
        defaults={"display_name": service_name.replace("-", " ").title(), "is_demo": True},
    )
    if not service.is_demo:
        raise HistoryExists(
            f"Service {service_name} holds real data; seed demo history into another --service."
        )
    suite, _ = Suite.objects.get_or_create(
        service=service, name=suite_name, defaults={"target_test_count": tests * 2}
    )
    if suite.runs.exists():
        raise HistoryExists(f"Suite {suite} already has runs; choose another --suite or --service.")
    profiles = _cases_create(suite=suite, tests=tests, rng=rng)
    # One signature per cluster, for its example message.
    signatures = signatures_seed(
        suite=suite,
        examples=[(kind, template.format(ip="10.0.3.7", n=3)) for kind, template in CLUSTERS],
    )
    writer = _Writer()
    start = now - RUN_SPACING * runs
    revision: Revision | None = None
    # A second seeded suite of one service gets revisions of its own, numbered after the first's.
    numbered = service.revisions.count()
    revisions = 0
    next_revision_at = 0
    cluster: int | None = None
    broken: set[int] = set()
    written = 0
    for chunk_start in range(0, runs, CHUNK_RUNS):
        pending: list[tuple[TestRun, list[tuple]]] = []
        for index in range(chunk_start, min(runs, chunk_start + CHUNK_RUNS)):
            at = start + RUN_SPACING * index + timedelta(seconds=rng.randrange(600))
            new_deploy = None
            if index >= next_revision_at:
                revisions += 1
                revision, new_deploy = _revision_create(
                    service=service,
                    number=numbered + revisions,
                    at=at - timedelta(minutes=5),
                    rng=rng,
                )
                next_revision_at = index + rng.randint(15, 25)
                # A bad revision: one cluster of tests fails for all its runs.
                cluster = rng.randrange(len(CLUSTERS)) if rng.random() < 0.2 else None
                if rng.random() < 0.15:
                    broken = {p.pk for p in rng.sample(profiles, k=min(3, len(profiles)))}
                elif rng.random() < 0.4:
                    broken = set()
            # The team gets better: the background failure rate falls from 0.4 % to 0.01 %.
            fail_rate = 0.004 - 0.0039 * index / max(runs - 1, 1)
            rows = list(
                run_rows(
                    profiles=profiles,
                    fail_rate=fail_rate,
                    cluster=cluster,
                    broken=broken,
                    signature_ids=[sig.pk for sig in signatures],
                    rng=rng,
                )
            )
            total_time = sum(row[2] for row in rows)
            run = TestRun(
                suite=suite,
                service=service,
                revision=revision,
                deploy=new_deploy,
                trigger=TestRun.Trigger.SEED,
                started_at=at,
                finished_at=at + timedelta(seconds=total_time * 1.02),
                duration=round(total_time * 1.02, 3),
                **run_counts_tally((row[1], row[6]) for row in rows),
            )
            pending.append((run, rows))
        made = TestRun.objects.bulk_create([run for run, _ in pending])
        writer.write(
            [(run.pk, *row) for run, (_, rows) in zip(made, pending, strict=True) for row in rows]
        )
        written += sum(len(rows) for _, rows in pending)
        if progress:
            progress(chunk_start + len(pending), written)
    # auto_now_add stamped "now" on every row; move them to the times the history says.
    TestRun.objects.filter(suite=suite).update(created_at=F("started_at"))
    Deploy.objects.filter(service=service, trigger=Deploy.Trigger.CLI).update(
        created_at=F("started_at")
    )
    Revision.objects.filter(service=service).update(created_at=F("ready_at"))
    history_finish(suite=suite, serving=revision)
    return SeedResult(suite=suite, runs=runs, results=written, revisions=revisions)
