"""Read models written at ingest time, so that no page scans results.

`flake_window_update` runs once per finished run, inside the importer's transaction: a few
set-based statements whose cost grows with the tests that failed or were retried in the suite's
flaky window, not with the suite's size. `flake_window_rebuild` recomputes a suite (or all) from
its results: for the migration's backfill, the `flaky_rebuild` command and retention.
"""

from __future__ import annotations

import time

from django.db import connection, transaction

from runs.models import CaseFlakeWindow, Suite, TestCase, TestResult, TestRun
from runs.selectors.flaky import flaky_per_case_sql, recent_run_ids
from runs.services.suite_tree_rollup import suite_tree_rebuild

_TABLE = CaseFlakeWindow._meta.db_table

# Tests of `run_ids` that failed, errored or passed on a retry become candidates (with no figures
# yet): a test that only ever passed in the window cannot have flipped.
_CANDIDATES_ADD = """
INSERT INTO {table} (case_id, suite_id, service_id, flips, retries, seen, failures, refresh)
SELECT DISTINCT res.case_id, %s, %s, 0, 0, 0, 0, 0
FROM {result} res
WHERE res.run_id IN ({run_ids}) AND (res.outcome IN ('failed', 'error') OR res.flaky)
ON CONFLICT (case_id) DO NOTHING
"""

# Every candidate of the suite gets its figures over the window, stamped with this refresh.
_FIGURES_SET = """
UPDATE {table} SET flips = per_case.flips, retries = per_case.retries, seen = per_case.seen,
       failures = per_case.failures, refresh = %s
FROM per_case WHERE {table}.case_id = per_case.case_id
"""

# Candidates the refresh did not reach have no result left in the window; the others are kept
# only while a failure or a retry remains in the window.
_STALE_DELETE = """
DELETE FROM {table}
WHERE suite_id = %s AND (refresh <> %s OR (failures = 0 AND retries = 0))
"""


def _refresh(*, suite: Suite, candidate_runs: list[int]) -> None:
    """Add the candidates of `candidate_runs`, then recompute every candidate of the suite over
    its last FLAKY_WINDOW finished runs. Four statements; the caller holds the suite's lock."""
    window = recent_run_ids(suite_id=suite.pk)
    token = time.time_ns()
    names = {"table": _TABLE, "result": TestResult._meta.db_table}
    with connection.cursor() as cursor:
        if candidate_runs:
            cursor.execute(
                _CANDIDATES_ADD.format(**names, run_ids=", ".join(["%s"] * len(candidate_runs))),
                [suite.pk, suite.service_id, *candidate_runs],
            )
        if window:
            cases = f"SELECT case_id FROM {_TABLE} WHERE suite_id = %s"  # noqa: S608
            cursor.execute(
                flaky_per_case_sql(run_ids=window, cases=cases) + _FIGURES_SET.format(**names),
                [*window, *window, suite.pk, token],
            )
        cursor.execute(_STALE_DELETE.format(**names), [suite.pk, token])


def _lock(suite_id: int) -> Suite | None:
    """The suite, locked for this transaction: two refreshes of one suite take turns.

    Only the columns the refresh reads: migration 0023 runs this code against the tables as they
    were then, so a column added to the suite later must not be selected here."""
    return Suite.objects.select_for_update().only("id", "service_id").filter(pk=suite_id).first()


def flake_window_update(*, run: TestRun) -> None:
    """Fold a run whose results are all written into its suite's flaky window read model.
    Call it once per run, after its results are written (in the same transaction or after)."""
    with transaction.atomic():
        suite = _lock(run.suite_id)
        if suite is not None:
            _refresh(suite=suite, candidate_runs=[run.pk])


