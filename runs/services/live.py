"""Live runs: an external CI job opens a run, streams its results while its suite runs, and
finishes it, ideally with the suite's JUnit report.

Streamed results are ordinary TestResult rows of the run (one per test, attempts folded in), and
the run's counters and progress are recomputed from them on every call, so the run page's live
progress shows them as Stageloop's own runner's do. The report sent to finish is the truth: the
streamed rows are deleted and the report is imported into the run by the one importer
(run_import), in one transaction. The job holds the run by a lease each call renews; the sweeper
marks a run lost whose job stopped calling (runs.services.leases, runs.services.sweeper).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Min, Q
from django.utils import timezone

from engine.junit import ERROR, FAILED, ParsedCase, case_key, key_suite
from runs import page_cache
from runs.integrations_seam import commit_statuses_for_runs, run_finished, run_results_judged
from runs.lifecycle.runs import run_lifecycle
from runs.models import TestCase, TestResult, TestRun
from runs.models.testing import case_key_hash, is_real
from runs.reports_seam import capability_cases_map, tallies_fold_run, tallies_rebuild
from runs.services.bulk import RESULT_COLUMNS, rows_insert
from runs.services.enqueue import run_analyze_enqueue
from runs.services.ingest import (
    ReportFile,
    run_import,
    signatures_upsert,
    upload_target_resolve,
)
from runs.services.leases import is_live_holder, live_lease_fields
from runs.services.read_models import case_latest_update, flake_window_update
from runs.services.reality import cases_mark_real
from runs.services.states import run_quarantine_mark

# A live run may last this long at most; its lease, renewed by each results call, is what
# normally ends one whose job stopped.
LIVE_RUN_TIMEOUT_SECONDS = 24 * 3600
MAX_RESULTS_PER_CALL = 5000
_LOOKUP_CHUNK = 900  # SQLite's default bound on the variables of one statement is 999


class LiveRunRefused(Exception):
    """The run cannot take this call in its state (it is not live, or it ended): a 409."""


@dataclass(frozen=True)
class LiveResult:
    """One test's attempt as the client reports it."""

    classname: str
    name: str
    outcome: str
    file: str = ""
    duration: float = 0.0
    message: str = ""
    details: str = ""
    attempt: int = 1


def live_run_start(
    *,
    service: str,
    suite: str,
    revision: str = "",
    commit: str = "",
    create: bool = False,
    expected: int | None = None,
    user,
) -> TestRun:
    """Open a running run (trigger api) of the suite and revision named as an upload names them.

    Raises IngestError naming the field when the service, suite or revision is unknown (and
    `create` is off); nothing is made then.
    """
    now = timezone.now()
    with transaction.atomic():
        suite_row, revision_row = upload_target_resolve(
            service=service, suite=suite, revision=revision, commit=commit, create=create
        )
        run = TestRun.objects.create(
            suite=suite_row,
            service=suite_row.service,
            revision=revision_row,
            trigger=TestRun.Trigger.API,
            status=TestRun.Status.RUNNING,
            created_by=user if user is not None and user.is_authenticated else None,
            started_at=now,
            progress_total=expected or 0,
            timeout_seconds=LIVE_RUN_TIMEOUT_SECONDS,
            **live_lease_fields(user.get_username() if user is not None else "", now),
        )
        # Created running, not moved there: its pending commit status is posted here.
        commit_statuses_for_runs(run_ids=[run.pk], status=TestRun.Status.RUNNING)
        return run


def live_results_add(
    *, run: TestRun, results: Sequence[LiveResult], expected: int | None = None
) -> TestRun:
    """Store streamed results in the running live `run` and renew its lease; return the run
    with its counters as they now are. A test reported again (a retry: a later `attempt`)
    updates its row: last outcome, summed time, flaky when the outcomes differ; an attempt the
    run already holds (a call the client sent again) changes nothing. An empty `results` only
    renews the lease. ``expected`` (the client's collected count) sets the progress total.
    Raises LiveRunRefused when the run is not running."""
    with transaction.atomic():
        locked = _lock_running(run)
        cases = _fold(results)
        if cases:
            _results_write(run=locked, cases=cases)
            page_cache.generation_bump(service_id=locked.service_id)
        now = timezone.now()
        counts = _counts(locked)
        TestRun.objects.filter(pk=locked.pk).update(
            **counts,
            progress_done=counts["total"],
            progress_total=max(expected, counts["total"])
            if expected is not None
            else max(locked.progress_total, counts["total"])
            if locked.progress_total
            else 0,
            lease_expires_at=live_lease_fields("", now)["lease_expires_at"],
        )
    locked.refresh_from_db()
    return locked


