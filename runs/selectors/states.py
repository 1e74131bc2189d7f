"""Reads of test states: a test's state and history, a suite's non-active tests, lookups by
name for the client, and the tests the quarantine policy would quarantine or release."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from runs.models import (
    QuarantinePolicy,
    State,
    Suite,
    TestCase,
    TestResult,
    TestRun,
    TestState,
    TestStateChange,
)
from runs.selectors.flaky import FlakeScore, recent_run_ids, suite_flake_scores

# A test that failed in each of its last BROKEN_RUNS counted results is broken, not flaky: the
# policy never quarantines it, whatever its flake score says about older runs.
BROKEN_RUNS = 3

FLAKE_SCORE_DEFINITION = (
    "Flake score = (flips between two runs of the same revision + passes on retry) / counted "
    "results, over the suite's last {window} finished runs; a test is quarantined automatically "
    "at {threshold:.2f} or more once it has {min_results} counted results, unless it failed in "
    "each of its last {broken} (broken, not flaky)."
)

# disabled beats quarantined beats active when two cases of a suite share classname and name
# (the importer's key also holds the JUnit testsuite name).
_STRENGTH = {State.DISABLED: 2, State.QUARANTINED: 1, State.ACTIVE: 0}


def quarantine_policy_for(*, suite_id: int) -> QuarantinePolicy:
    """The suite's policy, else the defaults (an unsaved row)."""
    return QuarantinePolicy.objects.filter(suite_id=suite_id).first() or QuarantinePolicy(
        suite_id=suite_id
    )


def case_state(*, case: TestCase) -> TestState | None:
    """The test's state row (None: it was never changed, so it is active)."""
    return TestState.objects.filter(case=case).select_related("by").first()


def state_history(*, case_id: int, limit: int = 200) -> list[TestStateChange]:
    """The test's state changes, newest first. One query."""
    return list(TestStateChange.objects.filter(case_id=case_id).select_related("by")[:limit])


def suite_states(
    *, suite: Suite, state: str | None = None, now: datetime | None = None
) -> list[TestState]:
    """The suite's quarantined and disabled tests (expired ones are active), by classname and
    name. One query."""
    rows = TestState.objects.filter(TestState.in_force(now), suite=suite)
    if state:
        rows = rows.filter(state=state)
    return list(rows.select_related("case", "by").order_by("case__classname", "case__name"))


def suite_case_by_name(*, suite: Suite, classname: str, name: str) -> TestCase | None:
    """The suite's test with this classname and name; of several (one per JUnit testsuite),
    the first made."""
    same = TestCase.objects.filter(suite=suite, classname=classname, name=name)
    return same.order_by("pk").first()


@dataclass(frozen=True)
class LookedUp:
    classname: str
    name: str
    state: str  # active, quarantined, disabled or new
    reason: str
    since: datetime | None
    expires_at: datetime | None


def states_lookup(
    *, suite: Suite, tests: Sequence[tuple[str, str]], now: datetime | None = None
) -> list[LookedUp]:
    """The state of each (classname, name), in the order asked: "new" when the suite never ran
    such a test. Two queries whatever the number of tests."""
    now = now or timezone.now()
    known = set(TestCase.objects.filter(suite=suite).values_list("classname", "name"))
    held: dict[tuple[str, str], TestState] = {}
    for row in suite_states(suite=suite, now=now):
        key = (row.case.classname, row.case.name)
        if key not in held or _STRENGTH[State(row.state)] > _STRENGTH[State(held[key].state)]:
            held[key] = row
    answer = []
    for classname, name in tests:
        found = held.get((classname, name))
        if found is not None:
            answer.append(
                LookedUp(classname, name, found.state, found.reason, found.since, found.expires_at)
            )
        else:
            state = State.ACTIVE if (classname, name) in known else "new"
            answer.append(LookedUp(classname, name, state, "", None, None))
    return answer


@dataclass(frozen=True)
class QuarantineCandidate:
    score: FlakeScore
    run_ids: list[int]


def quarantine_candidates(
    *, policy: QuarantinePolicy, now: datetime | None = None
) -> list[QuarantineCandidate]:
    """The suite's tests the policy would quarantine now: flake score at or over the threshold
    with enough results, not broken, not quarantined or disabled already, and not made active
    (by a person, a release or an expiry) since the window's first run: evidence from before
    that change is not used again. Three queries."""
    now = now or timezone.now()
    run_ids = recent_run_ids(suite_id=policy.suite_id, window=policy.window, upto=now)
    scores = [
        s
        for s in suite_flake_scores(run_ids=run_ids, broken_runs=BROKEN_RUNS)
        if s.seen >= policy.min_results and s.score >= policy.flake_threshold and not s.is_broken
    ]
    if not scores:
        return []
    first_run_at = TestRun.objects.filter(pk__in=run_ids).order_by("created_at").first()
    since = first_run_at.created_at if first_run_at else now
    held = set(
        TestState.objects.filter(case_id__in=[s.case_id for s in scores])
        .filter(TestState.in_force(now) | Q(state=State.ACTIVE, since__gte=since))
        .values_list("case_id", flat=True)
    )
    return [QuarantineCandidate(s, run_ids) for s in scores if s.case_id not in held]


@dataclass(frozen=True)
class ReleaseCandidate:
    state: TestState
    run_ids: list[int]  # its clean runs since the quarantine, newest first


def release_candidates(
    *, policy: QuarantinePolicy, now: datetime | None = None
) -> list[ReleaseCandidate]:
    """The suite's automatically quarantined tests whose last `release_after` counted results,
    all in runs since the quarantine, passed without a retry. Two queries."""
    states = {
        s.case_id: s
        for s in TestState.objects.filter(
            TestState.in_force(now),
            suite_id=policy.suite_id,
            state=State.QUARANTINED,
            automatic=True,
        )
    }
    if not states:
        return []
    latest = (
        TestResult.objects.filter(
            case_id__in=list(states),
            run__created_at__gt=F("case__test_state__since"),
            run__created_at__lte=now or timezone.now(),
        )
        .exclude(outcome="skipped")
        .annotate(
            position=Window(RowNumber(), partition_by=[F("case_id")], order_by=F("run_id").desc())
        )
        .filter(position__lte=policy.release_after)
        .values_list("case_id", "run_id", "outcome", "flaky")
    )
    runs: dict[int, list[int]] = defaultdict(list)
    dirty: set[int] = set()
    for case_id, run_id, outcome, flaky in latest:
        runs[case_id].append(run_id)
        if outcome != "passed" or flaky:
            dirty.add(case_id)
    return [
        ReleaseCandidate(states[case_id], sorted(run_ids, reverse=True))
        for case_id, run_ids in runs.items()
        if case_id not in dirty and len(run_ids) >= policy.release_after
    ]


def expired_states(*, now: datetime | None = None, suite_id: int | None = None) -> list[TestState]:
    """Quarantines and disables whose expiry has passed but are not yet recorded as released."""
    now = now or timezone.now()
    rows = TestState.objects.exclude(state=State.ACTIVE).filter(expires_at__lte=now)
    if suite_id is not None:
        rows = rows.filter(suite_id=suite_id)
    return list(rows[:1000])


def run_quarantined_case_ids(*, run_id: int) -> set[int]:
    """The tests whose failure in this run was a quarantined failure. One query."""
    return set(
        TestResult.objects.filter(run_id=run_id, quarantined=True).values_list("case_id", flat=True)
    )