def flake_window_rebuild(*, suite_id: int, tree: bool = True) -> None:
    """Recompute one suite's flaky window read model from its results, and with `tree` its suite
    tree's rollup. Retention calls this after deleting runs of the suite; `manage.py
    flaky_rebuild` calls it for every suite; migration 0023 (older than the tree's table) with
    `tree=False`."""
    with transaction.atomic():
        suite = _lock(suite_id)
        if suite is None:
            return
        _refresh(suite=suite, candidate_runs=recent_run_ids(suite_id=suite_id))
        if tree:
            suite_tree_rebuild(suite_id=suite_id)  # the tree's rollup covers the same window


def flake_windows_rebuild(*, progress=None, tree: bool = True) -> int:
    """Recompute the read model of every suite that has tests; returns how many suites."""
    suite_ids = list(
        TestCase.objects.values_list("suite_id", flat=True).distinct().order_by("suite_id")
    )
    for done, suite_id in enumerate(suite_ids, start=1):
        flake_window_rebuild(suite_id=suite_id, tree=tree)
        if progress:
            progress(done, len(suite_ids))
    return len(suite_ids)


# The latest result of each test (CaseLatest). Table names are spelled out, not read from the
# models: migration 0032 runs this SQL against the tables as they were then.
_LATEST = "runs_caselatest"

# One statement per run: each of its results replaces the test's row unless the row holds a
# later run (runs imported out of order). `WHERE true` lets SQLite parse an upsert from a SELECT.
_LATEST_UPSERT = """
INSERT INTO runs_caselatest (case_id, suite_id, run_id, run_at, result_id, outcome, flaky)
SELECT res.case_id, %s, res.run_id, %s, res.id, res.outcome, res.flaky
FROM runs_testresult res
WHERE res.run_id = %s AND true
ON CONFLICT (case_id) DO UPDATE SET
    suite_id = excluded.suite_id, run_id = excluded.run_id, run_at = excluded.run_at,
    result_id = excluded.result_id, outcome = excluded.outcome, flaky = excluded.flaky
WHERE runs_caselatest.run_id <= excluded.run_id
"""

# The rows whose run is gone point again at the test's latest remaining result (one probe of
# result_case_history per test); tests with no result left lose their row.
_LATEST_REPOINT = """
UPDATE runs_caselatest SET result_id = coalesce((
    SELECT res.id FROM runs_testresult res
    WHERE res.case_id = runs_caselatest.case_id ORDER BY res.run_id DESC LIMIT 1
), 0)
WHERE {where} AND NOT EXISTS (
    SELECT 1 FROM runs_testrun run WHERE run.id = runs_caselatest.run_id
)
"""
_LATEST_DROP_EMPTY = "DELETE FROM runs_caselatest WHERE result_id = 0"
# The repointed rows' figures, read from their result and its run.
_LATEST_REFILL = """
UPDATE runs_caselatest SET
    run_id = (SELECT res.run_id FROM runs_testresult res
              WHERE res.id = runs_caselatest.result_id),
    outcome = (SELECT res.outcome FROM runs_testresult res
               WHERE res.id = runs_caselatest.result_id),
    flaky = (SELECT res.flaky FROM runs_testresult res WHERE res.id = runs_caselatest.result_id),
    run_at = (SELECT run.created_at FROM runs_testresult res
              JOIN runs_testrun run ON run.id = res.run_id
              WHERE res.id = runs_caselatest.result_id)
WHERE {where} AND NOT EXISTS (
    SELECT 1 FROM runs_testrun run WHERE run.id = runs_caselatest.run_id
)
"""
# Backfill: one row per test that has a result, from its newest result (one index probe each).
_LATEST_BACKFILL = """
INSERT INTO runs_caselatest (case_id, suite_id, run_id, run_at, result_id, outcome, flaky)
SELECT latest.case_id, latest.suite_id, res.run_id, run.created_at, res.id, res.outcome,
       res.flaky
FROM (
    SELECT c.id AS case_id, c.suite_id, (
        SELECT r.id FROM runs_testresult r WHERE r.case_id = c.id ORDER BY r.run_id DESC LIMIT 1
    ) AS result_id
    FROM runs_testcase c
    WHERE {where}
) latest
JOIN runs_testresult res ON res.id = latest.result_id
JOIN runs_testrun run ON run.id = res.run_id
"""


