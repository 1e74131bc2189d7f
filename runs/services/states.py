"""Writes of test states: a person's change, the quarantine policy's, expiry, and the snapshot
of quarantined failures on a run."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from runs.integrations_seam import test_state_changed
from runs.models import State, TestCase, TestResult, TestRun, TestState, TestStateChange
from runs.selectors.states import (
    BROKEN_RUNS,
    FLAKE_SCORE_DEFINITION,
    expired_states,
    quarantine_candidates,
    quarantine_policy_for,
    release_candidates,
)

logger = logging.getLogger(__name__)

FAILING = ("failed", "error")


class TestStateError(ValueError):
    """A change that cannot be made, with the field at fault."""

    __test__ = False

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def test_state_set(
    *,
    case: TestCase,
    state: str,
    reason: str = "",
    user=None,
    expires_at: datetime | None = None,
    automatic: bool = False,
    evidence: dict | None = None,
    now: datetime | None = None,
) -> TestState:
    """Set the test's state and record the change. A quarantine or disable needs a reason; an
    expiry must lie in the future and only applies to them."""
    now = now or timezone.now()
    reason = reason.strip()
    if state not in State.values:
        raise TestStateError(
            f"state must be one of {', '.join(State.values)}, not {state!r}.", field="state"
        )
    if state != State.ACTIVE and not reason:
        raise TestStateError(f"Say why the test is {state}: a reason is required.", field="reason")
    if state == State.ACTIVE:
        expires_at = None
    elif expires_at is not None and expires_at <= now:
        raise TestStateError(
            "expires_at must lie in the future; leave it empty for no expiry.", field="expires_at"
        )
    by = user if user is not None and user.is_authenticated else None
    with transaction.atomic():
        current = TestState.objects.filter(case=case).first()
        before = current.effective(now) if current is not None else State.ACTIVE
        row, _ = TestState.objects.update_or_create(
            case=case,
            defaults={
                "suite_id": case.suite_id,
                "state": state,
                "reason": reason,
                "by": by,
                "since": now,
                "expires_at": expires_at,
                "automatic": automatic,
            },
        )
        TestStateChange.objects.create(
            case=case,
            state=state,
            reason=reason,
            by=by,
            at=now,
            expires_at=expires_at,
            automatic=automatic,
            evidence=evidence or {},
        )
        # Notifications and webhooks: test.quarantined / test.released (runs.integrations_seam)
        test_state_changed(
            case=case, state=state, before=before, reason=reason, automatic=automatic
        )
    return row


def test_states_expire(*, now: datetime | None = None, suite_id: int | None = None) -> int:
    """Record the release of every quarantine or disable whose expiry has passed (they already
    count as active from their expiry on); returns how many."""
    now = now or timezone.now()
    released = 0
    for row in expired_states(now=now, suite_id=suite_id):
        expired_at = row.expires_at or now  # never None: expired_states filters on it
        with transaction.atomic():
            # Conditional: a concurrent sweep, or a person's change, wins.
            if not TestState.objects.filter(
                pk=row.pk, state=row.state, expires_at=row.expires_at
            ).update(
                state=State.ACTIVE,
                reason="",
                by=None,
                since=expired_at,
                expires_at=None,
                automatic=True,
            ):
                continue
            reason = f"The {row.state} state set on {row.since:%Y-%m-%d %H:%M} expired."
            TestStateChange.objects.create(
                case_id=row.pk,
                state=State.ACTIVE,
                reason=reason,
                at=expired_at,
                automatic=True,
                evidence={"expired": row.state, "expires_at": expired_at.isoformat()},
            )
            test_state_changed(
                case=row.case, state=State.ACTIVE, before=row.state, reason=reason, automatic=True
            )
            released += 1
    return released


def run_quarantine_mark(*, run_id: int, suite_id: int, now: datetime | None = None) -> int:
    """Mark the run's failures of tests quarantined now, and store how many of its results are
    marked on the run. Three statements, whatever the run's size: only failing rows of
    quarantined tests change, and a mark is never taken back."""
    quarantined = TestState.objects.filter(
        TestState.in_force(now), suite_id=suite_id, state=State.QUARANTINED
    ).values("case_id")
    TestResult.objects.filter(run_id=run_id, outcome__in=FAILING, case_id__in=quarantined).update(
        quarantined=True
    )
    marked = TestResult.objects.filter(run_id=run_id, quarantined=True).count()
    TestRun.objects.filter(pk=run_id).update(quarantined_failures=marked)
    return marked


@dataclass
class Judged:
    quarantined: list[int] = field(default_factory=list)
    released: list[int] = field(default_factory=list)
    expired: int = 0


def test_states_judge(*, run: TestRun, now: datetime | None = None) -> Judged:
    """After a run is imported: record expired states, then let the suite's policy quarantine
    flaky tests and release clean ones, each change with its evidence."""
    now = now or timezone.now()
    judged = Judged(expired=test_states_expire(now=now, suite_id=run.suite_id))
    if run.status not in (TestRun.Status.PASSED, TestRun.Status.FAILED):
        return judged
    if run.failed + run.errors and not run.quarantined_failures:
        # Results that did not come through the importer (a live stream ended without a
        # report, seeded history) are marked here, before the policy changes any state.
        run.quarantined_failures = run_quarantine_mark(
            run_id=run.pk, suite_id=run.suite_id, now=now
        )
    policy = quarantine_policy_for(suite_id=run.suite_id)
    if policy.auto_quarantine:
        candidates = quarantine_candidates(policy=policy, now=now)
        by_id = TestCase.objects.in_bulk([c.score.case_id for c in candidates])
        for candidate in candidates:
            s = candidate.score
            test_state_set(
                case=by_id[s.case_id],
                state=State.QUARANTINED,
                reason=(
                    f"Flaky: flake score {s.score:.2f} (≥ {policy.flake_threshold:.2f}): "
                    f"{s.flips} flips and {s.retries} passes on retry in {s.seen} results."
                ),
                automatic=True,
                now=now,
                evidence={
                    "flake_score": round(s.score, 4),
                    "flips": s.flips,
                    "retries": s.retries,
                    "seen": s.seen,
                    "threshold": policy.flake_threshold,
                    "window": policy.window,
                    "run_ids": candidate.run_ids,
                    "judged_on_run": run.pk,
                    "definition": FLAKE_SCORE_DEFINITION.format(
                        window=policy.window,
                        threshold=policy.flake_threshold,
                        min_results=policy.min_results,
                        broken=BROKEN_RUNS,
                    ),
                },
            )
            judged.quarantined.append(s.case_id)
    if policy.auto_release:
        releases = release_candidates(policy=policy, now=now)
        by_id = TestCase.objects.in_bulk([r.state.case_id for r in releases])
        for release in releases:
            test_state_set(
                case=by_id[release.state.case_id],
                state=State.ACTIVE,
                reason=f"Released: {len(release.run_ids)} consecutive clean runs.",
                automatic=True,
                now=now,
                evidence={
                    "clean_runs": policy.release_after,
                    "run_ids": release.run_ids,
                    "judged_on_run": run.pk,
                },
            )
            judged.released.append(release.state.case_id)
    return judged


def test_states_judge_safely(*, run: TestRun) -> Judged | None:
    """test_states_judge, but a failure is logged and noted on the run, never raised."""
    try:
        return test_states_judge(run=run)
    except Exception as exc:
        logger.exception("run %s: judging test states failed", run.pk)
        warnings = [*run.warnings, f"Judging test states (quarantine) failed ({exc!r})."]
        TestRun.objects.filter(pk=run.pk).update(warnings=warnings)
        run.warnings = warnings
        return None


def test_states_judge_run(*, run_id: int) -> Judged | None:
    """test_states_judge_safely for the run with this id (the analyze task after an upload)."""
    run = TestRun.objects.filter(pk=run_id).first()
    return test_states_judge_safely(run=run) if run is not None else None


def test_states_replay(*, suite_id: int) -> int:
    """Judge each finished run of the suite in order, as at its own time (the demo's seeded
    history, where a flaky test is quarantined and released). Returns how many runs."""
    runs = TestRun.objects.filter(
        suite_id=suite_id, status__in=(TestRun.Status.PASSED, TestRun.Status.FAILED)
    ).order_by("created_at", "pk")
    count = 0
    for run in runs.iterator():
        test_states_judge(run=run, now=run.created_at)
        count += 1
    return count
