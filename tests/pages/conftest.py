"""Known histories for the page tests: runs built result by result, at chosen times."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from runs.models import Deploy, FailureSignature, Revision, Suite, TestCase, TestResult, TestRun
from runs.selectors.rates import FAILING
from runs.services.read_models import flake_window_update
from runs.services.reality import cases_reality_refresh
from runs.services.suite_tree_rollup import suite_tree_rebuild
from tests.factories import CaseFactory, RevisionFactory, SuiteFactory


def base_time() -> datetime:
    return timezone.now() - timedelta(days=5)


def make_run(
    suite: Suite,
    outcomes: dict[TestCase, str],
    *,
    revision: Revision | None = None,
    at: datetime | None = None,
    flaky: tuple[TestCase, ...] = (),
    durations: dict[TestCase, float] | None = None,
    messages: dict[TestCase, str] | None = None,
    signatures: dict[TestCase, FailureSignature] | None = None,
    status: str | None = None,
    duration: float | None = None,
) -> TestRun:
    """A finished run of `suite` whose results are `outcomes`, created at `at`."""
    counts = {"passed": 0, "failed": 0, "error": 0, "skipped": 0}
    for outcome in outcomes.values():
        counts[outcome] += 1
    durations = durations or {}
    total_time = sum(durations.get(c, 0.5) for c in outcomes)
    run = TestRun.objects.create(
        suite=suite,
        service=suite.service,
        revision=revision,
        status=status or ("failed" if counts["failed"] + counts["error"] else "passed"),
        total=len(outcomes),
        passed=counts["passed"],
        failed=counts["failed"],
        errors=counts["error"],
        skipped=counts["skipped"],
        flaky=len(flaky),
        duration=total_time if duration is None else duration,
        started_at=at,
        finished_at=at,
    )
    if at is not None:
        TestRun.objects.filter(pk=run.pk).update(created_at=at)
        run.refresh_from_db()
    TestResult.objects.bulk_create(
        [
            TestResult(
                run=run,
                case=case,
                outcome=outcome,
                duration=durations.get(case, 0.5),
                message=(messages or {}).get(case, "boom" if outcome in FAILING else ""),
                flaky=case in flaky,
                attempts=2 if case in flaky else 1,
                signature=(signatures or {}).get(case),
            )
            for case, outcome in outcomes.items()
        ]
    )
    cases_reality_refresh(suite_id=suite.pk)  # what the importer keeps for imported runs
    flake_window_update(run=run)
    suite_tree_rebuild(suite_id=suite.pk)
    return run


@pytest.fixture
def suite(db) -> Suite:
    return SuiteFactory(name="e2e", target_test_count=40)


@pytest.fixture
def cases(suite) -> list[TestCase]:
    return [CaseFactory(suite=suite, key=f"tests/test_a.py::test_{i}") for i in range(4)]


@pytest.fixture
def revisions(suite) -> list[Revision]:
    start = base_time()
    made = []
    for i in range(3):
        revision = RevisionFactory(service=suite.service, name=f"web-{i:05d}")
        Revision.objects.filter(pk=revision.pk).update(created_at=start + timedelta(hours=10 * i))
        revision.refresh_from_db()
        made.append(revision)
    return made


@pytest.fixture
def at():
    """at(n): the time of the n-th run of a history, an hour apart."""
    start = base_time()
    return lambda n: start + timedelta(hours=n)


def build_history(*, runs: int, tests: int, suite: Suite | None = None) -> dict:
    """`runs` runs of `tests` tests on a new revision every 3 runs: test 0 is flaky, test 1 broke
    on the last revision, test 2 always takes no time, the last test is skipped."""
    suite = suite or SuiteFactory(name="e2e", target_test_count=tests * 2)
    made_cases = [
        CaseFactory(suite=suite, key=f"tests/test_flow.py::test_step_{i:03d}") for i in range(tests)
    ]
    start = base_time()
    made_runs, made_revisions = [], []
    for n in range(runs):
        if n % 3 == 0:
            revision = RevisionFactory(service=suite.service, name=f"web-{n // 3:05d}")
            Revision.objects.filter(pk=revision.pk).update(created_at=start + timedelta(hours=n))
            revision.refresh_from_db()
            made_revisions.append(revision)
            deploy = Deploy.objects.create(
                service=suite.service,
                revision=revision,
                status=Deploy.Status.SUCCEEDED,
                started_at=start + timedelta(hours=n) - timedelta(seconds=42),
                finished_at=start + timedelta(hours=n),
            )
            Deploy.objects.filter(pk=deploy.pk).update(created_at=deploy.started_at)
        last_revision = n // 3 == (runs - 1) // 3
        outcomes = {}
        for i, case in enumerate(made_cases):
            if i == tests - 1:
                outcomes[case] = "skipped"
            elif i == 1 and last_revision:
                outcomes[case] = "failed"
            elif i == 0 and n % 2:
                outcomes[case] = "error"
            else:
                outcomes[case] = "passed"
        made_runs.append(
            make_run(
                suite,
                outcomes,
                revision=made_revisions[-1],
                at=start + timedelta(hours=n, minutes=5),
                durations={made_cases[2]: 0.0001} if tests > 2 else None,
            )
        )
    suite.service.current_revision = made_revisions[-1]
    suite.service.save(update_fields=["current_revision"])
    return {"suite": suite, "cases": made_cases, "runs": made_runs, "revisions": made_revisions}
