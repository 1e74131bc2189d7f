"""Reads for retention: a suite's policy (its own or the default), the runs it lets go, the runs
kept whatever the policy says, and the record of past passes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.db.models import F, Q

from runs.models import (
    Loop,
    LoopIteration,
    RetentionPass,
    RetentionPolicy,
    Suite,
    TestRun,
    TestState,
    TestStateChange,
    Verdict,
)

# Run ids read per query while walking a suite's expired runs.
RUN_PAGE = 1000

KEPT_ALWAYS = (
    "Never deleted: pinned runs, runs in progress, the suite's newest run, and runs kept as "
    "evidence (of an analysis, of the gate verdict of a service's serving revision, of a loop "
    "still going, of the automatic quarantine or release of a test still held)."
)


@dataclass(frozen=True)
class Policy:
    """What a suite keeps: runs younger than keep_days and its newest keep_runs runs (None: no
    limit of that kind; both None: everything). `own` is False for the settings default."""

    keep_days: int | None
    keep_runs: int | None
    own: bool

    @property
    def keeps_forever(self) -> bool:
        return self.keep_days is None and self.keep_runs is None

    def describe(self) -> str:
        """One sentence for the suite page."""
        if self.keeps_forever:
            kept = "Keeps every run"
        else:
            parts = []
            if self.keep_days is not None:
                parts.append(f"runs of the last {self.keep_days} day{'s' * (self.keep_days != 1)}")
            if self.keep_runs is not None:
                parts.append(f"the newest {self.keep_runs} run{'s' * (self.keep_runs != 1)}")
            kept = "Keeps " + " and ".join(parts) + "; older runs are deleted nightly"
        source = "" if self.own else " (the installation's default)"
        return f"{kept}{source}."


def default_policy() -> Policy:
    """The policy of a suite without its own: settings.RETENTION_DAYS / RETENTION_RUNS."""
    return Policy(
        keep_days=settings.RETENTION_DAYS or None,
        keep_runs=settings.RETENTION_RUNS or None,
        own=False,
    )


def policy_for(*, suite_id: int) -> Policy:
    row = RetentionPolicy.objects.filter(suite_id=suite_id).first()
    if row is None:
        return default_policy()
    return Policy(keep_days=row.keep_days, keep_runs=row.keep_runs, own=True)


def policies_in_force() -> Iterator[tuple[int, Policy]]:
    """(suite id, policy) for every suite whose policy may delete something."""
    own = {
        row.suite_id: Policy(keep_days=row.keep_days, keep_runs=row.keep_runs, own=True)
        for row in RetentionPolicy.objects.all()
    }
    default = default_policy()
    suite_ids = Suite.objects.order_by("pk").values_list("pk", flat=True)
    if default.keeps_forever:
        suite_ids = suite_ids.filter(pk__in=list(own))
    for suite_id in suite_ids:
        policy = own.get(suite_id, default)
        if not policy.keeps_forever:
            yield suite_id, policy


def evidence_run_ids() -> set[int]:
    """Runs other records show as their evidence: kept whatever the policy says.

    An analysis (its run, the run that verified it), the gate verdict of each service's serving
    revision, the iterations of loops still going, and the runs named by the automatic
    quarantine or release of each test still held. Everything else pointing at a run is set to
    null when the run goes (each of those links is nullable and its page says so)."""
    analysis = apps.get_model("analyses", "Analysis")
    kept: set[int] = set()
    for row in analysis.objects.filter(Q(run__isnull=False) | Q(verified_by_run__isnull=False)):
        kept.update(pk for pk in (row.run_id, row.verified_by_run_id) if pk is not None)
    kept.update(
        Verdict.objects.filter(
            run__isnull=False, revision__service__current_revision=F("revision")
        ).values_list("run_id", flat=True)
    )
    kept.update(
        LoopIteration.objects.filter(loop__status__in=Loop.ACTIVE, run__isnull=False).values_list(
            "run_id", flat=True
        )
    )
    held = TestState.objects.filter(TestState.in_force(), automatic=True).values("case_id")
    latest: dict[int, dict] = {}
    for change in TestStateChange.objects.filter(case_id__in=held, automatic=True).order_by(
        "at", "pk"
    ):
        latest[change.case_id] = change.evidence or {}
    for evidence in latest.values():
        kept.update(int(pk) for pk in evidence.get("run_ids", []) if str(pk).isdigit())
    return kept


def expired_runs(*, suite_id: int, policy: Policy, now: datetime) -> Iterator[list[int]]:
    """The suite's runs its policy lets go, oldest id first, in pages of RUN_PAGE ids; never a
    pinned run, a run in progress or the suite's newest run (evidence is left to the caller)."""
    runs = TestRun.objects.filter(suite_id=suite_id)
    newest = runs.order_by("-created_at", "-pk").values_list("pk", "created_at").first()
    if newest is None or policy.keeps_forever:
        return
    expired = runs.filter(pinned=False).exclude(status__in=TestRun.ACTIVE).exclude(pk=newest[0])
    if policy.keep_days is not None:
        expired = expired.filter(created_at__lt=now - timedelta(days=policy.keep_days))
    if policy.keep_runs is not None:
        # Pinned runs are kept besides the newest N, not among them.
        edge = (
            runs.filter(pinned=False)
            .order_by("-created_at", "-pk")
            .values_list("pk", "created_at")[policy.keep_runs - 1 : policy.keep_runs]
            .first()
        )
        if edge is None:
            return
        edge_pk, edge_at = edge
        expired = expired.filter(Q(created_at__lt=edge_at) | Q(created_at=edge_at, pk__lt=edge_pk))
    after = 0
    while True:
        page = list(
            expired.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:RUN_PAGE]
        )
        if not page:
            return
        yield page
        after = page[-1]


def recent_passes(limit: int = 5) -> list[RetentionPass]:
    return list(RetentionPass.objects.all()[:limit])
