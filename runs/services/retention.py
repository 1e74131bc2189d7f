"""Retention: set a suite's policy, pin runs, and the nightly pass that deletes what expired.

The pass deletes in short transactions, each committed: for each page of expired runs, first
their attachments (files go as each deletion commits, see runs.stored_files), then their results
RETENTION_BATCH rows at a time, then the runs themselves through the ORM so every link to them
(verdicts, loop iterations, analyses) is set to null as its model says. A pass that stops halfway
leaves runs with fewer or no results and no rows pointing at anything gone; the next pass
finishes them. Each pass is recorded (RetentionPass): when, what it deleted, how it ended.

Why batched DELETE and not partitions: see bench/retention.py and the report of issue 17. In
short, partitioning runs_testresult by time needs a primary key that includes the partition key
(attachments point at results by id; Django wants one column), and a partition drop cannot keep
a pinned run's results without copying them out first; batched DELETE keeps one code path for
SQLite and PostgreSQL and pins are just a WHERE clause.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from runs import page_cache
from runs.models import (
    RetentionPass,
    RetentionPolicy,
    Suite,
    TestAttachment,
    TestResult,
    TestRun,
)
from runs.models.retention import MAX_KEEP_DAYS, MAX_KEEP_RUNS
from runs.reports_seam import tallies_rebuild
from runs.selectors.retention import evidence_run_ids, expired_runs, policies_in_force
from runs.services.leases import lease_holder
from runs.services.read_models import case_latest_repair, flake_window_rebuild

log = logging.getLogger(__name__)

# A pass renews its lease after every batch; one not renewed for this long is taken over.
PASS_LEASE = timedelta(minutes=30)
# At most this many runs per DELETE ... IN (...) of runs.
RUNS_PER_DELETE = 200
# Tables whose space a pass reports (and vacuums on PostgreSQL).
TABLES = (TestResult._meta.db_table, TestAttachment._meta.db_table, TestRun._meta.db_table)


class RetentionError(ValueError):
    """A policy or pin that was not saved; ``str()`` says why, ``field`` names the input."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _count(value: object, *, field: str, what: str, maximum: int) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise RetentionError(f"{what} must be a whole number, or empty for no limit.", field=field)
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()):
        raise RetentionError(
            f"{what} must be a whole number, or empty for no limit, not {text[:40]!r}.",
            field=field,
        )
    number = int(text)
    if not 1 <= number <= maximum:
        raise RetentionError(
            f"{what} must be between 1 and {maximum:,}, or empty for no limit; got {number:,}.",
            field=field,
        )
    return number


def retention_policy_set(
    *, suite_id: int, keep_days: object, keep_runs: object, user
) -> RetentionPolicy:
    """Set the suite's policy: keep runs younger than `keep_days` and its newest `keep_runs`
    runs (either may be None/empty: no limit of that kind; both: keep everything). Raises
    RetentionError, writing nothing, when a value is not a whole number in range."""
    days = _count(keep_days, field="keep_days", what="Days to keep", maximum=MAX_KEEP_DAYS)
    runs = _count(keep_runs, field="keep_runs", what="Runs to keep", maximum=MAX_KEEP_RUNS)
    policy, _ = RetentionPolicy.objects.update_or_create(
        suite_id=suite_id,
        defaults={"keep_days": days, "keep_runs": runs, "updated_by": user},
    )
    log.info("retention policy of suite %s: days=%s runs=%s by %s", suite_id, days, runs, user)
    return policy


def run_pin_set(*, run: TestRun, pinned: bool, user) -> TestRun:
    """Pin the run (retention keeps it forever) or unpin it, recording who and when."""
    now = timezone.now()
    fields = (
        {"pinned": True, "pinned_by": user, "pinned_at": now}
        if pinned
        else {"pinned": False, "pinned_by": None, "pinned_at": None}
    )
    TestRun.objects.filter(pk=run.pk).update(**fields)
    for name, value in fields.items():
        setattr(run, name, value)
    return run


@dataclass
class _Tally:
    suites: int = 0
    runs: int = 0
    results: int = 0
    attachments: int = 0


