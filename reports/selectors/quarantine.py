"""Quarantined tests for the summary: how many there are, and those that cover a capability
(a quarantined test proves nothing about the capability it maps to: a risk)."""

from __future__ import annotations

from django.urls import reverse

from reports.figures import CapabilityStatus, Figure, QuarantinedTest
from reports.models import Capability
from reports.patterns import PatternError
from reports.scope import Scope
from reports.selectors.capabilities import mapped_case_ids
from runs.models import State, TestState


def _quarantined(scope: Scope):
    """The tests quarantined now (an expired quarantine is not) in the scope's services."""
    rows = TestState.objects.filter(TestState.in_force(), state=State.QUARANTINED)
    return scope.filter(rows, "suite__service")


def quarantined_capability_tests(scope: Scope) -> list[QuarantinedTest]:
    """Quarantined tests that a capability maps to, by test key; one query for the quarantined
    tests and one per capability (configuration, not data, sets how many)."""
    states = {s.case_id: s for s in _quarantined(scope).select_related("case")}
    if not states:
        return []
    covers: dict[int, list[str]] = {}
    for capability in Capability.objects.prefetch_related("services").order_by("position", "name"):
        try:
            ids = mapped_case_ids(capability, scope).filter(pk__in=list(states))
            for case_id in ids.values_list("pk", flat=True):
                covers.setdefault(case_id, []).append(capability.name)
        except PatternError:  # the capability's status says why its patterns cannot be read
            continue
    return sorted(
        (
            QuarantinedTest(
                key=states[case_id].case.key,
                capabilities=", ".join(names),
                reason=states[case_id].reason,
                since=states[case_id].since,
                automatic=states[case_id].automatic,
                url=reverse("test-detail", args=[case_id]),
            )
            for case_id, names in covers.items()
        ),
        key=lambda t: t.key,
    )


def quarantine_figure(
    scope: Scope, covering: list[QuarantinedTest], capabilities: list[CapabilityStatus]
) -> Figure:
    """How many tests are quarantined now, and how many of them cover a capability."""
    count = _quarantined(scope).count()
    return Figure(
        key="tests.quarantined",
        label="Quarantined tests",
        text=f"{count} ({len(covering)} covering a capability)" if capabilities else str(count),
        value=count,
        unit="tests",
        n=count,
        enough=True,
        evidence_url=f"{reverse('reports:summary')}?{scope.query()}#section-quarantined",
        definition="tests quarantined now: they run, but their failures count neither in CI "
        "nor at the gate; each is a risk until it is fixed and active again",
    )
