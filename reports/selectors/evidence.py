"""The rows behind each figure of the summary, for its evidence page, a page at a time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import DurationField, ExpressionWrapper, Q
from django.db.models.functions import Coalesce

from reports.scope import Scope
from reports.selectors.delivery import FAILING, deploys_with_outcome, gate_overrides, restores
from reports.selectors.reliability import incidents_in_scope
from reports.selectors.testing import completed_runs
from reports.selectors.triage import triage_evidence
from runs.params import BadParam, shown

PER_PAGE = 50  # as the run page: rendering rows, not reading them, was the cost
KINDS = ("runs", "deploys", "overrides", "restores", "triage", "incidents")
# Kinds listed newest first by a time column: read by keyset (after the last row's time and id),
# so a later page costs what the first does. The others are ordered by figures their query
# computes for the whole period anyway (failures per signature, episodes): paged by number.
KEYSET_TIME = {"runs": "created_at", "deploys": "created_at", "overrides": "created_at"}
KEYSET_TIME["incidents"] = "opened_at"
_CURSOR = re.compile(r"([0-9]{1,20})\.([0-9]{1,19})\.([0-9]{1,9})")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class EvidencePage:
    """One page of an evidence list: its rows, how many rows the whole list holds, the number of
    the first row shown, and the query value of the next page's link (None: the last page)."""

    rows: list
    total: int
    first: int
    next: dict[str, str] | None

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1


def cursor_of(moment: datetime, pk: int, shown_before: int) -> str:
    """A keyset place: the last row's time in whole microseconds since 1970, its id, and how
    many rows the list showed up to it (the next page numbers its rows from there; counting
    them again would cost a query)."""
    return f"{(moment - _EPOCH) // timedelta(microseconds=1)}.{pk}.{shown_before}"


def parse_cursor(raw: str) -> tuple[datetime, int, int] | None:
    """(time, id, rows before) from an after= value a page link made; None when empty. Raises
    BadParam for anything else."""
    if not raw:
        return None
    match = _CURSOR.fullmatch(raw)
    if not match:
        raise BadParam(
            f"{shown(raw)} is not a place in this list; follow the page links, or open the "
            "first page.",
            name="after",
        )
    try:
        moment = _EPOCH + timedelta(microseconds=int(match[1]))
    except OverflowError:
        raise BadParam(
            f"{shown(raw)} is not a place in this list; follow the page links, or open the "
            "first page.",
            name="after",
        ) from None
    return moment, int(match[2]), int(match[3])


def _query(kind: str, scope: Scope, *, failing: bool, suite_id: int | None, failed: bool):
    """The kind's rows in page order (a queryset; triage: see triage_evidence)."""
    if kind == "runs":
        # The suite's name reads its service's (Suite.__str__): joined, not one query per row.
        rows = completed_runs(scope).select_related("suite__service", "revision", "service")
        if failing:
            rows = rows.filter(status__in=FAILING)
        if suite_id is not None:
            rows = rows.filter(suite_id=suite_id)
        return rows.order_by("-created_at", "-pk")
    if kind == "deploys":
        rows = deploys_with_outcome(scope).select_related("service", "revision")
        if failed:
            rows = rows.filter(Q(first_run_status__in=FAILING) | Q(rolled_back=True))
        commit_time = Coalesce("revision__commit_time", "build__commit_time")
        deployed_at = Coalesce("finished_at", "created_at")
        return rows.annotate(
            lead=ExpressionWrapper(deployed_at - commit_time, DurationField())
        ).order_by("-created_at", "-pk")
    if kind == "overrides":
        rows = gate_overrides(scope).select_related("service", "revision", "requested_by")
        return rows.order_by("-created_at", "-pk")
    if kind == "restores":
        return restores(scope).select_related("suite__service").order_by("-created_at", "-pk")
    rows = incidents_in_scope(scope).select_related("service", "probe")
    return rows.order_by("-opened_at", "-pk")


def evidence_rows(
    *,
    kind: str,
    scope: Scope,
    failing: bool = False,
    suite_id: int | None = None,
    failed: bool = False,
    after: str = "",
    page: int = 1,
) -> EvidencePage | None:
    """One page (PER_PAGE rows) of a kind of evidence, and how many rows there are; None for an
    unknown kind. Runs may be narrowed to the failing ones and to one suite, deploys to the
    failed ones. Time-ordered kinds page by `after` (a cursor from the previous page's link),
    the others by `page` number. At most three queries, whatever the period holds: the page,
    its total (only when there is more than one page), and triage's signatures. Raises BadParam
    for a cursor no link made."""
    if kind not in KINDS:
        return None
    start = (page - 1) * PER_PAGE
    if kind == "triage":
        signatures = triage_evidence(scope, offset=start, limit=PER_PAGE)
        more = start + PER_PAGE < signatures.total
        return EvidencePage(
            rows=signatures.rows,
            total=signatures.total,
            first=start + 1,
            next={"page": str(page + 1)} if more else None,
        )
    rows = _query(kind, scope, failing=failing, suite_id=suite_id, failed=failed)
    field = KEYSET_TIME.get(kind)
    if field is None:  # restores: numbered pages
        shown_rows = list(rows[start : start + PER_PAGE + 1])
        more = len(shown_rows) > PER_PAGE
        total = rows.count() if more or page > 1 else len(shown_rows)
        return EvidencePage(
            rows=shown_rows[:PER_PAGE],
            total=total,
            first=start + 1,
            next={"page": str(page + 1)} if more else None,
        )
    place = parse_cursor(after)
    whole = rows
    first = 1
    if place is not None:
        moment, pk, first = place[0], place[1], place[2] + 1
        # The redundant bound lets PostgreSQL start the time index at the cursor; with the OR
        # alone it walks down from the newest row (integrations.selectors.paging: 120 ms, not
        # 0.15 ms, 190,000 rows deep).
        rows = rows.filter(
            Q(**{f"{field}__lte": moment})
            & (Q(**{f"{field}__lt": moment}) | Q(**{field: moment, "pk__lt": pk}))
        )
    shown_rows = list(rows[: PER_PAGE + 1])
    more = len(shown_rows) > PER_PAGE
    shown_rows = shown_rows[:PER_PAGE]
    # A short first page is the whole list: its length is the total, no count needed.
    total = whole.count() if more or place is not None else len(shown_rows)
    last = shown_rows[-1] if shown_rows else None
    cursor = None
    if more and last is not None:
        cursor = {"after": cursor_of(getattr(last, field), last.pk, first + len(shown_rows) - 1)}
    return EvidencePage(rows=shown_rows, total=total, first=first, next=cursor)