# The tests whose latest result is not a clean pass (CaseBehind), derived from CaseLatest: a
# run's results that became the latest and are not clean passes are written...
_BEHIND_UPSERT = """
INSERT INTO runs_casebehind (case_id, suite_id, run_id, run_at, outcome, flaky)
SELECT l.case_id, l.suite_id, l.run_id, l.run_at, l.outcome, l.flaky
FROM runs_testresult res
JOIN runs_caselatest l ON l.case_id = res.case_id AND l.run_id = res.run_id
WHERE res.run_id = %s AND (res.outcome <> 'passed' OR res.flaky)
ON CONFLICT (case_id) DO UPDATE SET
    suite_id = excluded.suite_id, run_id = excluded.run_id, run_at = excluded.run_at,
    outcome = excluded.outcome, flaky = excluded.flaky
"""
# ...and the suite's rows of an earlier run whose test's latest result is now this run's (a clean
# pass, or the statement above would have moved the row to this run) go.
_BEHIND_PASSED = """
DELETE FROM runs_casebehind
WHERE suite_id = %s AND run_id <> %s AND EXISTS (
    SELECT 1 FROM runs_caselatest l
    WHERE l.case_id = runs_casebehind.case_id AND l.run_id = %s
)
"""
_BEHIND_REBUILD = """
INSERT INTO runs_casebehind (case_id, suite_id, run_id, run_at, outcome, flaky)
SELECT case_id, suite_id, run_id, run_at, outcome, flaky
FROM runs_caselatest WHERE {where} AND (outcome <> 'passed' OR flaky)
"""


def case_latest_update(*, run: TestRun) -> None:
    """Fold a run whose results are all written into the tests' latest-result read model: one
    INSERT ... ON CONFLICT statement over the run's results, then two that keep CaseBehind
    (the latest results that are not clean passes) in step. Call it once per run, in the
    import's transaction, after the results are written (as flake_window_update)."""
    with connection.cursor() as cursor:
        cursor.execute(_LATEST_UPSERT, [run.suite_id, run.created_at, run.pk])
        cursor.execute(_BEHIND_UPSERT, [run.pk])
        cursor.execute(_BEHIND_PASSED, [run.suite_id, run.pk, run.pk])


def case_behind_rebuild(*, suite_id: int | None = None) -> None:
    """Recompute CaseBehind of `suite_id` (None: every suite) from CaseLatest."""
    where, params = ("suite_id = %s", [suite_id]) if suite_id is not None else ("true", [])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM runs_casebehind WHERE {where}", params)  # noqa: S608
        cursor.execute(_BEHIND_REBUILD.format(where=where), params)


def case_latest_repair(*, suite_id: int | None = None) -> None:
    """After runs were deleted without the ORM (retention): the rows of `suite_id` (None: every
    suite) whose run is gone point at the test's latest remaining result, or go. Three
    statements; their cost grows with the rows that pointed at a deleted run."""
    where, params = ("suite_id = %s", [suite_id]) if suite_id is not None else ("true", [])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_LATEST_REPOINT.format(where=where), params)
        cursor.execute(_LATEST_DROP_EMPTY)
        cursor.execute(_LATEST_REFILL.format(where=where), params)
        case_behind_rebuild(suite_id=suite_id)


def case_latest_rebuild(*, suite_id: int | None = None, behind: bool = True) -> None:
    """Recompute the rows of `suite_id` (None: every suite) from the results, and with `behind`
    CaseBehind's: migration 0032's backfill (older than CaseBehind: `behind=False`), and the
    seeders that write history without the importer."""
    where, params = ("suite_id = %s", [suite_id]) if suite_id is not None else ("true", [])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {_LATEST} WHERE {where}", params)  # noqa: S608
        backfill = _LATEST_BACKFILL.format(where=where.replace("suite_id", "c.suite_id"))
        cursor.execute(backfill, params)
        if behind:
            case_behind_rebuild(suite_id=suite_id)
