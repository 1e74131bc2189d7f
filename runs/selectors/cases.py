"""Reads for the test page: one test's history, duration trend, broken-since and analyses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Subquery
from django.db.models.functions import Coalesce

from runs.models import TestCase, TestResult
from runs.selectors.rates import FAILING
from runs.time_range import TimeRange, within

HISTORY_POINTS = 500
STRIP_LENGTH = 100


def case_get(*, pk: int) -> TestCase:
    return TestCase.objects.select_related("suite__service").get(pk=pk)


def case_history(
    *, case: TestCase, span: TimeRange | None = None, limit: int = HISTORY_POINTS
) -> list[Mapping[str, Any]]:
    """The test's last `limit` results (of runs started within `span`), oldest first: run,
    time, revision, outcome, duration, retry. One query on the (case, run) index."""
    results = TestResult.objects.filter(case=case)
    if span is not None:
        results = within(results, span, field="run__created_at")
    rows: list[Mapping[str, Any]] = list(
        results.order_by("-run_id").values(
            "run_id",
            "run__created_at",
            "run__revision_id",
            "run__revision__name",
            "outcome",
            "duration",
            "flaky",
        )[:limit]
    )
    rows.reverse()
    return rows


@dataclass(frozen=True)
class BrokenSince:
    run_id: int
    at: datetime
    revision_id: int | None
    revision_name: str | None


def broken_since(*, case: TestCase) -> BrokenSince | None:
    """The first result of the test's current failing streak: its first failure after its last
    pass (skips do not end a streak), or None when nothing failed since the last pass. One query
    on the (case, run) index."""
    last_pass = (
        TestResult.objects.filter(case_id=case.pk, outcome="passed")
        .order_by("-run_id")
        .values("run_id")[:1]
    )
    first = (
        TestResult.objects.filter(case=case, outcome__in=FAILING)
        .filter(run_id__gt=Coalesce(Subquery(last_pass), 0))
        .order_by("run_id")
        .values("run_id", "run__created_at", "run__revision_id", "run__revision__name")
        .first()
    )
    if first is None:
        return None
    return BrokenSince(
        run_id=first["run_id"],
        at=first["run__created_at"],
        revision_id=first["run__revision_id"],
        revision_name=first["run__revision__name"],
    )


def case_analyses(*, case: TestCase, limit: int = 20) -> list[Mapping[str, Any]]:
    """Five-whys analyses linked to the test, newest first. One query."""
    return list(case.analyses.order_by("-created_at").values("pk", "title", "status")[:limit])
