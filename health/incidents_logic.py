"""When a probe's incident opens and closes, as a pure state machine.

The Django incident service keeps an ``IncidentState`` per probe, feeds it each outcome in the
order the probes ran, and creates or closes an Incident row when ``step_incident`` says so.
Requiring several results in a row keeps one dropped packet from paging anyone.

A probe run from several locations (``step_locations``) keeps that state per location, and its
incident opens only when k of its n locations are failing at once (one location's network trouble
is not the service's outage) and closes when fewer than k are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass
class IncidentState:
    """Counts of the latest run of failures or successes, and whether an incident is open."""

    consecutive_failures: int = 0
    consecutive_successes: int = 0
    open: bool = False


def step_incident(
    state: IncidentState, ok: bool, *, fail_threshold: int = 3, recover_threshold: int = 2
) -> tuple[IncidentState, str]:
    """Apply one probe result to ``state`` and return the new state and the action to take.

    The action is ``'open'`` on the ``fail_threshold``-th failure in a row while no incident is
    open, ``'close'`` on the ``recover_threshold``-th success in a row while one is open, and
    ``''`` otherwise. A success resets the failure count and a failure resets the success count.
    ``state`` itself is left unchanged.
    """
    if fail_threshold < 1 or recover_threshold < 1:
        raise ValueError(
            f"thresholds must be at least 1, got fail_threshold={fail_threshold} "
            f"and recover_threshold={recover_threshold}"
        )
    if ok:
        new = replace(
            state, consecutive_failures=0, consecutive_successes=state.consecutive_successes + 1
        )
        if new.open and new.consecutive_successes >= recover_threshold:
            return replace(new, open=False), "close"
        return new, ""

    new = replace(
        state, consecutive_failures=state.consecutive_failures + 1, consecutive_successes=0
    )
    if not new.open and new.consecutive_failures >= fail_threshold:
        return replace(new, open=True), "open"
    return new, ""


@dataclass
class LocationsState:
    """Per location, the latest run of failures or successes and whether that location is
    *failing* (its ``IncidentState.open``); and whether the probe's incident is open."""

    locations: dict[str, IncidentState] = field(default_factory=dict)
    open: bool = False

    def failing(self, among: Sequence[str]) -> list[str]:
        """The locations of ``among`` that are failing now, in ``among``'s order."""
        return [label for label in among if label in self.locations and self.locations[label].open]


def step_locations(
    state: LocationsState,
    location: str,
    ok: bool,
    *,
    locations: Sequence[str],
    quorum: int = 1,
    fail_threshold: int = 3,
    recover_threshold: int = 2,
) -> tuple[LocationsState, str]:
    """Apply one result from ``location`` and return the new state and the action to take.

    A location becomes *failing* on its ``fail_threshold``-th failure in a row and stops failing
    on its ``recover_threshold``-th success in a row (``step_incident`` per location). The
    incident opens (``'open'``) when ``quorum`` of the probe's ``locations`` are failing at once,
    and closes (``'close'``) as soon as fewer than ``quorum`` are. Results from a location not in
    ``locations`` (a worker left over after the probe was changed) update that location's counts
    but never vote. With one location and a quorum of 1 this is exactly ``step_incident``.
    ``state`` itself is left unchanged.
    """
    if not 1 <= quorum <= len(locations):
        raise ValueError(
            f"quorum must be between 1 and the {len(locations)} locations, got {quorum}"
        )
    previous = state.locations.get(location, IncidentState())
    mine, _ = step_incident(
        previous, ok, fail_threshold=fail_threshold, recover_threshold=recover_threshold
    )
    new = LocationsState(locations={**state.locations, location: mine}, open=state.open)
    failing = len(new.failing(locations))
    if not new.open and failing >= quorum:
        return replace(new, open=True), "open"
    if new.open and failing < quorum:
        return replace(new, open=False), "close"
    return new, ""


def locations_state_load(stored: Mapping[str, Any], *, open: bool) -> LocationsState:
    """The state kept in ``Probe.location_states`` (``{label: [failures, successes, failing]}``)."""
    return LocationsState(
        locations={
            label: IncidentState(
                consecutive_failures=int(row[0]),
                consecutive_successes=int(row[1]),
                open=bool(row[2]),
            )
            for label, row in stored.items()
        },
        open=open,
    )


def locations_state_dump(state: LocationsState) -> dict[str, list[int | bool]]:
    return {
        label: [s.consecutive_failures, s.consecutive_successes, s.open]
        for label, s in sorted(state.locations.items())
    }
