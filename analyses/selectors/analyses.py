"""Reads for five-whys analyses: facts to prefill them, lists, counts for the overview."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import RowNumber
from django.utils import timezone

from analyses.models import ActionItem, Analysis
from runs.models import FailureSignature, TestCase, TestResult, TestRun
from runs.time_range import TimeRange, within

FAILING = ("failed", "error")

# The drafts of one run are one piece of work (the analyze step opens one per new signature): the
# lists show them as one group under their run and every count of open work counts the run once.
# A draft leaves its group when someone takes it forward (in review, done).
IN_RUN_BATCH = Q(status=Analysis.Status.DRAFT, run__isnull=False)


def open_work_count() -> CombinedExpression:
    """Analyses counted as pieces of work: each one, except a run's drafts, which count once."""
    return Count("pk", filter=~IN_RUN_BATCH) + Count("run", filter=IN_RUN_BATCH, distinct=True)


@dataclass(frozen=True)
class DraftBatch:
    """The drafts of one run, shown as one row that expands."""

    run_id: int
    drafts: list[Analysis]

    @property
    def signatures(self) -> int:
        return len({a.signature_id for a in self.drafts if a.signature_id})

    @property
    def created_at(self) -> datetime:
        return max(a.created_at for a in self.drafts)


def analyses_grouped(analyses: list[Analysis]) -> list[Analysis | DraftBatch]:
    """The analyses in their order, with the drafts of each run (two or more) gathered into one
    DraftBatch where the first of them stood."""
    by_run: dict[int, list[Analysis]] = {}
    for a in analyses:
        if a.status == Analysis.Status.DRAFT and a.run_id:
            by_run.setdefault(a.run_id, []).append(a)
    rows: list[Analysis | DraftBatch] = []
    placed: set[int] = set()
    for a in analyses:
        drafts = by_run.get(a.run_id) if a.status == Analysis.Status.DRAFT and a.run_id else None
        if a.run_id is None or not drafts or len(drafts) < 2:
            rows.append(a)
        elif a.run_id not in placed:
            placed.add(a.run_id)
            rows.append(DraftBatch(run_id=a.run_id, drafts=drafts))
    return rows


@dataclass(frozen=True)
class FailureHistory:
    """When a failure was first seen and how often it failed since."""

    first_seen_at: datetime | None
    first_run_id: int | None
    first_revision: str
    failing_results: int
    failing_runs: int


def failure_history(*, signature: FailureSignature | None, case: TestCase | None) -> FailureHistory:
    """First failing run and the number of failing results and runs, for a signature or one test."""
    if signature is not None:
        results = TestResult.objects.filter(signature=signature)
    elif case is not None:
        results = TestResult.objects.filter(case=case, outcome__in=FAILING)
    else:
        return FailureHistory(None, None, "", 0, 0)
    facts = results.aggregate(
        first_run_id=Min("run_id"),
        failing_results=Count("pk"),
        failing_runs=Count("run_id", distinct=True),
    )
    first = (
        TestRun.objects.filter(pk=facts["first_run_id"])
        .values("created_at", "revision__name")
        .first()
    )
    return FailureHistory(
        first_seen_at=first["created_at"] if first else None,
        first_run_id=facts["first_run_id"],
        first_revision=(first["revision__name"] or "") if first else "",
        failing_results=facts["failing_results"],
        failing_runs=facts["failing_runs"],
    )


def failing_results_of_run(*, run: TestRun, signature: FailureSignature | None = None) -> QuerySet:
    """The run's failed and errored results (of one signature if given), by test key."""
    results = run.results.filter(outcome__in=FAILING).select_related("case")
    if signature is not None:
        results = results.filter(signature=signature)
    return results.order_by("case__key")


def signatures_of_run(*, run: TestRun) -> QuerySet[FailureSignature]:
    """The distinct failure signatures of a run's failures."""
    return FailureSignature.objects.filter(
        pk__in=run.results.filter(signature__isnull=False).values("signature_id")
    ).order_by("pk")


def unresolved_analysis_for_signature(*, signature: FailureSignature) -> Analysis | None:
    return signature.analyses.filter(status__in=Analysis.UNRESOLVED).first()


def analysis_list(
    *,
    status: str = "",
    service_id: int | None = None,
    only: set[int] | None = None,
    span: TimeRange | None = None,
) -> QuerySet[Analysis]:
    """Analyses newest first (of the ids in `only` when given, updated within `span` when
    given), with their service, revision and
    open action-item count; the drafts of one run are one row, the newest of them, carrying
    ``batch_size`` (drafts in the group), ``batch_signatures`` and, in ``run.drafts``, every draft
    of the run."""
    analyses = Analysis.objects.select_related("service", "revision", "created_by", "run")
    if only is not None:
        analyses = analyses.filter(pk__in=only)
    if status:
        analyses = analyses.filter(status=status)
    if service_id:
        analyses = analyses.filter(service_id=service_id)
    if span is not None:
        analyses = within(analyses, span, field="updated_at")
    in_batch = Case(When(IN_RUN_BATCH, then=Value(1)), default=Value(0))
    group = [in_batch, Case(When(IN_RUN_BATCH, then=F("run_id")), default=F("pk"))]
    return (
        analyses.annotate(
            open_items=Count(
                "action_items", filter=Q(action_items__status__in=ActionItem.OPEN_STATES)
            ),
            batch_size=Window(Count("pk"), partition_by=group),
            batch_signatures=Window(Count("signature_id"), partition_by=group),
            batch_position=Window(
                RowNumber(), partition_by=group, order_by=[F("created_at").desc(), F("pk").desc()]
            ),
        )
        .filter(batch_position=1)
        .prefetch_related(
            Prefetch(
                "run__analyses",
                queryset=Analysis.objects.filter(status=Analysis.Status.DRAFT).order_by("pk"),
                to_attr="drafts",
            )
        )
        .order_by("-created_at", "-pk")
    )


