"""The suite's policy quarantines flaky tests with their evidence, never broken ones, and
releases them after N consecutive clean runs."""

from __future__ import annotations

import pytest

from analyses.tasks import run_analyze
from runs.models import QuarantinePolicy, TestState, TestStateChange
from runs.services import states as services
from tests.factories import CaseFactory

from .conftest import make_run


@pytest.fixture
def policy(suite):
    return QuarantinePolicy.objects.create(suite=suite, auto_quarantine=True, release_after=3)


def flaky_history(suite, revision, cases, at, runs=8):
    """cases[0] passes and fails by turns on one revision; cases[1] always fails (broken);
    cases[2] always passes; cases[3] flipped early, then failed in each of the last 3 runs."""
    made = []
    for n in range(runs):
        made.append(
            make_run(
                suite,
                {
                    cases[0]: "passed" if n % 2 else "failed",
                    cases[1]: "failed",
                    cases[2]: "passed",
                    cases[3]: ("passed" if n % 2 else "failed") if n < runs - 3 else "failed",
                },
                revision=revision,
                at=at(n),
            )
        )
    return made


def clean_runs(suite, revision, cases, count, flaky=()):
    return [
        make_run(suite, dict.fromkeys(cases[:3], "passed"), revision=revision, flaky=flaky)
        for _ in range(count)
    ]


def test_a_flaky_test_is_quarantined_with_its_evidence(policy, suite, cases, revisions, at):
    runs = flaky_history(suite, revisions[0], cases, at)

    judged = services.test_states_judge(run=runs[-1])

    assert judged.quarantined == [cases[0].pk]
    row = TestState.objects.get(case=cases[0])
    assert (row.state, row.automatic, row.by) == ("quarantined", True, None)
    assert "flake score" in row.reason
    evidence = TestStateChange.objects.get(case=cases[0]).evidence
    assert evidence["flips"] == 7 and evidence["seen"] == 8
    assert evidence["flake_score"] == pytest.approx(7 / 8, abs=1e-3)
    assert evidence["threshold"] == 0.25
    assert sorted(evidence["run_ids"]) == sorted(r.pk for r in runs)


def test_a_broken_test_is_never_quarantined(policy, suite, cases, revisions, at):
    runs = flaky_history(suite, revisions[0], cases, at)

    services.test_states_judge(run=runs[-1])

    assert not TestState.objects.filter(case__in=[cases[1], cases[3]]).exists()


def test_no_quarantine_when_the_policy_is_off_as_by_default(suite, cases, revisions, at):
    runs = flaky_history(suite, revisions[0], cases, at)

    assert services.test_states_judge(run=runs[-1]).quarantined == []
    assert not TestState.objects.exists()


def test_a_passing_retry_counts_as_flaky(policy, suite, revisions, at):
    case = CaseFactory(suite=suite, key="tests/test_b.py::test_retry")
    runs = [
        make_run(suite, {case: "passed"}, revision=revisions[0], at=at(n), flaky=(case,))
        for n in range(5)
    ]

    assert services.test_states_judge(run=runs[-1]).quarantined == [case.pk]


def test_too_few_results_are_not_scored(policy, suite, cases, revisions, at):
    runs = flaky_history(suite, revisions[0], cases, at, runs=4)

    assert services.test_states_judge(run=runs[-1]).quarantined == []


def test_it_is_released_after_n_consecutive_clean_runs(policy, suite, cases, revisions, at):
    runs = flaky_history(suite, revisions[0], cases, at)
    services.test_states_judge(run=runs[-1])

    two = clean_runs(suite, revisions[0], cases, 2)
    assert services.test_states_judge(run=two[-1]).released == []
    third = clean_runs(suite, revisions[0], cases, 1)
    judged = services.test_states_judge(run=third[-1])

    assert judged.released == [cases[0].pk]
    assert judged.quarantined == []  # evidence from before the release is not used again
    row = TestState.objects.get(case=cases[0])
    assert (row.state, row.automatic) == ("active", True)
    change = TestStateChange.objects.filter(case=cases[0]).first()
    assert change is not None and change.evidence["run_ids"] == [
        third[0].pk,
        two[1].pk,
        two[0].pk,
    ]


def test_a_retry_is_not_a_clean_run(policy, suite, cases, revisions, at):
    runs = flaky_history(suite, revisions[0], cases, at)
    services.test_states_judge(run=runs[-1])

    later = clean_runs(suite, revisions[0], cases, 2)
    later += clean_runs(suite, revisions[0], cases, 1, flaky=(cases[0],))

    assert services.test_states_judge(run=later[-1]).released == []


def test_a_person_s_quarantine_is_not_released_automatically(policy, suite, cases, revisions):
    services.test_state_set(case=cases[0], state="quarantined", reason="known race")
    later = clean_runs(suite, revisions[0], cases, 4)

    assert services.test_states_judge(run=later[-1]).released == []


def test_a_judging_failure_is_noted_on_the_run(policy, suite, cases, revisions, at, monkeypatch):
    runs = flaky_history(suite, revisions[0], cases, at)

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "quarantine_candidates", broken)
    assert services.test_states_judge_safely(run=runs[-1]) is None
    runs[-1].refresh_from_db()
    assert any("quarantine" in w for w in runs[-1].warnings)


def test_the_analyze_task_judges_the_run_before_the_gate(policy, suite, cases, revisions, at):
    runs = flaky_history(suite, revisions[0], cases, at)

    run_analyze(runs[-1].pk)

    assert TestState.objects.get(case=cases[0]).state == "quarantined"


def test_a_replayed_history_quarantines_and_releases_at_the_runs_times(
    policy, suite, cases, revisions, at
):
    flaky_history(suite, revisions[0], cases, at)
    for n in range(8, 11):
        make_run(suite, dict.fromkeys(cases[:3], "passed"), revision=revisions[0], at=at(n))

    assert services.test_states_replay(suite_id=suite.pk) == 11

    changes = list(TestStateChange.objects.filter(case=cases[0]).order_by("at"))
    assert [(c.state, c.automatic) for c in changes] == [
        ("quarantined", True),
        ("active", True),
    ]
    # Quarantined once it had 5 results (run 4); runs 7, 8 and 9 were clean: released at 9.
    assert (changes[0].at, changes[1].at) == (at(4), at(9))
