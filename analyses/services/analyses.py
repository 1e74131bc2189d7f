"""Writes for five-whys analyses: start one, draft them after an import, verify and reopen them."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from analyses.models import ActionItem, Analysis, AnalysisEvent
from analyses.selectors.analyses import (
    FAILING,
    failing_results_of_run,
    failure_history,
    signatures_of_run,
)
from analyses.selectors.owners import analysis_owners
from integrations.services.events import action_item_overdue, analysis_verified
from integrations.services.notifications import Owners
from runs.models import FailureSignature, Revision, TestCase, TestResult, TestRun

logger = logging.getLogger(__name__)

_MAX_TESTS_LISTED = 20


class NothingToAnalyze(Exception):
    """The starting point has no failure to explain."""


class AnalysisExists(Exception):
    """The signature already has an analysis that is not verified yet."""

    def __init__(self, analysis: Analysis):
        super().__init__(
            f"Analysis #{analysis.pk} already covers this failure; "
            "it is shown instead of a new one."
        )
        self.analysis = analysis


def analysis_event_record(
    *, analysis: Analysis, who, what: str, details: Iterable[str] = ()
) -> AnalysisEvent:
    """Keep who changed the analysis, when, and what (one line, with details when several)."""
    what = what if len(what) <= 300 else what[:299] + "…"
    return AnalysisEvent.objects.create(
        analysis=analysis, who=who, what=what, details=list(details)
    )


def _problem_text(
    *, run: TestRun, results: list[TestResult], signature: FailureSignature | None
) -> str:
    """The prefilled problem statement: tests, error, revision, first seen, how often since."""
    first_case = results[0].case if results else None
    history = failure_history(signature=signature, case=None if signature else first_case)
    revision = run.revision.name if run.revision else "no recorded revision"
    lines = [
        f"{len(results)} test(s) failed in run #{run.pk} of suite {run.suite.name} "
        f"on revision {revision}.",
        "",
        "Tests:",
    ]
    lines += [f"- {r.case.key} ({r.outcome})" for r in results[:_MAX_TESTS_LISTED]]
    if len(results) > _MAX_TESTS_LISTED:
        lines.append(f"- … and {len(results) - _MAX_TESTS_LISTED} more")
    error = (signature.example if signature else "") or (results[0].message if results else "")
    if error:
        lines += ["", f"Error: {error.strip()[:1000]}"]
    if history.first_seen_at:
        first_rev = f" on revision {history.first_revision}" if history.first_revision else ""
        lines += [
            "",
            f"First seen {history.first_seen_at:%Y-%m-%d %H:%M} UTC in run "
            f"#{history.first_run_id}{first_rev}; failed {history.failing_results} time(s) "
            f"in {history.failing_runs} run(s) since.",
        ]
    return "\n".join(lines)


def _title(*, signature: FailureSignature | None, results: list[TestResult]) -> str:
    if signature is not None:
        return f"{signature.get_kind_display()}: {signature.normalized.strip()}"[:200]
    if len(results) == 1:
        return f"{results[0].case.name} fails"[:200]
    return f"{len(results)} tests fail"


def _create(
    *,
    run: TestRun,
    results: list[TestResult],
    signature: FailureSignature | None,
    user,
    how: str,
) -> Analysis:
    """Insert the analysis with its links and its first event (caller holds the transaction)."""
    analysis = Analysis.objects.create(
        service=run.service,
        title=_title(signature=signature, results=results),
        problem=_problem_text(run=run, results=results, signature=signature),
        signature=signature,
        run=run,
        revision=run.revision,
        created_by=user,
    )
    analysis.cases.set({r.case_id for r in results})
    analysis_event_record(analysis=analysis, who=user, what=how)
    return analysis


def _existing_for(signature: FailureSignature | None) -> Analysis | None:
    if signature is None:
        return None
    return signature.analyses.filter(status__in=Analysis.UNRESOLVED).first()


def analysis_start_from_result(*, result: TestResult, user) -> Analysis:
    """Start an analysis of one failing result (and the other failures of its signature).

    Raises NothingToAnalyze for a result that did not fail, AnalysisExists when its signature is
    already being analyzed.
    """
    if result.outcome not in FAILING:
        raise NothingToAnalyze(f"{result.case.key} did not fail in run #{result.run_id}.")
    run = result.run
    signature = result.signature
    if existing := _existing_for(signature):
        raise AnalysisExists(existing)
    results = list(failing_results_of_run(run=run, signature=signature)) if signature else [result]
    with transaction.atomic():
        return _create(
            run=run,
            results=results,
            signature=signature,
            user=user,
            how=f"Started from the failure of {result.case.key} in run #{run.pk}",
        )


def analysis_start_from_signature(*, signature: FailureSignature, user) -> Analysis:
    """Start an analysis of a signature, prefilled from its latest failing run."""
    if existing := _existing_for(signature):
        raise AnalysisExists(existing)
    failing = signature.results.select_related("run__suite", "run__revision", "run__service")
    latest = failing.order_by("-run_id").first()
    if latest is None:
        raise NothingToAnalyze("No failure carries this signature any more.")
    results = list(failing_results_of_run(run=latest.run, signature=signature))
    with transaction.atomic():
        return _create(
            run=latest.run,
            results=results,
            signature=signature,
            user=user,
            how=f"Started from failure signature #{signature.pk}",
        )


def analysis_start_from_run(*, run: TestRun, user) -> Analysis:
    """Start one analysis of all the run's failures; linked to their signature when they share one
    that is not being analyzed yet."""
    results = list(failing_results_of_run(run=run))
    if not results:
        raise NothingToAnalyze(f"Run #{run.pk} has no failing tests to analyze.")
    signature_ids = {r.signature_id for r in results}
    signature = None
    if len(signature_ids) == 1 and None not in signature_ids:
        candidate = results[0].signature
        signature = None if _existing_for(candidate) else candidate
    with transaction.atomic():
        return _create(
            run=run,
            results=results,
            signature=signature,
            user=user,
            how=f"Started from run #{run.pk}",
        )


def analysis_reopen(*, analysis: Analysis, reason: str, user=None) -> None:
    """Send a verified analysis back to review, saying why; the verification stays in history."""
    analysis.status = Analysis.Status.IN_REVIEW
    analysis.reopened_at = timezone.now()
    analysis.reopened_reason = reason
    analysis.verified_by_run = None
    analysis.verified_at = None
    analysis.save(
        update_fields=[
            "status",
            "reopened_at",
            "reopened_reason",
            "verified_by_run",
            "verified_at",
            "updated_at",
        ]
    )
    analysis_event_record(analysis=analysis, who=user, what=f"Reopened: {reason}")


def analysis_drafts_for_run(*, run: TestRun) -> list[Analysis]:
    """Open a draft for each signature of the run's failures that is not being analyzed.

    Never a duplicate: a partial unique index allows one unresolved analysis per signature, so a
    concurrent call loses the race with an IntegrityError that is taken as "already there".
    A signature whose last analysis was verified reopens that analysis instead of a new draft.
    Returns the drafts created by this call.
    """
    created: list[Analysis] = []
    unresolved = Analysis.objects.filter(signature=OuterRef("pk"), status__in=Analysis.UNRESOLVED)
    signatures = (
        signatures_of_run(run=run)
        .annotate(analyzed=Exists(unresolved))
        .filter(analyzed=False)
        .select_related("suite")
    )
    for signature in signatures:
        try:
            with transaction.atomic():
                verified = (
                    signature.analyses.select_for_update()
                    .filter(status=Analysis.Status.VERIFIED)
                    .order_by("-verified_at", "-pk")
                    .first()
                )
                if verified is not None:
                    analysis_reopen(
                        analysis=verified,
                        reason=f"its failure signature was seen again in run #{run.pk}.",
                    )
                    continue
                results = list(failing_results_of_run(run=run, signature=signature))
                created.append(
                    _create(
                        run=run,
                        results=results,
                        signature=signature,
                        user=None,
                        how=f"Drafted by the analyze step for run #{run.pk}",
                    )
                )
        except IntegrityError:
            logger.info("run %s: signature %s already has an analysis", run.pk, signature.pk)
    return created


def _later_revision_filter(revision: Revision) -> Q:
    """Analyses whose failing revision is older than the run's `revision` (or, without one, made
    before it)."""
    created = revision.created_at
    return Q(revision__created_at__lt=created) | Q(revision__isnull=True, created_at__lt=created)


def analyses_verify_for_run(*, run: TestRun) -> None:
    """Verify done analyses whose every linked test passed in this run of a later revision, and
    reopen verified analyses whose linked tests failed in this run.

    Two set-based queries pick the analyses; only the rows that change are written.
    """
    through = Analysis.cases.through
    passed_here = TestResult.objects.filter(run=run, outcome="passed").values("case_id")
    failed_here = TestResult.objects.filter(run=run, outcome__in=FAILING)
    analyses = Analysis.objects.filter(service_id=run.service_id)
    run_revision = run.revision if run.revision_id is not None else None

    if run_revision is not None:
        has_cases = through.objects.filter(analysis_id=OuterRef("pk"))
        missing = has_cases.exclude(testcase_id__in=passed_here)
        to_verify = (
            analyses.filter(status=Analysis.Status.DONE)
            .filter(_later_revision_filter(run_revision))
            .filter(Exists(has_cases))
            .exclude(Exists(missing))
        )
        with transaction.atomic():
            for analysis in to_verify.select_for_update(of=("self",)):
                analysis.status = Analysis.Status.VERIFIED
                analysis.verified_by_run = run
                analysis.verified_at = timezone.now()
                analysis.save(
                    update_fields=["status", "verified_by_run", "verified_at", "updated_at"]
                )
                analysis_event_record(
                    analysis=analysis,
                    who=None,
                    what=f"Verified: every linked test passed in run #{run.pk} "
                    f"on revision {run_revision.name}",
                )
                # Notifications and webhooks: analysis.verified, to its owners among others.
                analysis_verified(analysis=analysis, owners=_owners_later(analysis))

    failing_case = through.objects.filter(
        analysis_id=OuterRef("pk"), testcase_id__in=failed_here.values("case_id")
    )
    to_reopen = analyses.filter(status=Analysis.Status.VERIFIED).filter(Exists(failing_case))
    if run_revision is not None:
        # A failure on an older revision (a rollback) says nothing about the fix.
        to_reopen = to_reopen.filter(
            Q(verified_by_run__revision__created_at__lte=run_revision.created_at)
            | Q(verified_by_run__revision__isnull=True, verified_at__lt=run.created_at)
        )
    else:
        to_reopen = to_reopen.filter(verified_at__lt=run.created_at)
    for analysis in to_reopen.exclude(verified_by_run=run):
        keys = list(
            TestCase.objects.filter(
                analyses=analysis, pk__in=failed_here.values("case_id")
            ).values_list("key", flat=True)[:3]
        )
        revision = f" on revision {run_revision.name}" if run_revision is not None else ""
        try:
            with transaction.atomic():
                analysis_reopen(
                    analysis=analysis,
                    reason=f"{', '.join(keys)} failed again in run #{run.pk}{revision}.",
                )
        except IntegrityError:
            # Another analysis of the same signature is already open: that one carries the work.
            logger.info("analysis %s not reopened: its signature has an open one", analysis.pk)


def analysis_owners_of(*, analysis: Analysis) -> Owners:
    """Who owns an analysis, for routing its notifications: the owners of its tests, its
    author and its action items' owners."""
    rules = analysis_owners(analysis_ids=[analysis.pk]).get(analysis.pk, [])
    items = ActionItem.objects.filter(analysis=analysis).values_list("owner_id", flat=True)
    return Owners.of(
        users=[*(r.user_id for r in rules), analysis.created_by_id, *items],
        teams=[r.team_id for r in rules],
    )


