"""POST /api/v1/services/{name}/rollback: send all traffic back to an earlier revision."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from runs.api.errors import ErrorOut, error_body, error_responses
from runs.api.permissions import require_action
from runs.api.verdicts import VERDICT_DOC, VerdictOut, get_service_verdict
from runs.models import Deploy, Service
from runs.services.deploys import DeployInProgress
from runs.services.rollback import CannotRollBack, rollback_create

router = Router(tags=["services"])


class RollbackIn(Schema):
    revision: str = Field(description="The name of the revision to send all traffic back to.")


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
    the service is active."""
    require_action(request, "rollback")
    service = Service.objects.filter(name=name).select_related("current_revision").first()
    if service is None:
        return Status(404, error_body(f"There is no service named {name!r}.", "not_found"))
    revision = service.revisions.filter(name=payload.revision).first()
    if revision is None:
        return Status(
            404,
            error_body(
                f"Service {name} has no revision named {payload.revision!r}.",
                "not_found",
                field="revision",
            ),
        )
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


def _busy_body(request: HttpRequest, service: Service, active: Deploy | None) -> dict:
    url = request.build_absolute_uri(active.get_absolute_url()) if active else ""
    busy = (
        f"deploy #{active.pk} of {service.name} is in progress ({url})"
        if active
        else (f"another deploy of {service.name} is in progress")
    )
    return {
        **error_body(
            f"Cannot roll back now: {busy}. Roll back once it has ended.", "deploy_in_progress"
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
