"""The rows behind each figure of the summary, for its evidence page."""

from __future__ import annotations

from django.db.models import DurationField, ExpressionWrapper, Q
from django.db.models.functions import Coalesce

from reports.scope import Scope
from reports.selectors.delivery import FAILING, deploys_with_outcome, gate_overrides, restores
from reports.selectors.reliability import incidents_in_scope
from reports.selectors.testing import completed_runs
from reports.selectors.triage import triage_evidence

MAX_ROWS = 500


def evidence_rows(
    *,
    kind: str,
    scope: Scope,
    failing: bool = False,
    suite_id: int | None = None,
    failed: bool = False,
) -> tuple[list, int] | None:
    """(up to MAX_ROWS rows, how many there are) for a kind of evidence; None for an unknown one.

    Runs may be narrowed to the failing ones and to one suite, deploys to the failed ones.
    """
    if kind == "runs":
        # The suite's name reads its service's (Suite.__str__): joined, not one query per row.
        rows = completed_runs(scope).select_related("suite__service", "revision", "service")
        if failing:
            rows = rows.filter(status__in=FAILING)
        if suite_id is not None:
            rows = rows.filter(suite_id=suite_id)
        rows = rows.order_by("-created_at")
    elif kind == "deploys":
        rows = deploys_with_outcome(scope).select_related("service", "revision")
        if failed:
            rows = rows.filter(Q(first_run_status__in=FAILING) | Q(rolled_back=True))
        commit_time = Coalesce("revision__commit_time", "build__commit_time")
        deployed_at = Coalesce("finished_at", "created_at")
        rows = rows.annotate(
            lead=ExpressionWrapper(deployed_at - commit_time, DurationField())
        ).order_by("-created_at")
    elif kind == "overrides":
        rows = gate_overrides(scope).select_related("service", "revision", "requested_by")
        rows = rows.order_by("-created_at")
    elif kind == "restores":
        rows = restores(scope).select_related("suite__service").order_by("-created_at")
    elif kind == "triage":
        rows = triage_evidence(scope)
    elif kind == "incidents":
        rows = incidents_in_scope(scope).select_related("service", "probe").order_by("-opened_at")
    else:
        return None
    return list(rows[:MAX_ROWS]), rows.count()
