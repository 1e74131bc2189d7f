"""Build the business-value summary for a scope: one structure, read by every renderer."""

from __future__ import annotations

from django.utils import timezone

from reports.figures import Section, Summary
from reports.scope import Scope
from reports.selectors.capabilities import capability_statuses, risks
from reports.selectors.delivery import delivery_figures, deploys_over_time
from reports.selectors.learning import learning_figures
from reports.selectors.quarantine import quarantine_figure, quarantined_capability_tests
from reports.selectors.reliability import reliability_figures
from reports.selectors.testing import pass_rate_daily, test_figures
from reports.selectors.triage import triage_figure
from runs.models import Service


def summary_build(*, scope: Scope) -> Summary:
    """Every figure computed from stored data in SQL, with its evidence link and definition."""
    capabilities = capability_statuses(scope)
    quarantined = quarantined_capability_tests(scope)
    return Summary(
        start=scope.start,
        end=scope.end,
        services=scope.service_names,
        generated_at=timezone.now(),
        sections=[
            Section(
                "tests",
                "Tests",
                [
                    *test_figures(scope),
                    quarantine_figure(scope, quarantined, capabilities),
                    triage_figure(scope),
                ],
            ),
            Section("delivery", "Delivery", delivery_figures(scope)),
            Section("reliability", "Reliability", reliability_figures(scope)),
            Section("learning", "Learning", learning_figures(scope)),
        ],
        capabilities=capabilities,
        risks=risks(capabilities),
        pass_rate_daily=pass_rate_daily(scope),
        deploys=deploys_over_time(scope),
        query=scope.query(),
        quarantined=quarantined,
        demo_services=list(
            scope.filter(Service.objects.filter(is_demo=True), "pk").values_list("name", flat=True)
        ),
    )
