"""Keyset pages for the integrations logs (notifications, webhook deliveries, commit statuses):
newest first by (created_at, id), the next page read after the last row shown, so an old page
costs what the first does and rows written meanwhile never shift it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet

from runs.params import BadParam, shown

PER_PAGE = 50
_CURSOR = re.compile(r"([0-9]{1,17})\.([0-9]{1,19})")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_BAD = "{raw} is not a place in this log; follow its “older” link, or open the newest page."


@dataclass(frozen=True)
class LogPage:
    """Rows of one page, and the ``after`` value of the next (older) page: empty on the last."""

    rows: list[Any]
    after: str
    first: bool


def cursor_of(moment: datetime, pk: int) -> str:
    """A place in a log: the row's time in whole microseconds since 1970, then its id."""
    return f"{(moment - _EPOCH) // timedelta(microseconds=1)}.{pk}"


def cursor_parse(raw: str, *, name: str = "after") -> tuple[datetime, int] | None:
    """(time, id) from a cursor a page link made; None for an empty one. Raises BadParam (a 400
    with a sentence) for anything else."""
    raw = raw.strip()
    if not raw:
        return None
    match = _CURSOR.fullmatch(raw)
    if not match or int(match[2]) > 2**63 - 1:
        raise BadParam(_BAD.format(raw=shown(raw)), name=name)
    try:
        moment = _EPOCH + timedelta(microseconds=int(match[1]))
    except OverflowError:
        raise BadParam(_BAD.format(raw=shown(raw)), name=name) from None
    return moment, int(match[2])


def log_page(rows: QuerySet, *, after: str = "", per_page: int = PER_PAGE) -> LogPage:
    """One page of ``rows`` newest first, starting after the cursor ``after``: one query."""
    place = cursor_parse(after)
    if place is not None:
        moment, pk = place
        # The redundant bound lets PostgreSQL start the time index at the cursor; with the OR
        # alone it walked down from the newest row (190,000 rows deep: 120 ms, not 0.15 ms).
        rows = rows.filter(
            Q(created_at__lte=moment) & (Q(created_at__lt=moment) | Q(created_at=moment, pk__lt=pk))
        )
    found = list(rows.order_by("-created_at", "-pk")[: per_page + 1])
    shown_rows = found[:per_page]
    more = len(found) > per_page
    last = shown_rows[-1] if shown_rows else None
    following = cursor_of(last.created_at, last.pk) if more and last is not None else ""
    return LogPage(rows=shown_rows, after=following, first=place is None)