def live_run_finish(*, run: TestRun, files: Sequence[ReportFile] = (), error: str = "") -> TestRun:
    """End the running live `run`.

    With `files`, its streamed results are replaced by the import of those reports (all or
    nothing: an IngestError leaves the run running with its streamed results) and the run ends
    passed or failed by them. Without, the streamed results stand: the run ends failed when one
    failed, passed when some came and none failed, and in error when none came. A non-empty
    `error` (the suite crashed, say) ends it in error with that sentence either way.
    Raises LiveRunRefused when the run is not running.
    """
    with transaction.atomic():
        locked = _lock_running(run)
        now = timezone.now()
        if files:
            _report_replace(run=locked, files=files, error=error, now=now)
        else:
            _streamed_end(run=locked, error=error, now=now)
        page_cache.generation_bump(service_id=locked.service_id)
    locked.refresh_from_db()
    return locked


def _lock_running(run: TestRun) -> TestRun:
    locked = TestRun.objects.select_for_update().select_related("suite").get(pk=run.pk)
    if not is_live_holder(locked.lease_holder):
        raise LiveRunRefused(
            f"Run #{locked.pk} is not a live run: only runs opened with POST /api/v1/runs/live "
            "take streamed results."
        )
    if locked.status != TestRun.Status.RUNNING:
        raise LiveRunRefused(
            f"Run #{locked.pk} is {locked.status}, not running: it takes no more results. "
            "Open a new live run for another attempt."
        )
    return locked


def _fold(results: Sequence[LiveResult]) -> list[ParsedCase]:
    """One case per test, its later attempts folded in: last outcome, summed time."""
    folded: dict[str, ParsedCase] = {}
    for item in results:
        key = case_key(classname=item.classname, name=item.name, file=item.file)
        case = ParsedCase(
            key=key,
            suite="",
            classname=item.classname,
            name=item.name,
            file=item.file,
            outcome=item.outcome,
            duration=item.duration,
            message=item.message,
            details=item.details,
            attempts=item.attempt,
        )
        earlier = folded.get(key)
        if earlier is not None and item.attempt <= earlier.attempts:
            continue  # the same attempt twice in one call: the first stands
        if earlier is not None:
            _merge(into=case, earlier=earlier.outcome, duration=earlier.duration)
            case.attempts = max(case.attempts, earlier.attempts)
            case.flaky = case.flaky or earlier.flaky
        folded[key] = case
    return list(folded.values())


def _merge(*, into: ParsedCase, earlier: str, duration: float) -> None:
    into.duration += duration
    into.flaky = into.flaky or earlier != into.outcome


