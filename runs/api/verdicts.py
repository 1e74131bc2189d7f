"""GET the release gate's latest verdict of a revision, by id or by service and revision name."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from runs.api.errors import error_body, error_responses
from runs.api.permissions import require_action
from runs.models import Revision, Service
from runs.selectors.gates import revision_verdict

router = Router(tags=["verdicts"])


class EvidenceOut(Schema):
    label: str
    url: str = Field(description="The page that shows it: a run, a test, the health page.")


class RuleOut(Schema):
    key: str = Field(
        description="Before traffic: run_finished, min_tests, min_tests_percent, goal, "
        "max_failed, quarantined, no_new_signatures, probe_error_rate, probe_p95 or "
        "no_open_incident or error_budget. At a "
        "canary step: canary_latency (one-sided Mann-Whitney U on probe latency, with the median "
        "shift against the margin) or canary_errors (one-sided Fisher exact test on probe "
        "errors, with the rate difference against the margin); measured shows the p-value."
    )
    name: str
    measured: str = Field(description="The value measured, as shown on the revision page.")
    threshold: str
    outcome: str = Field(
        description="pass, fail, inconclusive, not_applicable, or note (the rule quarantined: "
        "quarantined failures, not counted, and the suite's quarantined tests; never blocks)."
    )
    note: str
    evidence: list[EvidenceOut]


class VerdictOut(Schema):
    id: int
    outcome: str = Field(
        description="pass, fail or inconclusive (not enough evidence: never a pass). Fail when "
        "any rule fails, else inconclusive when any rule is, else pass; not_applicable rules "
        "(no baseline: the service's first revision) never block."
    )
    stage: str = Field(
        description="before_traffic: judged on the run of the revision's suite; canary_N: the "
        "canary step at N % of traffic, judged on both revisions' probes over the step."
    )
    summary: str
    dry_run: bool = Field(description="The policy only records verdicts and never acts.")
    service: str
    revision: str
    revision_id: int
    revision_url: str = Field(description="The revision page, which shows this verdict.")
    run: int | None = Field(description="The id of the run judged.")
    run_url: str | None
    created_at: datetime
    rules: list[RuleOut]
    release: str = Field(
        description="What the revision's latest deploy did with traffic: empty (immediate "
        "policy), testing, canary, promoted, refused, rolled_back or failed. A pipeline can wait "
        "until it is no longer testing or canary."
    )
    release_note: str = Field(description="What happened to traffic, in one sentence.")
    deploy: int | None = Field(description="The id of that deploy.")


def _absolute(request: HttpRequest, url: str) -> str:
    return request.build_absolute_uri(url)


def verdict_response(request: HttpRequest, revision: Revision):
    verdict = revision_verdict(revision=revision)
    if verdict is None:
        return Status(
            404,
            error_body(
                f"Revision {revision.name} has no verdict yet: the gate judges it once a run of "
                "its suite has finished.",
                "not_found",
            ),
        )
    deploy = revision.deploys.order_by("-created_at", "-pk").first()
    return {
        "release": deploy.release if deploy else "",
        "release_note": deploy.release_note if deploy else "",
        "deploy": deploy.pk if deploy else None,
        "id": verdict.pk,
        "outcome": verdict.outcome,
        "stage": verdict.stage,
        "summary": verdict.summary,
        "dry_run": verdict.dry_run,
        "service": revision.service.name,
        "revision": revision.name,
        "revision_id": revision.pk,
        "revision_url": _absolute(request, revision.get_absolute_url()),
        "run": verdict.run_id,
        "run_url": _absolute(request, verdict.run.get_absolute_url()) if verdict.run else None,
        "created_at": verdict.created_at,
        "rules": [
            {
                **rule,
                "evidence": [
                    {"label": e["label"], "url": _absolute(request, e["url"])}
                    for e in rule.get("evidence", [])
                ],
            }
            for rule in verdict.rules
        ],
    }


VERDICT_DOC = (
    "The release gate's latest verdict of the revision, with every rule's measured value, "
    "threshold, outcome and links to its evidence. 404 (`not_found`) when the revision does not "
    "exist or has no verdict yet. A CI step can poll it after a deploy-and-test and fail the "
    "build on `fail`. Every role may read it."
)


@router.get(
    "/{revision_id}/verdict",
    response={200: VerdictOut, **error_responses(404)},
    summary="A revision's latest gate verdict",
    description=VERDICT_DOC,
)
def get_verdict(request: HttpRequest, revision_id: int):
    require_action(request, "read")
    revision = Revision.objects.select_related("service").filter(pk=revision_id).first()
    if revision is None:
        return Status(404, error_body(f"There is no revision {revision_id}.", "not_found"))
    return verdict_response(request, revision)


def get_service_verdict(request: HttpRequest, name: str, revision_name: str):
    require_action(request, "read")
    service = Service.objects.filter(name=name).first()
    if service is None:
        return Status(404, error_body(f"There is no service named {name!r}.", "not_found"))
    revision = service.revisions.select_related("service").filter(name=revision_name).first()
    if revision is None:
        return Status(
            404,
            error_body(
                f"Service {name} has no revision named {revision_name!r}.",
                "not_found",
                field="revision_name",
            ),
        )
    return verdict_response(request, revision)
