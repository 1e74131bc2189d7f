"""Keep TestCase.ever_real true for every test that has ever failed or taken measurable time.

The reality check on run and suite pages flags tests that are still false: green tests that may
test nothing. Keeping the flag on the case (a few updates per import) replaces an index over
every result row that each import had to maintain.
"""

from __future__ import annotations

from django.db import connection

from runs.models import TestCase, TestResult
from runs.models.testing import TRIVIAL_SECONDS

_REAL = f"(r.outcome IN ('failed', 'error') OR r.duration > {TRIVIAL_SECONDS})"


def cases_mark_real(*, ids: list[int]) -> int:
    """Set ever_real on these test cases; return how many changed."""
    if not ids:
        return 0
    return TestCase.objects.filter(pk__in=ids, ever_real=False).update(ever_real=True)


def cases_reality_refresh(*, suite_id: int) -> None:
    """Recompute ever_real for every test of a suite from all its results (for bulk seeders)."""
    cases, results = TestCase._meta.db_table, TestResult._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {cases} SET ever_real = EXISTS (SELECT 1 FROM {results} r "  # noqa: S608
            f"WHERE r.case_id = {cases}.id AND {_REAL}) WHERE suite_id = %s",
            [suite_id],
        )