def _results_write(*, run: TestRun, cases: list[ParsedCase]) -> None:
    suite = run.suite
    ids, plain = _case_ids(suite=suite, cases=cases)
    existing = {
        r.case_id: r
        for chunk in _chunks(list(ids.values()))
        for r in TestResult.objects.filter(run=run, case_id__in=chunk)
    }
    fresh = []
    for case in cases:
        before = existing.get(ids[case.key])
        if before is not None:
            if case.attempts <= before.attempts:
                continue  # a call sent again (the client retried it): already stored
            _merge(into=case, earlier=before.outcome, duration=before.duration)
            case.flaky = case.flaky or before.flaky
        fresh.append(case)
    cases = fresh
    signature_ids = signatures_upsert(suite=suite, cases=cases)
    updated = []
    for case in cases:
        row = existing.get(ids[case.key])
        if row is None:
            continue
        row.outcome, row.duration, row.attempts = case.outcome, case.duration, case.attempts
        row.message, row.details, row.flaky = case.message, case.details, case.flaky
        row.signature_id = signature_ids.get(id(case))
        updated.append(row)
    fields = ["outcome", "duration", "attempts", "message", "details", "flaky", "signature"]
    TestResult.objects.bulk_update(updated, fields, batch_size=500)
    rows_insert(
        TestResult._meta.db_table,
        RESULT_COLUMNS,
        (
            (
                run.pk,
                ids[c.key],
                c.outcome,
                c.duration,
                c.message,
                c.details,
                "",
                min(c.attempts, 32767),
                c.flaky,
                signature_ids.get(id(c)),
            )
            for c in cases
            if ids[c.key] not in existing
        ),
    )
    cases_mark_real(
        ids=[ids[c.key] for c in cases if ids[c.key] in plain and is_real(c.outcome, c.duration)]
    )


def _case_ids(*, suite, cases: list[ParsedCase]) -> tuple[dict[str, int], set[int]]:
    """key -> TestCase id for each case (created when the suite has no such test yet), and the
    ids not yet known real.

    A client does not know the <testsuite> name its JUnit report will give (pytest's is
    "pytest", part of the key): a test the suite already knows under another key, with the same
    classname and name, is that test.
    """
    by_hash = {case_key_hash(c.key): c for c in cases}
    found: dict[str, tuple[int, bool]] = {}
    for chunk in _chunks(list(by_hash)):
        for key_hash, pk, ever_real in TestCase.objects.filter(
            suite=suite, key_hash__in=chunk
        ).values_list("key_hash", "id", "ever_real"):
            found[by_hash[key_hash].key] = (pk, ever_real)
    missing = [c for c in cases if c.key not in found]
    if missing:
        found.update(_same_tests(suite=suite, cases=missing))
    new = [c for c in cases if c.key not in found]
    if new:
        _keys_like_the_suites(suite=suite, cases=new)
        TestCase.objects.bulk_create(
            [
                TestCase(
                    suite=suite,
                    key=c.key,
                    key_hash=case_key_hash(c.key),
                    name=c.name,
                    classname=c.classname,
                    file=c.file,
                    ever_real=is_real(c.outcome, c.duration),
                )
                for c in new
            ],
            ignore_conflicts=True,
        )
        created = {case_key_hash(c.key): c for c in new}
        for chunk in _chunks(list(created)):
            for key_hash, pk, ever_real in TestCase.objects.filter(
                suite=suite, key_hash__in=chunk
            ).values_list("key_hash", "id", "ever_real"):
                found[created[key_hash].key] = (pk, ever_real)
        # Written as indexed (not search_pending): mapped to the capabilities now.
        capability_cases_map(case_ids=[found[c.key][0] for c in new if c.key in found])
    ids = {key: pk for key, (pk, _) in found.items()}
    return ids, {pk for pk, ever_real in found.values() if not ever_real}


def _same_tests(*, suite, cases: list[ParsedCase]) -> dict[str, tuple[int, bool]]:
    """The suite's known tests with these cases' classname and name (preferring the same
    file), keyed by the case's key."""
    wanted = {(c.classname, c.name): c for c in cases}
    matches: dict[str, tuple[int, bool, bool]] = {}
    for chunk in _chunks(sorted({c.name for c in cases})):
        rows = TestCase.objects.filter(suite=suite, name__in=chunk).values_list(
            "classname", "name", "file", "id", "ever_real"
        )
        for classname, name, file, pk, ever_real in rows.order_by("id"):
            case = wanted.get((classname, name))
            if case is None:
                continue
            same_file = file == case.file
            if case.key not in matches or (same_file and not matches[case.key][2]):
                matches[case.key] = (pk, ever_real, same_file)
    return {key: (pk, ever_real) for key, (pk, ever_real, _) in matches.items()}