def analysis_status_counts(
    *,
    service_id: int | None = None,
    only: set[int] | None = None,
    span: TimeRange | None = None,
) -> dict[str, int]:
    """How many pieces of work are in each status (every status present, zero when none), of the
    analyses in `only` when given (updated within `span` when given): the drafts of one run
    count once."""
    analyses = Analysis.objects.all()
    if span is not None:
        analyses = within(analyses, span, field="updated_at")
    if only is not None:
        analyses = analyses.filter(pk__in=only)
    if service_id:
        analyses = analyses.filter(service_id=service_id)
    counts = dict(analyses.values_list("status").annotate(n=open_work_count()).order_by())
    return {value: counts.get(value, 0) for value, _ in Analysis.Status.choices}


def open_action_items(
    *,
    owner_id: int | None = None,
    only: set[int] | None = None,
    today: date | None = None,
    span: TimeRange | None = None,
) -> QuerySet:
    """Open action items grouped by owner; owners with overdue items first, overdue first within;
    of the analyses in `only` when given. With `span`, the items created within it plus every
    overdue one (an overdue item must not drop out of sight because the range is short).

    Each item carries ``is_overdue`` (1 or 0); items without an owner come last.
    """
    today = today or timezone.localdate()
    overdue = Case(When(due_date__lt=today, then=Value(1)), default=Value(0))
    items = (
        ActionItem.objects.filter(status__in=ActionItem.OPEN_STATES)
        .select_related("owner", "analysis__service")
        .annotate(
            is_overdue=Case(
                When(due_date__lt=today, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            ),
            owner_overdue=Window(Max(overdue), partition_by=[F("owner_id")]),
            no_owner=Case(
                When(owner__isnull=True, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            ),
        )
    )
    if owner_id:
        items = items.filter(owner_id=owner_id)
    if only is not None:
        items = items.filter(analysis_id__in=only)
    if span is not None:
        items = items.filter(
            Q(created_at__gte=span.start, created_at__lt=span.end) | Q(due_date__lt=today)
        )
    return items.order_by(
        "no_owner",
        "-owner_overdue",
        "owner__username",
        "-is_overdue",
        F("due_date").asc(nulls_last=True),
        "pk",
    )


def failing_runs_without_analysis(
    *, limit: int = 10, span: TimeRange | None = None
) -> QuerySet[TestRun]:
    """The latest failed runs (started within `span` when given) with failing tests that no
    analysis links to, for the "waiting" list (an error run whose finished tests all passed has
    nothing to analyze)."""
    runs = TestRun.objects.all() if span is None else within(TestRun.objects.all(), span)
    return (
        # The run's counts say whether a test failed: no probe into a 200,000-result run.
        runs.filter(status__in=("failed", "error"))
        .filter(Q(failed__gt=0) | Q(errors__gt=0))
        .exclude(Exists(Analysis.objects.filter(run=OuterRef("pk"))))
        .select_related("suite__service", "service", "revision")
        .order_by("-created_at")[:limit]
    )


def analysis_counts_by_service(*, today: date | None = None) -> dict[int, dict]:
    """Per service id: ``{"open_analyses": n, "overdue_action_items": m}`` (services with any);
    the drafts of one run are one open analysis.

    Two grouped queries, whatever the number of analyses.
    """
    today = today or timezone.localdate()
    counts: dict[int, dict] = {}
    open_rows = (
        Analysis.objects.filter(status__in=Analysis.OPEN)
        .values_list("service_id")
        .annotate(n=open_work_count())
        .order_by()
    )
    overdue_rows = (
        ActionItem.objects.filter(status__in=ActionItem.OPEN_STATES, due_date__lt=today)
        .values_list("analysis__service_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for service_id, n in open_rows:
        counts.setdefault(service_id, {"open_analyses": 0, "overdue_action_items": 0})
        counts[service_id]["open_analyses"] = n
    for service_id, n in overdue_rows:
        counts.setdefault(service_id, {"open_analyses": 0, "overdue_action_items": 0})
        counts[service_id]["overdue_action_items"] = n
    return counts


def analyses_for_run(*, run: TestRun) -> QuerySet[Analysis]:
    """Analyses linked to the run, to its failures' signatures, or verified by it."""
    return (
        Analysis.objects.filter(
            Q(run=run)
            | Q(verified_by_run=run)
            | Q(signature__in=run.results.filter(signature__isnull=False).values("signature_id"))
        )
        .select_related("service")
        .distinct()
        .order_by("-created_at")
    )


def analyses_for_case(*, case: TestCase) -> QuerySet[Analysis]:
    """Analyses that name this test among their linked tests."""
    return case.analyses.select_related("service").order_by("-created_at")


def analysis_detail(*, pk: int) -> Analysis:
    """One analysis with everything its page shows, in a fixed number of queries."""
    return (
        Analysis.objects.select_related(
            "service",
            "revision",
            "run",
            "signature__triage_analysis",
            "verified_by_run__revision",
            "created_by",
        )
        .prefetch_related("whys", "action_items__owner", "events__who", "cases")
        .get(pk=pk)
    )


TRIAGE_CHOICES = 200


def analyses_to_link(*, service_id: int, limit: int = TRIAGE_CHOICES) -> list[dict]:
    """The service's analyses a known issue may link (id, title, status), those not yet verified
    first, newest first within each."""
    return list(
        Analysis.objects.filter(service_id=service_id)
        .annotate(
            settled=Case(When(status=Analysis.Status.VERIFIED, then=1), default=0),
        )
        .order_by("settled", "-created_at")
        .values("pk", "title", "status")[:limit]
    )
