"""Triage of failure signatures: a person says what a signature is, and it is remembered."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from runs.models import FailureSignature, Service, Triage, TriageChange

MAX_COMMENT = 2000


class TriageError(ValueError):
    """A triage that cannot be set, with the field at fault."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def _check_analysis(*, signature: FailureSignature, triage: str, analysis_id: int | None) -> None:
    if triage != Triage.KNOWN_ISSUE:
        if analysis_id is not None:
            raise TriageError(
                f"Only a known issue links an analysis: leave the analysis empty for {triage}.",
                field="analysis",
            )
        return
    if analysis_id is None:
        raise TriageError(
            "A known issue names the analysis that explains it: choose one of the service's "
            "analyses.",
            field="analysis",
        )
    # Through the service's reverse relation: analyses sits above runs, so runs never imports it.
    owner = Service.objects.filter(analyses__pk=analysis_id).values_list("pk", "name").first()
    if owner is None:
        raise TriageError(f"There is no analysis #{analysis_id}: check the id.", field="analysis")
    service = signature.suite.service
    if owner[0] != service.pk:
        raise TriageError(
            f"Analysis #{analysis_id} is about service {owner[1]}, not {service.name}: link an "
            "analysis of the signature's own service.",
            field="analysis",
        )


def signature_triage_set(
    *,
    signature: FailureSignature,
    triage: str,
    analysis_id: int | None = None,
    comment: str = "",
    user=None,
    now: datetime | None = None,
) -> FailureSignature:
    """Set what the signature is (product bug, test bug, environment, known issue with its
    analysis, or untriaged again) and record the change. Raises TriageError, having written
    nothing, for an unknown category, a known issue without an analysis of the same service, an
    analysis on anything else, or a comment over MAX_COMMENT characters."""
    comment = comment.strip()
    if triage not in Triage.values:
        raise TriageError(
            f"category must be one of {', '.join(Triage.values)}, not {triage!r}.",
            field="category",
        )
    if len(comment) > MAX_COMMENT:
        raise TriageError(
            f"The comment is {len(comment):,} characters long; keep it under {MAX_COMMENT:,}.",
            field="comment",
        )
    _check_analysis(signature=signature, triage=triage, analysis_id=analysis_id)
    now = now or timezone.now()
    with transaction.atomic():
        row = FailureSignature.objects.select_for_update().get(pk=signature.pk)
        previous = row.triage
        FailureSignature.objects.filter(pk=row.pk).update(
            triage=triage,
            triage_analysis_id=analysis_id,
            triage_by=user if user is not None and user.is_authenticated else None,
            triage_at=now,
            triage_comment=comment,
        )
        TriageChange.objects.create(
            signature=row,
            previous=previous,
            triage=triage,
            analysis_id=analysis_id,
            comment=comment,
            by=user if user is not None and user.is_authenticated else None,
            at=now,
        )
    signature.refresh_from_db()
    return signature
