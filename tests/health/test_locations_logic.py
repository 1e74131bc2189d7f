"""k of n locations: a probe's incident opens when k of its locations fail at once (pure logic)."""

from __future__ import annotations

import random

import pytest

from health.incidents_logic import (
    IncidentState,
    LocationsState,
    locations_state_dump,
    locations_state_load,
    step_incident,
    step_locations,
)

EU_US_AP = ["eu", "us", "ap"]


def rounds(columns: dict[str, str], *, quorum: int, **thresholds: int) -> list[str]:
    """Feed one result per location per round ('F' failure, 'S' success, ' ' no result), the
    locations of a round in ``columns``' order; return the actions of each round, joined."""
    state = LocationsState()
    length = max(len(column) for column in columns.values())
    actions = []
    for i in range(length):
        done = []
        for label, column in columns.items():
            if i < len(column) and column[i] != " ":
                state, action = step_locations(
                    state,
                    label,
                    column[i] == "S",
                    locations=list(columns),
                    quorum=quorum,
                    **thresholds,
                )
                done.append(action)
        actions.append("".join(done))
    return actions


def test_two_of_three_locations_failing_open_the_incident_in_the_round_the_second_one_fails():
    actions = rounds({"eu": "FFFFF", "us": "SSFFF", "ap": "SSSSS"}, quorum=2)

    # eu is failing from round 3, us from round 5: that round opens, once
    assert actions == ["", "", "", "", "open"]


def test_one_of_three_locations_failing_never_opens_a_quorum_of_two():
    actions = rounds({"eu": "F" * 30, "us": "S" * 30, "ap": "S" * 30}, quorum=2)

    assert actions == [""] * 30


def test_failures_that_alternate_between_locations_are_no_run_at_any_location():
    # each location fails twice in a row at most: none reaches three, so nothing opens
    actions = rounds({"eu": "FFSFFS", "us": "SFFSFF", "ap": "FSFFSF"}, quorum=2)

    assert actions == [""] * 6


def test_it_closes_as_soon_as_fewer_than_k_locations_are_failing():
    # eu and us fail from the start (open in round 3); us recovers with two successes in a
    # row (rounds 5 and 6) while eu keeps failing: 1 of 3 is under the quorum of 2
    actions = rounds({"eu": "FFFFFFFF", "us": "FFFFSSFF", "ap": "SSSSSSSS"}, quorum=2)

    assert actions == ["", "", "open", "", "", "close", "", ""]


def test_one_location_alone_can_open_a_quorum_of_one_of_three():
    actions = rounds({"eu": "FFF", "us": "SSS", "ap": "SSS"}, quorum=1)

    assert actions == ["", "", "open"]


def test_results_from_a_location_the_probe_no_longer_lists_do_not_vote():
    state = LocationsState()
    for _ in range(5):
        state, action = step_locations(state, "old", False, locations=["eu", "us"], quorum=1)
        assert action == ""
    assert state.locations["old"].open and state.failing(["eu", "us"]) == []


def test_one_location_with_a_quorum_of_one_behaves_exactly_like_a_single_probe():
    # given random runs of results, fed both ways
    rng = random.Random(19)
    for _ in range(50):
        oks = [rng.random() < 0.5 for _ in range(40)]
        single, located = IncidentState(), LocationsState()
        for ok in oks:
            single, expected = step_incident(single, ok, fail_threshold=3, recover_threshold=2)
            located, action = step_locations(
                located, "default", ok, locations=["default"], fail_threshold=3
            )
            # then every action and count is the same
            assert action == expected
            assert located.locations["default"] == single
            assert located.open == single.open


def test_a_quorum_outside_one_to_n_is_refused():
    for quorum in (0, 4):
        with pytest.raises(ValueError, match="quorum must be between 1 and the 3 locations"):
            step_locations(LocationsState(), "eu", False, locations=EU_US_AP, quorum=quorum)


def test_the_stored_state_round_trips():
    state = LocationsState(
        locations={"eu": IncidentState(3, 0, True), "us": IncidentState(0, 4, False)}, open=True
    )

    stored = locations_state_dump(state)

    assert stored == {"eu": [3, 0, True], "us": [0, 4, False]}
    assert locations_state_load(stored, open=True) == state
