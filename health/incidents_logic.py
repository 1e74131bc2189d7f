"""When a probe's incident opens and closes, as a pure state machine.

The Django incident service keeps an ``IncidentState`` per probe, feeds it each outcome in the
order the probes ran, and creates or closes an Incident row when ``step_incident`` says so.
Requiring several results in a row keeps one dropped packet from paging anyone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


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
