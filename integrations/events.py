"""The event vocabulary: what a webhook or a notification rule may subscribe to, as receivers
see the names, and how severe each is (notification rules route on it).

Names are part of the public contract (receivers switch on them): never rename one.
"""

from __future__ import annotations

RUN_FAILED = "run.failed"
GATE_FAILED = "gate.failed"
ROLLBACK_FINISHED = "rollback.finished"
INCIDENT_OPENED = "incident.opened"
INCIDENT_CLOSED = "incident.closed"
SLO_ALERT_OPENED = "slo_alert.opened"
SLO_ALERT_CLOSED = "slo_alert.closed"
SIGNATURE_NEW = "signature.new"
TEST_FLAKY = "test.flaky"
TEST_QUARANTINED = "test.quarantined"
TEST_RELEASED = "test.released"
LOOP_FINISHED = "loop.finished"
LOOP_GAVE_UP = "loop.gave_up"
ACTION_ITEM_OVERDUE = "action_item.overdue"
ANALYSIS_VERIFIED = "analysis.verified"
TEST = "webhook.test"  # sent by the "Send test event" button only, whatever a webhook wants
DIGEST = "notification.digest"  # a notification digest: several held events in one message

# kind -> what it means, for the forms and the docs page.
KINDS: dict[str, str] = {
    RUN_FAILED: "A test run finished failed or in error.",
    GATE_FAILED: "A revision's release-gate verdict (before traffic) failed.",
    ROLLBACK_FINISHED: "A rollback finished, succeeded or failed.",
    INCIDENT_OPENED: "A probe's failures opened an incident.",
    INCIDENT_CLOSED: "A probe's successes closed an incident.",
    SLO_ALERT_OPENED: "An SLO's error budget burns too fast (fast burn: critical, slow: warning).",
    SLO_ALERT_CLOSED: "An SLO's burn-rate alert closed: its short window burns slowly again.",
    SIGNATURE_NEW: "A run failed in a way its suite never failed before (new failure signatures).",
    TEST_FLAKY: "Tests became flaky: a flaky result in a run, none in the suite's window before.",
    TEST_QUARANTINED: "A test was quarantined, by a person or the suite's policy.",
    TEST_RELEASED: "A quarantined or disabled test was released (active again).",
    LOOP_FINISHED: "A deploy-and-test loop reached its goal (green).",
    LOOP_GAVE_UP: "A deploy-and-test loop used all its iterations without reaching its goal.",
    ACTION_ITEM_OVERDUE: "An open action item of an analysis passed its due date.",
    ANALYSIS_VERIFIED: "A done analysis was verified: its tests passed on a later revision.",
}

INFO, WARNING, CRITICAL = "info", "warning", "critical"
SEVERITIES = (INFO, WARNING, CRITICAL)  # in rising order: a rule's minimum compares on it

# kind -> its severity (a failed rollback is raised to critical by its emitter).
SEVERITY: dict[str, str] = {
    RUN_FAILED: WARNING,
    GATE_FAILED: CRITICAL,
    ROLLBACK_FINISHED: WARNING,
    INCIDENT_OPENED: CRITICAL,
    INCIDENT_CLOSED: INFO,
    SLO_ALERT_OPENED: CRITICAL,  # its emitter passes the alert's own severity
    SLO_ALERT_CLOSED: INFO,
    SIGNATURE_NEW: WARNING,
    TEST_FLAKY: INFO,
    TEST_QUARANTINED: INFO,
    TEST_RELEASED: INFO,
    LOOP_FINISHED: INFO,
    LOOP_GAVE_UP: WARNING,
    ACTION_ITEM_OVERDUE: WARNING,
    ANALYSIS_VERIFIED: INFO,
}


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else 0
