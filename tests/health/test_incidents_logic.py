"""Opening and closing incidents from consecutive probe results."""

from __future__ import annotations

import pytest

from health.incidents_logic import IncidentState, step_incident


def feed(results: str, state: IncidentState | None = None, **thresholds: int) -> list[str]:
    """Feed results written as 'F' (failure) and 'S' (success); return the action of each."""
    state = state or IncidentState()
    actions = []
    for result in results:
        state, action = step_incident(state, result == "S", **thresholds)
        actions.append(action)
    return actions


def test_it_opens_exactly_at_the_failure_threshold_and_only_once() -> None:
    assert feed("FFFFF") == ["", "", "open", "", ""]


def test_it_honours_a_custom_failure_threshold() -> None:
    assert feed("FFFFF", fail_threshold=5) == ["", "", "", "", "open"]


def test_a_success_resets_the_failure_count() -> None:
    assert feed("FFSFFSFF") == [""] * 8
    assert feed("FFSFFF")[-1] == "open"


def test_it_closes_after_the_recovery_threshold_of_successes() -> None:
    assert feed("FFFSS") == ["", "", "open", "", "close"]


def test_a_failure_while_recovering_restarts_the_recovery() -> None:
    assert feed("FFFSFSS", recover_threshold=2) == ["", "", "open", "", "", "", "close"]


def test_it_can_open_again_after_closing() -> None:
    assert feed("FFFSSFFF") == ["", "", "open", "", "close", "", "", "open"]


def test_successes_without_an_incident_do_nothing() -> None:
    assert feed("SSSS") == ["", "", "", ""]


def test_the_state_counts_the_latest_run_and_the_input_is_not_changed() -> None:
    before = IncidentState(consecutive_failures=2)

    after, action = step_incident(before, False)

    assert action == "open"
    assert after == IncidentState(consecutive_failures=3, consecutive_successes=0, open=True)
    assert before == IncidentState(consecutive_failures=2)


def test_a_threshold_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        step_incident(IncidentState(), False, fail_threshold=0)
