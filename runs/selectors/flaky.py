"""Flakiness, in SQL: status flips between consecutive runs of one revision, and passes on retry.

A test is flaky when, over the last FLAKY_WINDOW finished runs of its suite, its outcome flipped
between two consecutive runs of the same revision (same code, different result), or it passed only
on a retry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber

from runs.models import CaseFlakeWindow, TestCase, TestResult, TestRun

FLAKY_DEFINITION = (
    "Flaky = over the last {n} runs, the outcome flipped between two runs of the same revision, "
    "or the test passed only on a retry."
)

# Flips and retries per test over the given runs ({run_ids} is a list of placeholders). The run
# ids are chosen by a separate query: PostgreSQL misjudges a ranked subquery and scans every result.
_FLAKY_SQL = """
WITH seq AS (
    SELECT res.case_id, rr.suite_id, rr.service_id,
           CASE WHEN res.flaky THEN 1 ELSE 0 END AS retried,
           -- revision and outcome in one number, so one LAG sees both: a flip is the previous
           -- run of the same revision with the other outcome.
           COALESCE(rr.revision_id, 0) * 2
               + CASE WHEN res.outcome = 'passed' THEN 1 ELSE 0 END AS state,
           LAG(COALESCE(rr.revision_id, 0) * 2
               + CASE WHEN res.outcome = 'passed' THEN 1 ELSE 0 END)
               OVER (PARTITION BY res.case_id ORDER BY res.run_id) AS prev_state
    FROM {result} res JOIN {run} rr ON rr.id = res.run_id
    WHERE res.run_id IN ({run_ids}) AND rr.id IN ({run_ids}) AND res.outcome <> 'skipped'
          {cases}
),
per_case AS (
    SELECT suite_id, service_id, case_id,
           SUM(CASE WHEN prev_state = state + 1 - 2 * (state %% 2) THEN 1 ELSE 0 END) AS flips,
           SUM(retried) AS retries,
           COUNT(*) AS seen,
           SUM(1 - state %% 2) AS failures
    FROM seq GROUP BY suite_id, service_id, case_id
)
"""


def recent_run_ids(
    *, suite_id: int | None = None, window: int | None = None, upto: datetime | None = None
) -> list[int]:
    """Ids of the last `window` (default FLAKY_WINDOW) finished runs (passed, failed or error)
    of each suite, or of one suite; with `upto`, of the runs created until then. One query."""
    runs = TestRun.objects.filter(status__in=("passed", "failed", "error"))
    if upto is not None:
        runs = runs.filter(created_at__lte=upto)
    if suite_id is not None:
        return list(
            runs.filter(suite_id=suite_id)
            .order_by("-created_at", "-pk")
            .values_list("pk", flat=True)[: window or settings.FLAKY_WINDOW]
        )
    ranked = runs.annotate(
        position=Window(
            RowNumber(),
            partition_by=[F("suite_id")],
            order_by=[F("created_at").desc(), F("pk").desc()],
        )
    ).filter(position__lte=settings.FLAKY_WINDOW)
    return list(ranked.values_list("pk", flat=True))


@dataclass(frozen=True)
class FlakyCase:
    case_id: int
    name: str
    key: str
    flips: int
    retries: int
    seen: int


def _sql(*, run_ids: list[int], tail: str, cases: str = "") -> str:
    """The flakiness CTEs over `run_ids` followed by `tail`, with table names from the models."""
    return (_FLAKY_SQL + tail).format(
        run=TestRun._meta.db_table,
        result=TestResult._meta.db_table,
        case=TestCase._meta.db_table,
        run_ids=", ".join(["%s"] * len(run_ids)),
        cases=f"AND res.case_id IN ({cases})" if cases else "",
    )


def flaky_per_case_sql(*, run_ids: list[int], cases: str = "") -> str:
    """`WITH seq AS (...), per_case AS (...)`: per test of `run_ids` (those of the subquery
    `cases` only, when given), its flips, retries, counted results and failures. The parameters
    are `run_ids` twice, then those of `cases`; the caller appends the statement using it."""
    return _sql(run_ids=run_ids, tail="", cases=cases)


def flaky_counts_by_service() -> dict[int, int]:
    """Number of flaky tests per service id (services without any are absent). One query, over
    the read model the importer keeps (runs.services.read_models)."""
    rows = (
        CaseFlakeWindow.objects.filter(Q(flips__gt=0) | Q(retries__gt=0))
        .values("service_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("service_id", "n")
    )
    return dict(rows)


def flaky_cases(*, suite_id: int, limit: int = 20) -> tuple[list[FlakyCase], int]:
    """The flakiest tests of a suite (most flips and retries first) and how many are flaky.
    One query, over the read model the importer keeps (runs.services.read_models)."""
    rows = list(
        CaseFlakeWindow.objects.filter(Q(flips__gt=0) | Q(retries__gt=0), suite_id=suite_id)
        .annotate(total=Window(Count("pk")))
        .order_by((F("flips") + F("retries")).desc(), "case_id")
        .values_list("case_id", "case__name", "case__key", "flips", "retries", "seen", "total")[
            :limit
        ]
    )
    total = rows[0][6] if rows else 0
    return [FlakyCase(*row[:6]) for row in rows], total


# Per flaky test: how many of its latest N counted results failed (all of them: broken).
_SCORES = """
, ranked AS (
    SELECT res.case_id, res.outcome,
           ROW_NUMBER() OVER (PARTITION BY res.case_id ORDER BY res.run_id DESC) AS rn
    FROM {result} res
    WHERE res.run_id IN ({run_ids}) AND res.outcome <> 'skipped'
      AND res.case_id IN (SELECT case_id FROM per_case WHERE flips > 0 OR retries > 0)
),
recent AS (
    SELECT case_id, SUM(CASE WHEN outcome IN ('failed', 'error') THEN 1 ELSE 0 END) AS failing,
           COUNT(*) AS counted
    FROM ranked WHERE rn <= %s GROUP BY case_id
)
SELECT p.case_id, p.flips, p.retries, p.seen, r.failing, r.counted
FROM per_case p JOIN recent r ON r.case_id = p.case_id
WHERE p.flips > 0 OR p.retries > 0
ORDER BY p.case_id
"""


@dataclass(frozen=True)
class FlakeScore:
    """A test's flakiness over a window of its suite's runs, and whether it is broken now."""

    case_id: int
    flips: int
    retries: int
    seen: int
    recent_failing: int  # of its last `recent` counted results, how many failed
    recent: int

    @property
    def score(self) -> float:
        """(flips + passes on retry) / counted results, at most 1."""
        return min(1.0, (self.flips + self.retries) / self.seen) if self.seen else 0.0

    @property
    def is_broken(self) -> bool:
        """Failed in every one of its last counted results: broken, not flaky."""
        return self.recent > 0 and self.recent_failing == self.recent


def suite_flake_scores(*, run_ids: list[int], broken_runs: int) -> list[FlakeScore]:
    """The flake score of every test of the given runs that flipped or passed on a retry, with
    its failures among its last `broken_runs` counted results. One query."""
    if not run_ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            _sql(run_ids=run_ids, tail=_SCORES),
            [*run_ids, *run_ids, *run_ids, broken_runs],
        )
        return [FlakeScore(*row) for row in cursor.fetchall()]


@dataclass(frozen=True)
class CaseFlakiness:
    window: int
    seen: int
    flips: int
    retries: int
    passed: int

    @property
    def is_flaky(self) -> bool:
        return self.flips > 0 or self.retries > 0


def case_flakiness(*, case_id: int) -> CaseFlakiness:
    """Flips between consecutive runs of one revision and passes on retry, over the test's last
    FLAKY_WINDOW counted results. One query."""
    window = settings.FLAKY_WINDOW
    # Table names come from model metadata; values are parameters.
    sql = f"""
        SELECT COUNT(*),
               COALESCE(SUM(CASE WHEN prev_ok IS NOT NULL AND ok <> prev_ok
                                  AND prev_revision = revision_id THEN 1 ELSE 0 END), 0),
               COALESCE(SUM(retried), 0), COALESCE(SUM(ok), 0)
        FROM (
            SELECT ok, retried, revision_id,
                   LAG(ok) OVER (ORDER BY run_id) AS prev_ok,
                   LAG(revision_id) OVER (ORDER BY run_id) AS prev_revision
            FROM (
                SELECT res.run_id, COALESCE(t.revision_id, 0) AS revision_id,
                       CASE WHEN res.outcome = 'passed' THEN 1 ELSE 0 END AS ok,
                       CASE WHEN res.flaky THEN 1 ELSE 0 END AS retried
                FROM {TestResult._meta.db_table} res
                JOIN {TestRun._meta.db_table} t ON t.id = res.run_id
                WHERE res.case_id = %s AND res.outcome <> 'skipped'
                ORDER BY res.run_id DESC LIMIT %s
            ) last_n
        ) seq
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [case_id, window])
        seen, flips, retries, passed = cursor.fetchone()
    return CaseFlakiness(window=window, seen=seen, flips=flips, retries=retries, passed=passed)
