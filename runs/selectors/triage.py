"""Reads of failure-signature triage: a signature's history, and the history of several."""

from __future__ import annotations

from collections.abc import Iterable

from runs.models import TriageChange

HISTORY_SHOWN = 5


def triage_history(*, signature_id: int, limit: int | None = None) -> list[TriageChange]:
    """The changes of the signature's triage, newest first: all, or the latest `limit`."""
    rows = TriageChange.objects.filter(signature_id=signature_id).select_related("by")
    return list(rows.order_by("-at", "-pk")[:limit])


def triage_histories(
    *, signature_ids: Iterable[int], limit: int = HISTORY_SHOWN
) -> dict[int, list[TriageChange]]:
    """The latest `limit` changes of each signature's triage, newest first; one query."""
    ids = [i for i in signature_ids if i is not None]
    histories: dict[int, list[TriageChange]] = {i: [] for i in ids}
    if not ids:
        return histories
    rows = (
        TriageChange.objects.filter(signature_id__in=ids)
        .select_related("by")
        .order_by("signature_id", "-at", "-pk")
    )
    for change in rows:
        shown = histories[change.signature_id]
        if len(shown) < limit:
            shown.append(change)
    return histories