def _owners_later(analysis: Analysis) -> Callable[[], Owners]:
    """The analysis's owners, computed only when a notification rule routes by owner."""
    return lambda: analysis_owners_of(analysis=analysis)


def _item_owners_later(item: ActionItem) -> Callable[[], Owners]:
    def owners() -> Owners:
        of_analysis = analysis_owners_of(analysis=item.analysis)
        return Owners.of(users=[item.owner_id, *of_analysis.user_ids], teams=of_analysis.team_ids)

    return owners


def action_items_overdue_notify(*, now=None) -> int:
    """Announce each open action item whose due date has passed, once (``overdue_notified_at``
    claims it in the same transaction as its notification). Returns how many."""
    now = now or timezone.now()
    overdue = ActionItem.objects.filter(
        status__in=ActionItem.OPEN_STATES,
        due_date__lt=timezone.localdate(now),
        overdue_notified_at__isnull=True,
    ).select_related("analysis__service", "owner")
    count = 0
    for item in overdue[:500]:
        with transaction.atomic():
            if not ActionItem.objects.filter(pk=item.pk, overdue_notified_at__isnull=True).update(
                overdue_notified_at=now
            ):
                continue  # another beat run took it
            action_item_overdue(item=item, owners=_item_owners_later(item))
            count += 1
    return count