def _chunks(run_ids: list[int], batch: int) -> Iterator[list[int]]:
    """Groups of runs whose results add up to about one batch (a big run alone)."""
    totals = dict(TestRun.objects.filter(pk__in=run_ids).values_list("pk", "total"))
    group: list[int] = []
    size = 0
    for pk in run_ids:
        total = totals.get(pk, 0)
        if group and (size + total > batch or len(group) >= RUNS_PER_DELETE):
            yield group
            group, size = [], 0
        group.append(pk)
        size += total
    if group:
        yield group


def _results_delete(run_ids: list[int], batch: int) -> int:
    """Delete the runs' results, at most `batch` rows per committed transaction."""
    table = TestResult._meta.db_table
    marks = ", ".join(["%s"] * len(run_ids))
    # The table name is the model's and the ids are parameters: nothing from a request.
    # The ORDER BY makes the planner walk the (run_id, case_id) index: with LIMIT alone it may
    # pick a sequential scan when its estimate of a run's size is off, seconds per batch at 10 M.
    order = "ORDER BY run_id, case_id"
    if connection.vendor == "postgresql":
        # By physical row address: one index scan on (run_id, case_id) finds them, no pkey join.
        found = f"SELECT ctid FROM {table} WHERE run_id IN ({marks}) {order} LIMIT %s"  # noqa: S608
        sql = f"DELETE FROM {table} WHERE ctid = ANY(ARRAY({found}))"  # noqa: S608
    else:
        found = f"SELECT id FROM {table} WHERE run_id IN ({marks}) {order} LIMIT %s"  # noqa: S608
        sql = f"DELETE FROM {table} WHERE id IN ({found})"  # noqa: S608
    deleted = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [*run_ids, batch])
            count = cursor.rowcount
        deleted += count
        if count < batch:
            return deleted


def _links_release(run_ids: list[int]) -> int:
    """Do to every row pointing at these runs what its foreign key says (delete, set null),
    except results (deleted in batches before); how many attachments went. Refuses a link
    that protects runs, naming it, rather than leave it dangling."""
    attachments = 0
    for rel in TestRun._meta.related_objects:
        model = rel.related_model
        if model is TestResult or not isinstance(model, type):
            continue
        field = rel.field
        rows = model._base_manager.filter(**{f"{field.name}__in": run_ids})
        handler = field.remote_field.on_delete
        if handler is models.CASCADE:
            deleted = rows.delete()[0]
            if model is TestAttachment:
                attachments += deleted
        elif handler is models.SET_NULL:
            rows.update(**{field.name: None})
        elif handler is not models.DO_NOTHING:
            raise RetentionError(
                f"{model._meta.label}.{field.name} protects runs ({handler.__name__}); "
                "retention does not know what to do with it."
            )
    return attachments


def _runs_delete(run_ids: list[int], *, batch: int, tally: _Tally) -> None:
    """Delete these runs: attachments, results, then the runs, each step committed."""
    # A run pinned since the pass read it is kept (its results too, if not begun yet).
    run_ids = list(
        TestRun.objects.filter(pk__in=run_ids, pinned=False)
        .exclude(status__in=TestRun.ACTIVE)
        .values_list("pk", flat=True)
    )
    if not run_ids:
        return
    with transaction.atomic():
        tally.attachments += TestAttachment.objects.filter(run_id__in=run_ids).delete()[0]
    tally.results += _results_delete(run_ids, batch)
    with transaction.atomic():
        run_ids = list(
            TestRun.objects.select_for_update()
            .filter(pk__in=run_ids, pinned=False)
            .values_list("pk", flat=True)
        )
        if not run_ids:
            return
        tally.attachments += _links_release(run_ids)
        # Not QuerySet.delete(): its cascade to results would scan for the rows just deleted.
        tally.runs += TestRun._base_manager.filter(pk__in=run_ids)._raw_delete(connection.alias)


