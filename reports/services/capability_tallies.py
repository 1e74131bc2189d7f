"""The summary's counts read model (reports.CapabilityTally): per capability and suite, the mapped
tests and how their latest results stand, moved by deltas in the transactions that move either
side, so the summary adds a few rows instead of counting every mapped test.

- a run's results, before they become the tests' latest (runs.CaseLatest): the change of each
  mapped test's class (`tallies_fold_run`, in the import's transaction, under the suite's lock);
- tests mapped to a capability (`tallies_add_cases`, in the mapping's transaction);
- a capability's rows rebuilt, or a suite's latest results repaired after retention deleted
  runs: recounted whole (`tallies_rebuild`).

Locks (PostgreSQL): every writer of a suite's latest results holds the suite's row (the importer
and the live API take it for the flaky window; the search indexing task takes it before mapping
a batch), and every writer reads the capabilities FOR SHARE, so a capability's rebuild (FOR
UPDATE) never interleaves with a fold. Table names are spelled out: a migration runs this SQL.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, transaction

_TALLY = "reports_capabilitytally"
CHUNK = 900  # ids per statement on SQLite


def _classes(alias: str) -> list[str]:
    """ran, passing, failing, flaky, skipped of a latest-result-like row (0 or 1 each; a missing
    row of a LEFT JOIN counts 0 everywhere), as the summary counts them."""
    a = alias
    return [
        f"CASE WHEN {a}.outcome IS NOT NULL THEN 1 ELSE 0 END",
        f"CASE WHEN {a}.outcome = 'passed' AND NOT {a}.flaky THEN 1 ELSE 0 END",
        f"CASE WHEN {a}.outcome IN ('failed', 'error') THEN 1 ELSE 0 END",
        f"CASE WHEN {a}.outcome = 'passed' AND {a}.flaky THEN 1 ELSE 0 END",
        f"CASE WHEN {a}.outcome = 'skipped' THEN 1 ELSE 0 END",
    ]


_COLUMNS = ("mapped", "ran", "passing", "failing", "flaky", "skipped")
_INSERT = f"INSERT INTO {_TALLY} (capability_id, suite_id, {', '.join(_COLUMNS)}) "
_ADD = " ON CONFLICT (capability_id, suite_id) DO UPDATE SET " + ", ".join(
    f"{c} = {_TALLY}.{c} + excluded.{c}" for c in _COLUMNS
)

# The change a run's results make to its mapped tests, read before they become the latest: the
# same rows the upsert of runs.services.read_models replaces (none holding a later run). Only
# the tests whose outcome or flakiness changes (a few, run after run) are looked up in the
# capabilities' rows; MATERIALIZED keeps that order.
_FOLD = (
    "WITH changed AS MATERIALIZED (SELECT res.case_id, "  # noqa: S608 (constants only)
    + ", ".join(
        f"{n} AS n{i}, {o} AS o{i}"
        for i, (n, o) in enumerate(zip(_classes("res"), _classes("cl"), strict=True))
    )
    + """
    FROM runs_testresult res
    LEFT JOIN runs_caselatest cl ON cl.case_id = res.case_id
    WHERE res.run_id = %s AND (cl.run_id IS NULL OR cl.run_id <= %s)
      AND (cl.outcome IS NULL OR cl.outcome <> res.outcome OR cl.flaky <> res.flaky)
) """
    + _INSERT
    + "SELECT cc.capability_id, %s, 0, "
    + ", ".join(f"sum(ch.n{i} - ch.o{i})" for i in range(5))
    + """
FROM changed ch
JOIN reports_capabilitycase cc ON cc.case_id = ch.case_id
GROUP BY cc.capability_id
HAVING """
    + " OR ".join(f"sum(ch.n{i} - ch.o{i}) <> 0" for i in range(5))
    + _ADD
)

# Tests just mapped to a capability, with their latest results as they stand.
_MAPPED = (
    _INSERT
    + "SELECT %s, c.suite_id, count(*), "
    + ", ".join(f"sum({x})" for x in _classes("cl"))
    + """
FROM runs_testcase c
LEFT JOIN runs_caselatest cl ON cl.case_id = c.id
WHERE {where}
GROUP BY c.suite_id"""
    + _ADD
)

# Recount (one capability's, one suite's or every row) from the mapping and the latest results.
_RECOUNT = (
    _INSERT
    + "SELECT cc.capability_id, c.suite_id, count(*), "
    + ", ".join(f"sum({x})" for x in _classes("cl"))
    + """
FROM reports_capabilitycase cc
JOIN runs_testcase c ON c.id = cc.case_id
LEFT JOIN runs_caselatest cl ON cl.case_id = cc.case_id
WHERE {where}
GROUP BY cc.capability_id, c.suite_id"""
)


def _share_capabilities(cursor) -> None:
    """Wait for a capability rebuild in progress, and hold off the next until this commits."""
    if connection.vendor == "postgresql":
        cursor.execute("SELECT id FROM reports_capability ORDER BY id FOR SHARE")


def tallies_fold_run(*, run_id: int, suite_id: int) -> None:
    """Fold the class changes a run's results make into the tallies; call it in the import's
    transaction, holding the suite's lock, right before the run's results become the tests'
    latest (runs.services.read_models.case_latest_update). One statement."""
    with transaction.atomic(), connection.cursor() as cursor:
        _share_capabilities(cursor)
        cursor.execute(_FOLD, [run_id, run_id, suite_id])


def tallies_add_cases(*, capability_id: int, case_ids: Sequence[int]) -> None:
    """Count tests just mapped to a capability (by reports.services.capability_cases, in its
    transaction); their suite's lock must be held, or the tests be new in this transaction."""
    if not case_ids:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_MAPPED.format(where="c.id = ANY(%s)"), [capability_id, list(case_ids)])
            return
        for start in range(0, len(case_ids), CHUNK):
            chunk = case_ids[start : start + CHUNK]
            where = f"c.id IN ({', '.join(['%s'] * len(chunk))})"
            cursor.execute(_MAPPED.format(where=where), [capability_id, *chunk])


def tallies_rebuild(*, capability_id: int | None = None, suite_id: int | None = None) -> None:
    """Recount the tallies of one capability (its rows were rebuilt; the caller holds it FOR
    UPDATE), of one suite (its latest results were repaired; the suite is locked here) or, with
    neither, every tally (a migration's backfill, a seeder's last step)."""
    if capability_id is not None:
        where, params = "cc.capability_id = %s", [capability_id]
        scope = "capability_id = %s"
    elif suite_id is not None:
        where, params = "c.suite_id = %s", [suite_id]
        scope = "suite_id = %s"
    else:
        where, params, scope = "1 = 1", [], "1 = 1"
    with transaction.atomic(), connection.cursor() as cursor:
        if suite_id is not None and connection.vendor == "postgresql":
            cursor.execute("SELECT id FROM runs_suite WHERE id = %s FOR UPDATE", [suite_id])
        if capability_id is None:  # (a capability's rebuild holds its own row FOR UPDATE)
            _share_capabilities(cursor)
        cursor.execute(f"DELETE FROM {_TALLY} WHERE {scope}", params)  # noqa: S608
        cursor.execute(_RECOUNT.format(where=where), params)
