"""Reads for the revision page: who deployed it, its runs, and what changed since the last one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from runs.models import Deploy, Revision, TestRun
from runs.selectors.compare import latest_runs_of, outcome_diff, sides_of

if TYPE_CHECKING:
    from runs.selectors.compare import ChangedCase


def revision_get(*, pk: int) -> Revision:
    return Revision.objects.select_related("service").get(pk=pk)


def revision_deploy(*, revision: Revision) -> Deploy | None:
    """The deploy that created the revision (the latest one, if it was deployed twice); a
    rollback to it created nothing."""
    return (
        Deploy.objects.filter(revision=revision)
        .exclude(trigger=Deploy.Trigger.ROLLBACK)
        .select_related("requested_by")
        .order_by("-created_at")
        .first()
    )


def revision_runs(*, revision: Revision) -> QuerySet[TestRun]:
    return revision.runs.select_related("suite", "revision").order_by("-created_at", "-pk")


def previous_revision(*, revision: Revision) -> Revision | None:
    """The service's revision created just before this one."""
    return (
        Revision.objects.filter(service_id=revision.service_id)
        .filter(
            Q(created_at__lt=revision.created_at)
            | Q(created_at=revision.created_at, pk__lt=revision.pk)
        )
        .order_by("-created_at", "-pk")
        .first()
    )


def revision_changes(*, revision: Revision, previous: Revision) -> QuerySet[ChangedCase]:
    """Tests whose outcome changed from `previous` to `revision`, comparing the latest finished run
    of each suite on each (lazy; newly failing first). One query to find the runs."""
    sides = sides_of(latest_runs_of(revision=previous), latest_runs_of(revision=revision))
    return outcome_diff(sides)
