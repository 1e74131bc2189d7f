"""Reads for the revision page: who deployed it, its runs, and what changed since the last one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from runs.models import Deploy, Revision, TestRun
from runs.selectors.compare import CHANGES, diff_counts, latest_runs_of, outcome_diff, sides_of

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
    of each suite on each (lazy; newly failing first), except the passes of a suite that ran on
    one side only (see revision_diff). Two queries to find the runs."""
    return revision_diff(revision=revision, previous=previous).changes


@dataclass(frozen=True)
class RevisionDiff:
    changes: QuerySet[ChangedCase]
    # Passes of suites that ran on one revision only: "other change"s not among `changes`.
    one_sided_passes: int

    def counts(self) -> dict[str, int]:
        """How many tests changed, per kind of change. One query."""
        counts = diff_counts(self.changes)
        counts[CHANGES[2]] += self.one_sided_passes
        return counts


def revision_diff(*, revision: Revision, previous: Revision) -> RevisionDiff:
    """The changes from `previous` to `revision` (revision_changes) and what counting them needs.

    A suite that ran on one revision only (a 200,000-test suite run on this revision and not the
    last) has each of its tests on one side only: its failures are newly failing (or, on the
    previous side, other changes) and each pass an "other change". Its passes are counted from
    the run's stored counts instead of read one by one (seconds for such a suite)."""
    sides = sides_of(latest_runs_of(revision=previous), latest_runs_of(revision=revision))
    runs = list(
        TestRun.objects.filter(pk__in=[*sides.a, *sides.b]).values("pk", "suite_id", "passed")
    )
    suites_a = {r["suite_id"] for r in runs if r["pk"] in sides.a}
    suites_b = {r["suite_id"] for r in runs if r["pk"] in sides.b}
    one_sided = [r for r in runs if (r["suite_id"] in suites_a) != (r["suite_id"] in suites_b)]
    return RevisionDiff(
        changes=outcome_diff(sides, without_passes=[r["pk"] for r in one_sided]),
        one_sided_passes=sum(r["passed"] for r in one_sided),
    )
