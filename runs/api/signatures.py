"""Failure-signature triage for CI and people: read a signature's triage and history, set it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Router, Schema, Status

from runs.api.errors import error_body, error_responses
from runs.api.permissions import require_action
from runs.models import FailureSignature
from runs.selectors.triage import triage_history
from runs.services.triage import MAX_COMMENT, TriageError, signature_triage_set

router = Router(tags=["triage"])

Category = Literal["untriaged", "product_bug", "test_bug", "environment", "known_issue"]
CATEGORY_DOC = (
    "What the failure is: product_bug, test_bug, environment, known_issue (explained by an "
    "analysis of the same service), or untriaged. It stays with the signature: later runs that "
    "fail the same way show it."
)


class TriageIn(Schema):
    category: Category = Field(description=CATEGORY_DOC)
    analysis: int | None = Field(
        None,
        ge=1,
        le=2**63 - 1,
        description="The id of the analysis that explains a known_issue (required for it, of the "
        "signature's own service); must be null for the other categories.",
    )
    comment: str = Field("", max_length=MAX_COMMENT, description="Why, in a sentence.")


class TriageChangeOut(Schema):
    previous: Category
    category: Category
    analysis: int | None
    comment: str
    by: str | None = Field(description="Who changed it; null when that user is gone.")
    at: datetime


class TriageOut(Schema):
    signature: int = Field(description="The signature's id.")
    suite: str
    service: str
    kind: Literal["failed", "error"]
    normalized: str = Field(description="The failure message with numbers, ids and paths masked.")
    category: Category = Field(description=CATEGORY_DOC)
    analysis: int | None = Field(description="The analysis of a known_issue; else null.")
    analysis_url: str | None
    comment: str
    by: str | None
    at: datetime | None = Field(description="When it was last triaged; null: never.")
    history: list[TriageChangeOut] = Field(description="Every change, newest first.")


def _signature(signature_id: int) -> FailureSignature | None:
    return (
        FailureSignature.objects.select_related("suite__service", "triage_by")
        .filter(pk=signature_id)
        .first()
    )


def _no_signature(signature_id: int) -> Status:
    return Status(
        404,
        error_body(
            f"There is no failure signature with id {signature_id}: the run page's failures "
            "name each signature's id.",
            "not_found",
        ),
    )


def _out(request: HttpRequest, signature: FailureSignature) -> dict:
    analysis = signature.triage_analysis_id
    return {
        "signature": signature.pk,
        "suite": signature.suite.name,
        "service": signature.suite.service.name,
        "kind": signature.kind,
        "normalized": signature.normalized,
        "category": signature.triage,
        "analysis": analysis,
        "analysis_url": (
            request.build_absolute_uri(reverse("analysis-detail", args=[analysis]))
            if analysis
            else None
        ),
        "comment": signature.triage_comment,
        "by": signature.triage_by.get_username() if signature.triage_by else None,
        "at": signature.triage_at,
        "history": [
            {
                "previous": c.previous,
                "category": c.triage,
                "analysis": c.analysis_id,
                "comment": c.comment,
                "by": c.by.get_username() if c.by else None,
                "at": c.at,
            }
            for c in triage_history(signature_id=signature.pk)
        ],
    }


@router.get(
    "/{signature_id}/triage",
    response={200: TriageOut, **error_responses(404)},
    summary="A failure signature's triage and its history",
)
def triage_get(request: HttpRequest, signature_id: int):
    """The signature's category, who set it and why, and every change, newest first. 404 when
    there is no such signature. Any role."""
    require_action(request, "read")
    signature = _signature(signature_id)
    if signature is None:
        return _no_signature(signature_id)
    return _out(request, signature)


@router.put(
    "/{signature_id}/triage",
    response={200: TriageOut, **error_responses(404)},
    summary="Triage a failure signature",
)
def triage_put(request: HttpRequest, signature_id: int, payload: TriageIn):
    """Mark the signature as a product bug, test bug, environment problem or known issue (or
    untriaged again), recorded in its history with who and why; answers as GET. A known_issue
    needs `analysis`, an analysis of the signature's own service; other categories take none
    (400 `invalid`, field `analysis`, and nothing is written). 404 when there is no such
    signature. Needs the Operator role."""
    require_action(request, "triage")
    signature = _signature(signature_id)
    if signature is None:
        return _no_signature(signature_id)
    try:
        signature_triage_set(
            signature=signature,
            triage=payload.category,
            analysis_id=payload.analysis,
            comment=payload.comment,
            user=request.user,
        )
    except TriageError as exc:
        return Status(400, error_body(str(exc), "invalid", field=exc.field))
    return _out(request, signature)  # refreshed by the service
