"""axe-core (bundled by axe-playwright-python) in Chromium: every rule on, violations by impact."""

from __future__ import annotations

from axe_playwright_python.base import AXE_SCRIPT

__all__ = ["AXE_SCRIPT", "BLOCKING", "axe_violations", "describe"]

BLOCKING = ("serious", "critical")


def axe_violations(page) -> list[dict]:
    """axe-core's violations of the page as it is now, every rule enabled."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT)
    return page.evaluate("axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)")


def describe(violation: dict) -> str:
    """One violation as a person fixes it: rule, impact, where, and axe's help."""
    targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:4])
    more = len(violation["nodes"]) - 4
    return (
        f"{violation['id']} ({violation['impact']}, {len(violation['nodes'])} elements): "
        f"{violation['help']} — {targets}{f' and {more} more' if more > 0 else ''} "
        f"[{violation['helpUrl']}]"
    )
