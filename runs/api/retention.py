"""Retention for CI and people: read and set a suite's policy, pin and unpin runs."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from runs.api.errors import error_body, error_responses
from runs.api.permissions import require_action
from runs.api.suites import no_suite, suite_by_names
from runs.models import Suite, TestRun
from runs.models.retention import MAX_KEEP_DAYS, MAX_KEEP_RUNS
from runs.selectors.retention import KEPT_ALWAYS, policy_for
from runs.services.retention import RetentionError, retention_policy_set, run_pin_set

suites_router = Router(tags=["retention"])
runs_router = Router(tags=["retention"])


class PolicyIn(Schema):
    keep_days: int | None = Field(
        None,
        description=f"Keep runs younger than this many days (1 to {MAX_KEEP_DAYS}); "
        "null: no limit.",
    )
    keep_runs: int | None = Field(
        None,
        description=f"Keep the suite's newest this many runs (1 to {MAX_KEEP_RUNS}); "
        "null: no limit.",
    )


class PolicyOut(Schema):
    suite: str
    service: str
    keep_days: int | None
    keep_runs: int | None
    own: bool = Field(description="False: the suite has no policy of its own, the default applies.")
    description: str
    kept_always: str


class PinOut(Schema):
    run: int
    pinned: bool
    pinned_by: str | None
    pinned_at: datetime | None


def _policy_out(suite: Suite) -> dict:
    policy = policy_for(suite_id=suite.pk)
    return {
        "suite": suite.name,
        "service": suite.service.name,
        "keep_days": policy.keep_days,
        "keep_runs": policy.keep_runs,
        "own": policy.own,
        "description": policy.describe(),
        "kept_always": KEPT_ALWAYS,
    }


@suites_router.get(
    "/{service}/suites/{suite}/retention",
    response={200: PolicyOut, **error_responses(404)},
    summary="A suite's retention policy",
)
def policy_get(request: HttpRequest, service: str, suite: str):
    """How long the suite keeps its runs (its own policy or the installation's default). 404
    when the service or suite does not exist. Any role."""
    require_action(request, "read")
    found = suite_by_names(service, suite)
    if found is None:
        return no_suite(service, suite)
    return _policy_out(found)


@suites_router.put(
    "/{service}/suites/{suite}/retention",
    response={200: PolicyOut, **error_responses(404)},
    summary="Set a suite's retention policy",
)
def policy_put(request: HttpRequest, service: str, suite: str, payload: PolicyIn):
    """Keep runs younger than `keep_days` and the newest `keep_runs` runs; a run is deleted by
    the nightly pass only when both let it go; both null keeps every run. Out of range: 400
    `invalid` naming the field, nothing written. Needs the Manager role."""
    require_action(request, "retention")
    found = suite_by_names(service, suite)
    if found is None:
        return no_suite(service, suite)
    try:
        retention_policy_set(
            suite_id=found.pk,
            keep_days=payload.keep_days,
            keep_runs=payload.keep_runs,
            user=request.user,
        )
    except RetentionError as exc:
        return Status(400, error_body(str(exc), "invalid", field=exc.field or ""))
    return _policy_out(found)


def _pin(request: HttpRequest, run_id: int, pinned: bool):
    require_action(request, "pin")
    run = TestRun.objects.filter(pk=run_id).first()
    if run is None:
        return Status(404, error_body(f"There is no run #{run_id}.", "not_found"))
    run_pin_set(run=run, pinned=pinned, user=request.user)
    return {
        "run": run.pk,
        "pinned": run.pinned,
        "pinned_by": run.pinned_by.get_username() if run.pinned_by else None,
        "pinned_at": run.pinned_at,
    }


@runs_router.put(
    "/{run_id}/pin", response={200: PinOut, **error_responses(404)}, summary="Pin a run"
)
def pin_put(request: HttpRequest, run_id: int):
    """Keep the run whatever its suite's retention policy says, recording who and when. 404
    when there is no such run. Needs the Operator or Manager role."""
    return _pin(request, run_id, True)


@runs_router.delete(
    "/{run_id}/pin", response={200: PinOut, **error_responses(404)}, summary="Unpin a run"
)
def pin_delete(request: HttpRequest, run_id: int):
    """Let the suite's retention policy apply to the run again. 404 when there is no such run.
    Needs the Operator or Manager role."""
    return _pin(request, run_id, False)
