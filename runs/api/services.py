"""A service's actions for CI and operators: deploy-and-test, promote, roll back (POST), and
the verdict of a revision by name (GET)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from runs.api.errors import ErrorOut, error_body, error_responses
from runs.api.permissions import require_action
from runs.api.verdicts import VERDICT_DOC, VerdictOut, get_service_verdict
from runs.models import Deploy, Service
from runs.services.deploys import DeployInProgress, NothingToDeploy, deploy_and_test_create
from runs.services.promote import CannotPromote, promote_create
from runs.services.release import release_abort_request
from runs.services.rollback import CannotRollBack, rollback_create

router = Router(tags=["services"])


class RollbackIn(Schema):
    revision: str = Field(
        "",
        description="The name of the revision to send all traffic back to. Empty while a gated "
        "or canary release is in progress: that release is rolled back at once.",
    )
    reason: str = Field("", max_length=1000, description="Why, recorded on the deploy.")


class RollbackOut(Schema):
    id: int = Field(description="The id of the rollback deploy.")
    url: str = Field(description="The page of the rollback deploy, to follow it.")
    status: str = Field(description="queued: a worker carries it out next.")
    service: str
    revision: str = Field(description="The revision traffic goes back to.")
    previous_revision: str | None = Field(description="The revision that served when asked.")


class RollbackBusyOut(ErrorOut):
    """409 deploy_in_progress: another deploy of the service is queued or running."""

    deploy: int | None = Field(description="The deploy of the service in progress.")
    url: str = Field(description="The page of that deploy, to follow it; roll back once it ends.")


@router.post(
    "/{name}/rollback",
    response={202: RollbackOut, 409: RollbackBusyOut, **error_responses(400, 404)},
    summary="Roll back to a revision",
)
def rollback(request: HttpRequest, name: str, payload: RollbackIn):
    """Create a rollback deploy (trigger `rollback`) that sends all of the service's traffic on
    its deploy target back to `revision`, and answer 202 at once; its page and `GET` of the
    deploy say how it ended, with the traffic the target reported before and after. 404 when
    the service or revision does not exist; 400 (`invalid`, field `revision`) when the revision
    is current already or failed; 409 (`deploy_in_progress`) with a link when another deploy of
    the service is active.

    While a gated or canary release is in progress, a request without `revision` rolls that
    release back at once (the emergency path, skipping analysis): its traffic goes back to the
    stable revision within a probe interval (1 s) and the answer names that deploy."""
    require_action(request, "rollback")
    service = Service.objects.filter(name=name).select_related("current_revision").first()
    if service is None:
        return Status(404, error_body(f"There is no service named {name!r}.", "not_found"))
    active = service.deploys.filter(
        status=Deploy.Status.RUNNING,
        release__in=[Deploy.Release.TESTING, Deploy.Release.CANARY],
    ).first()
    if active is not None and not payload.revision:
        who = request.user.get_username() or "an operator"
        release_abort_request(deploy=active, who=who, reason=payload.reason)
        stable = active.previous_revision
        return Status(
            202,
            {
                "id": active.pk,
                "url": request.build_absolute_uri(active.get_absolute_url()),
                "status": active.status,
                "service": service.name,
                "revision": stable.name if stable else "",
                "previous_revision": active.revision.name if active.revision else None,
            },
        )
    revision = service.revisions.filter(name=payload.revision).first()
    if revision is None:
        return _no_revision(name, payload.revision)
    try:
        deploy = rollback_create(service=service, to_revision=revision, user=request.user)
    except CannotRollBack as exc:
        return Status(400, error_body(str(exc), "invalid", field="revision"))
    except DeployInProgress as exc:
        return Status(409, _busy_body(request, service, exc.active))
    return Status(
        202,
        {
            "id": deploy.pk,
            "url": request.build_absolute_uri(deploy.get_absolute_url()),
            "status": deploy.status,
            "service": service.name,
            "revision": revision.name,
            "previous_revision": deploy.previous_revision.name
            if deploy.previous_revision
            else None,
        },
    )


def _no_revision(service: str, revision: str) -> Status:
    return Status(
        404,
        error_body(
            f"Service {service} has no revision named {revision!r}.", "not_found", field="revision"
        ),
    )


def _busy_body(
    request: HttpRequest, service: Service, active: Deploy | None, doing: str = "roll back"
) -> dict:
    url = request.build_absolute_uri(active.get_absolute_url()) if active else ""
    busy = (
        f"deploy #{active.pk} of {service.name} is in progress ({url})"
        if active
        else (f"another deploy of {service.name} is in progress")
    )
    return {
        **error_body(
            f"Cannot {doing} now: {busy}. {doing.capitalize()} once it has ended.",
            "deploy_in_progress",
        ),
        "deploy": active.pk if active else None,
        "url": url,
    }


router.get(
    "/{name}/revisions/{revision_name}/verdict",
    response={200: VerdictOut, **error_responses(404)},
    summary="A revision's latest gate verdict, by service and revision name",
    description=VERDICT_DOC,
)(get_service_verdict)


class DeployIn(Schema):
    build: int | None = Field(None, description="The id of a registered build; else `image`.")
    image: str = Field(
        "", max_length=300, description="The image to deploy; empty: the latest build's."
    )
    suite: str = Field("", description="The suite to run (name); empty: the service's first.")
    release_policy: str = Field(
        "",
        description="immediate, gated or canary for this deploy; empty: the service's policy.",
    )


class DeployOut(Schema):
    id: int = Field(description="The id of the deploy.")
    url: str = Field(description="The page of the deploy, to follow it.")
    status: str = Field(description="queued, running, succeeded, failed, cancelled or lost.")
    service: str
    trigger: str
    release_policy: str
    release: str = Field(
        description="Where the release stands: empty (immediate), testing, canary, promoted, "
        "refused, rolled_back or failed."
    )
    release_note: str = Field(description="What happened to traffic, in one sentence.")
    revision: str | None = Field(description="The revision created or moved to, once known.")
    run: int | None = Field(description="The id of the deploy's test run.")


def _deploy_body(request: HttpRequest, deploy: Deploy, service: Service) -> dict:
    run = deploy.runs.first()
    return {
        "id": deploy.pk,
        "url": request.build_absolute_uri(deploy.get_absolute_url()),
        "status": deploy.status,
        "service": service.name,
        "trigger": deploy.trigger,
        "release_policy": deploy.release_policy,
        "release": deploy.release,
        "release_note": deploy.release_note,
        "revision": deploy.revision.name if deploy.revision else None,
        "run": run.pk if run else None,
    }


@router.post(
    "/{name}/deploys",
    response={202: DeployOut, 409: RollbackBusyOut, **error_responses(400, 404)},
    summary="Deploy and test",
)
def deploy(request: HttpRequest, name: str, payload: DeployIn):
    """Start deploy-and-test (trigger `api`): deploy the build (or image) with the release policy
    asked for, run the suite, let the gate judge, and move traffic by the policy; answer 202 at
    once. Follow it on its page, or wait on `GET /api/v1/revisions/{id}/verdict` once `revision`
    is known. 409 (`deploy_in_progress`) when another deploy of the service is active."""
    require_action(request, "deploy")
    service = Service.objects.filter(name=name).first()
    if service is None:
        return Status(404, error_body(f"There is no service named {name!r}.", "not_found"))
    build = None
    if payload.build is not None:
        build = service.builds.filter(pk=payload.build).first()
        if build is None:
            return Status(
                400,
                error_body(
                    f"Service {name} has no build {payload.build}.", "invalid", field="build"
                ),
            )
    suite = None
    if payload.suite:
        suite = service.suites.filter(name=payload.suite).first()
        if suite is None:
            return Status(
                400,
                error_body(
                    f"Service {name} has no suite named {payload.suite!r}.",
                    "invalid",
                    field="suite",
                ),
            )
    if payload.release_policy and payload.release_policy not in Service.ReleasePolicy.values:
        return Status(
            400,
            error_body(
                f"release_policy must be one of {', '.join(Service.ReleasePolicy.values)}, "
                f"not {payload.release_policy!r}.",
                "invalid",
                field="release_policy",
            ),
        )
    try:
        created, _run = deploy_and_test_create(
            service=service,
            suite=suite,
            build=build,
            image=payload.image.strip(),
            user=request.user,
            trigger=Deploy.Trigger.API,
            release_policy=payload.release_policy,
        )
    except NothingToDeploy as exc:
        return Status(400, error_body(str(exc), "invalid", field="image"))
    except DeployInProgress as exc:
        return Status(409, _busy_body(request, service, exc.active, "deploy"))
    return Status(202, _deploy_body(request, created, service))


class PromoteIn(Schema):
    revision: str = Field(description="The name of the revision to send all traffic to.")
    reason: str = Field(
        "",
        max_length=1000,
        description="Required when the revision's latest verdict is not `pass` (an override): "
        "recorded on the deploy and shown in the manager's summary.",
    )


@router.post(
    "/{name}/promote",
    response={202: DeployOut, 409: RollbackBusyOut, **error_responses(400, 404)},
    summary="Promote a revision",
)
def promote(request: HttpRequest, name: str, payload: PromoteIn):
    """Create a promote deploy (trigger `promote`) that sends all of the service's traffic to
    `revision` and retires the one that served; answer 202 at once. A revision whose latest gate
    verdict is not `pass` is promoted only with a `reason` (400 `invalid`, field `reason`,
    without one): an emergency override, recorded and shown in the summary. 409
    (`deploy_in_progress`) while another deploy of the service is active."""
    require_action(request, "promote")
    service = Service.objects.filter(name=name).select_related("current_revision").first()
    if service is None:
        return Status(404, error_body(f"There is no service named {name!r}.", "not_found"))
    revision = service.revisions.filter(name=payload.revision).first()
    if revision is None:
        return _no_revision(name, payload.revision)
    try:
        created = promote_create(
            service=service, revision=revision, reason=payload.reason, user=request.user
        )
    except CannotPromote as exc:
        return Status(400, error_body(str(exc), "invalid", field=exc.field))
    except DeployInProgress as exc:
        return Status(409, _busy_body(request, service, exc.active, "promote"))
    return Status(202, _deploy_body(request, created, service))
