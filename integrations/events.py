"""The event vocabulary: what a webhook may subscribe to, as receivers see the names.

Names are part of the public contract (receivers switch on them): never rename one.
"""

from __future__ import annotations

RUN_FAILED = "run.failed"
GATE_FAILED = "gate.failed"
ROLLBACK_FINISHED = "rollback.finished"
INCIDENT_OPENED = "incident.opened"
INCIDENT_CLOSED = "incident.closed"
TEST = "webhook.test"  # sent by the "Send test event" button only, whatever a webhook wants

# kind -> what it means, for the form and the docs page.
KINDS: dict[str, str] = {
    RUN_FAILED: "A test run finished failed or in error.",
    GATE_FAILED: "A revision's release-gate verdict (before traffic) failed.",
    ROLLBACK_FINISHED: "A rollback finished, succeeded or failed.",
    INCIDENT_OPENED: "A probe's failures opened an incident.",
    INCIDENT_CLOSED: "A probe's successes closed an incident.",
}