def _pass_claim(now: datetime) -> RetentionPass | None:
    """Start a pass unless one is running; a pass whose lease ran out is marked lost first."""
    RetentionPass.objects.filter(
        status=RetentionPass.Status.RUNNING, lease_expires_at__lt=now
    ).update(
        status=RetentionPass.Status.LOST,
        finished_at=now,
        error="Its worker stopped renewing the lease; the next pass deletes what it left.",
    )
    try:
        with transaction.atomic():
            return RetentionPass.objects.create(
                started_at=now, lease_expires_at=now + PASS_LEASE, holder=lease_holder()
            )
    except IntegrityError:
        return None


def _save(record: RetentionPass, tally: _Tally, started: float, **extra) -> None:
    record.suites = tally.suites
    record.runs_deleted = tally.runs
    record.results_deleted = tally.results
    record.attachments_deleted = tally.attachments
    record.seconds = round(time.perf_counter() - started, 3)
    record.lease_expires_at = timezone.now() + PASS_LEASE
    for name, value in extra.items():
        setattr(record, name, value)
    record.save()


def table_bytes() -> int | None:
    """The space of the results, attachments and runs tables with their indexes and TOAST
    (PostgreSQL); None elsewhere."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sum(pg_total_relation_size(c)) FROM unnest(%s::regclass[]) AS c", [list(TABLES)]
        )
        return int(cursor.fetchone()[0])


def space_reclaim() -> None:
    """Make the space of deleted rows reusable and refresh the planner's statistics: VACUUM
    (ANALYZE) on PostgreSQL (outside a transaction; returns to the OS only empty pages at the
    end of each file). SQLite reuses freed pages for new rows by itself; VACUUM there would
    rewrite the whole file under an exclusive lock, so it is not run."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"VACUUM (ANALYZE) {table}")


def _service_id(suite_id: int) -> int | None:
    return Suite.objects.filter(pk=suite_id).values_list("service_id", flat=True).first()


def retention_pass(
    *, now: datetime | None = None, batch: int | None = None, vacuum: bool = True
) -> RetentionPass | None:
    """Delete every run the suites' policies let go (see runs.selectors.retention), in batches;
    then vacuum. Returns the pass's record, or None when another pass is running. A failure is
    recorded on the pass (status failed, the error) and raised again."""
    now = now or timezone.now()
    batch = batch or settings.RETENTION_BATCH
    record = _pass_claim(now)
    if record is None:
        log.info("retention pass skipped: another pass is running")
        return None
    started = time.perf_counter()
    tally = _Tally()
    try:
        evidence = evidence_run_ids()
        bytes_before = None
        for suite_id, policy in policies_in_force():
            touched = False
            for page in expired_runs(suite_id=suite_id, policy=policy, now=now):
                page = [pk for pk in page if pk not in evidence]
                if page and bytes_before is None:
                    bytes_before = table_bytes()
                for chunk in _chunks(page, batch):
                    _runs_delete(chunk, batch=batch, tally=tally)
                    touched = True
                    _save(record, tally, started)
            if touched:
                # The flaky window and cached pages of the suite counted the deleted runs.
                flake_window_rebuild(suite_id=suite_id)
                case_latest_repair(suite_id=suite_id)  # rows that pointed at a deleted run
                tallies_rebuild(suite_id=suite_id)  # the summary's counts of those rows
                page_cache.generation_bump(service_id=_service_id(suite_id))
            tally.suites += touched
        extra = {}
        if tally.runs and vacuum:
            space_reclaim()
            extra = {"bytes_before": bytes_before, "bytes_after": table_bytes()}
        _save(
            record,
            tally,
            started,
            status=RetentionPass.Status.SUCCEEDED,
            finished_at=timezone.now(),
            **extra,
        )
    except Exception as exc:
        log.exception("retention pass %s failed", record.pk)
        _save(
            record,
            tally,
            started,
            status=RetentionPass.Status.FAILED,
            finished_at=timezone.now(),
            error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        raise
    log.info(
        "retention pass %s: %s runs, %s results, %s attachments in %.1f s",
        record.pk,
        tally.runs,
        tally.results,
        tally.attachments,
        record.seconds,
    )
    return record
