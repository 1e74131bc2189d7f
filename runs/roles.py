"""The roles: which Django permissions each group holds."""

from __future__ import annotations

VIEWER = "Viewer"
OPERATOR = "Operator"
MANAGER = "Manager"

# (app_label, codename) pairs; every role may read.
_READ = [
    ("runs", f"view_{model}")
    for model in (
        "service",
        "build",
        "revision",
        "deploy",
        "suite",
        "testrun",
        "testrunartifact",
        "testcase",
        "testresult",
        "failuresignature",
        "loop",
        "loopiteration",
    )
]
_READ += [
    ("analyses", f"view_{model}") for model in ("analysis", "why", "actionitem", "analysisevent")
]
_READ += [("health", f"view_{model}") for model in ("probe", "proberesult", "incident")]
_READ += [("health", f"view_{model}") for model in ("slo", "sloalert")]

ROLE_PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    VIEWER: _READ,
    OPERATOR: [
        *_READ,
        ("runs", "trigger_deploy"),
        ("analyses", "write_analysis"),
        ("runs", "pin_run"),
    ],
    MANAGER: [
        *_READ,
        ("runs", "export_report"),
        ("runs", "pin_run"),
        ("runs", "manage_retention"),
        ("integrations", "manage_integrations"),
        ("health", "manage_slos"),
    ],
}

# What an API token may do, and the permission each action needs. A token acts with its owner's
# current role: the API checks these permissions and the tokens page states them, from this list.
API_ACTIONS: dict[str, tuple[tuple[str, str], str]] = {
    "read": (("runs", "view_testrun"), "read runs and their results"),
    "upload": (("runs", "trigger_deploy"), "upload test results"),
    "register_build": (("runs", "trigger_deploy"), "register builds"),
    "rollback": (("runs", "trigger_deploy"), "roll services back to an earlier revision"),
    "deploy": (("runs", "trigger_deploy"), "start deploy-and-test"),
    "promote": (("runs", "trigger_deploy"), "promote a revision (despite the gate, with a reason)"),
    "change_test_state": (("runs", "trigger_deploy"), "quarantine, disable or re-activate tests"),
    "triage": (("runs", "trigger_deploy"), "triage failure signatures"),
    # Scheduled runs start against the serving revision on the workers: Operator work, as deploys.
    "schedule": (("runs", "trigger_deploy"), "set or pause suite schedules"),
    "pin": (("runs", "pin_run"), "pin or unpin runs"),
    "retention": (("runs", "manage_retention"), "set a suite's retention policy"),
}


def roles_holding(permission: tuple[str, str]) -> list[str]:
    """The roles whose groups hold `permission`, such as ["Operator"]."""
    return [role for role, pairs in ROLE_PERMISSIONS.items() if permission in pairs]