def _keys_like_the_suites(*, suite, cases: list[ParsedCase]) -> None:
    """Key tests new to the suite as its reports key the suite's other tests of the same
    classname (with the <testsuite> name they carry, such as pytest's), so that the report that
    finishes the run, or a later one if it never comes, names the same test."""
    classnames = sorted({c.classname for c in cases if c.classname})
    firsts: list[int] = []
    for chunk in _chunks(classnames):
        firsts += (
            TestCase.objects.filter(suite=suite, classname__in=chunk)
            .values("classname")
            .annotate(first=Min("id"))
            .values_list("first", flat=True)
        )
    suites: dict[str, str] = {}
    for chunk in _chunks(firsts):
        for classname, name, key in TestCase.objects.filter(pk__in=chunk).values_list(
            "classname", "name", "key"
        ):
            found = key_suite(key=key, classname=classname, name=name)
            if found:
                suites[classname] = found
    for case in cases:
        if case.classname in suites:
            case.key = case_key(
                classname=case.classname,
                name=case.name,
                file=case.file,
                suite=suites[case.classname],
            )


def _chunks(values: list) -> list[list]:
    return [values[i : i + _LOOKUP_CHUNK] for i in range(0, len(values), _LOOKUP_CHUNK)]


def _counts(run: TestRun) -> dict[str, Any]:
    return TestResult.objects.filter(run=run).aggregate(
        total=Count("pk"),
        passed=Count("pk", filter=Q(outcome="passed")),
        failed=Count("pk", filter=Q(outcome=FAILED)),
        errors=Count("pk", filter=Q(outcome=ERROR)),
        skipped=Count("pk", filter=Q(outcome="skipped")),
        flaky=Count("pk", filter=Q(flaky=True)),
    )


def _report_replace(*, run: TestRun, files: Sequence[ReportFile], error: str, now) -> None:
    streamed = list(TestResult.objects.filter(run=run).values_list("case_id", flat=True))
    TestResult.objects.filter(run=run).delete()
    TestRun.objects.filter(pk=run.pk).update(finished_at=now)
    run.finished_at = now
    run_import(
        suite=run.suite,
        revision=run.revision,
        files=files,
        run=run,
        started_at=run.started_at,  # when the job opened it, whatever the report says
        end_error=error.strip(),
    )
    # Tests first seen in this run's stream under a key the report does not use (its
    # <testsuite> name is part of the report's keys) have no result left: they were never tests.
    for chunk in _chunks(streamed):
        TestCase.objects.filter(
            pk__in=chunk,
            first_seen_at__gte=run.created_at - timedelta(seconds=1),
            results__isnull=True,
            analyses__isnull=True,
        ).delete()
    if streamed:
        tallies_rebuild(suite_id=run.suite_id)  # deleted tests may have been mapped


def _streamed_end(*, run: TestRun, error: str, now) -> None:
    # The importer marks a report's failures of quarantined tests; streamed ones are marked here,
    # so the finish answer's blocking failures (CI's exit code) leave them out.
    run_quarantine_mark(run_id=run.pk, suite_id=run.suite_id, now=now)
    counts = _counts(run)
    error = error.strip()
    if error:
        status = TestRun.Status.ERROR
    elif not counts["total"]:
        status = TestRun.Status.ERROR
        error = "The run was finished without results or a report: nothing was tested."
    elif counts["failed"] or counts["errors"]:
        status = TestRun.Status.FAILED
    else:
        status = TestRun.Status.PASSED
    run_lifecycle.move(
        run.pk,
        status,
        frm=[TestRun.Status.RUNNING],
        error=error,
        finished_at=now,
        duration=(now - run.started_at).total_seconds() if run.started_at else 0,
        progress_done=counts["total"],
        progress_total=counts["total"],
        **counts,
    )
    flake_window_update(run=run)
    tallies_fold_run(run_id=run.pk, suite_id=run.suite_id)  # the summary's counts, then
    case_latest_update(run=run)  # each test's latest result (runs.services.read_models)
    ended = TestRun.objects.get(pk=run.pk)
    run_finished(run=ended)  # webhooks: run.failed, with its final status
    run_results_judged(run=ended)  # signature.new, test.flaky
    run_analyze_enqueue(run_id=run.pk)
