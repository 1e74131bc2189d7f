"""A results call costs a few queries whatever its size, never one per result (SQLite batches
the new test cases about 120 to a statement, PostgreSQL takes them in one)."""

from __future__ import annotations

import pytest

from runs.models import TestRun
from runs.services.live import LiveResult, live_results_add, live_run_start

pytestmark = pytest.mark.django_db


def _batch(n: int, *, attempt: int = 1) -> list[LiveResult]:
    return [
        LiveResult(
            classname=f"tests.test_m{i % 7}",
            name=f"test_{i}",
            outcome="failed" if i % 10 == 0 else "passed",
            message=f"boom {i % 3}",
            attempt=attempt,
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("n", [10, 800])
def test_streaming_new_tests_and_their_retries_takes_a_bounded_number_of_queries(
    suite, operator, django_assert_max_num_queries, n
):
    run = live_run_start(service="shop", suite="e2e", user=operator)

    with django_assert_max_num_queries(30):
        live_results_add(run=run, results=_batch(n))
    with django_assert_max_num_queries(20):
        live_results_add(run=run, results=_batch(n, attempt=2))

    run = TestRun.objects.get(pk=run.pk)
    assert (run.total, run.progress_done) == (n, n)
