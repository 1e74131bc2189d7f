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
        "analysis",
        "why",
        "actionitem",
        "analysisevent",
        "loop",
        "loopiteration",
    )
] + [("health", f"view_{model}") for model in ("probe", "proberesult", "incident")]

ROLE_PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    VIEWER: _READ,
    OPERATOR: [*_READ, ("runs", "trigger_deploy"), ("runs", "write_analysis")],
    MANAGER: [*_READ, ("runs", "export_report")],
}
