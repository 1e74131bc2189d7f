"""A test's state: set by a person with a reason, kept as history, released on expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from runs.models import State, TestState, TestStateChange
from runs.selectors.states import suite_states
from runs.services import states as services
from runs.services.states import TestStateError
from runs.services.sweeper import runs_sweep


def test_a_test_without_a_state_row_is_active(cases):
    assert not TestState.objects.exists()
    assert suite_states(suite=cases[0].suite) == []


def test_quarantining_records_who_why_when_and_history(cases, operator):
    row = services.test_state_set(
        case=cases[0], state="quarantined", reason="flaky on CI", user=operator
    )
    assert (row.state, row.reason, row.by, row.automatic) == (
        "quarantined",
        "flaky on CI",
        operator,
        False,
    )
    change = TestStateChange.objects.get()
    assert (change.state, change.reason, change.by, change.case) == (
        "quarantined",
        "flaky on CI",
        operator,
        cases[0],
    )
    assert [s.case for s in suite_states(suite=cases[0].suite)] == [cases[0]]


@pytest.mark.parametrize("state", ["quarantined", "disabled"])
def test_it_refuses_a_quarantine_or_disable_without_a_reason(cases, state):
    with pytest.raises(TestStateError) as caught:
        services.test_state_set(case=cases[0], state=state, reason="  ")
    assert caught.value.field == "reason"
    assert not TestStateChange.objects.exists()


def test_it_refuses_an_expiry_in_the_past(cases):
    with pytest.raises(TestStateError) as caught:
        services.test_state_set(
            case=cases[0],
            state="disabled",
            reason="x",
            expires_at=timezone.now() - timedelta(minutes=1),
        )
    assert caught.value.field == "expires_at"


def test_every_change_is_kept_newest_first(cases, operator):
    services.test_state_set(case=cases[0], state="quarantined", reason="flaky", user=operator)
    services.test_state_set(case=cases[0], state="disabled", reason="blocks CI", user=operator)
    services.test_state_set(case=cases[0], state="active", user=operator)
    assert [c.state for c in TestStateChange.objects.filter(case=cases[0])] == [
        "active",
        "disabled",
        "quarantined",
    ]
    assert TestState.objects.get(case=cases[0]).state == "active"
    assert suite_states(suite=cases[0].suite) == []


def test_an_expired_quarantine_is_active_at_once_and_the_sweep_records_the_release(cases):
    now = timezone.now()
    services.test_state_set(
        case=cases[0],
        state="quarantined",
        reason="until the fix lands",
        expires_at=now + timedelta(hours=1),
        now=now,
    )
    later = now + timedelta(hours=2)
    row = TestState.objects.get(case=cases[0])
    assert row.effective(later) == State.ACTIVE
    assert suite_states(suite=cases[0].suite, now=later) == []

    assert services.test_states_expire(now=later) == 1
    assert services.test_states_expire(now=later) == 0
    row.refresh_from_db()
    assert (row.state, row.automatic) == ("active", True)
    newest = TestStateChange.objects.filter(case=cases[0]).first()
    assert newest is not None and newest.state == "active" and newest.automatic
    assert "expired" in newest.reason


def test_the_sweeper_records_expired_states(cases):
    now = timezone.now()
    services.test_state_set(
        case=cases[0], state="disabled", reason="x", expires_at=now + timedelta(seconds=1), now=now
    )

    runs_sweep(now=now + timedelta(minutes=1))

    assert TestState.objects.get(case=cases[0]).state == "active"
