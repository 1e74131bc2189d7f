"""POST /api/v1/builds: CI registers a new build (image, commit) of a service."""

from __future__ import annotations

from datetime import UTC, datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import field_validator

from runs.api.errors import ErrorOut, error_body, error_responses
from runs.api.permissions import require_action
from runs.models import Service
from runs.services.builds import BuildRegistered, build_register

router = Router(tags=["builds"])
COMMIT_YEARS = (1970, 2100)


class BuildIn(Schema):
    service: str
    image: str
    commit_sha: str = ""
    message: str = ""
    commit_time: datetime | None = None

    @field_validator("commit_time")
    @classmethod
    def _commit_time_in_range(cls, value: datetime | None) -> datetime | None:
        """A time no commit can have would be stored and break every page showing the build."""
        if value is None:
            return None
        try:
            moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        except OverflowError:
            moment = None
        if moment is None or not COMMIT_YEARS[0] <= moment.year <= COMMIT_YEARS[1]:
            raise ValueError(
                f"commit_time must fall in the years {COMMIT_YEARS[0]} to {COMMIT_YEARS[1]} (UTC)"
            )
        return moment


class BuildOut(Schema):
    id: int
    service: str
    image: str
    commit_sha: str
    loops_resumed: list[int]


class BuildWaitsOut(ErrorOut):
    """409: the build is registered, but the waiting loop cannot deploy it while another deploy
    of the service is active; it deploys it once that deploy and its tests have ended."""

    build: int = Field(description="The id of the build, registered: do not send it again.")
    deploy: int | None = Field(
        description="The deploy of the service in progress that the loop waits for."
    )
    url: str = Field(description="The page of that deploy, to follow it.")
    loops_waiting: list[int] = Field(description="The loops that will deploy the build.")


@router.post(
    "",
    response={201: BuildOut, 409: BuildWaitsOut, **error_responses(400, 413)},
    summary="Register a build",
)
def register_build(request: HttpRequest, payload: BuildIn):
    """A loop waiting for a new build of the service deploys this one next. When another deploy
    of the service is in progress the build is still registered, the answer is 409
    (`deploy_in_progress`) with a link to that deploy, and the loop deploys the build once it
    has ended."""
    require_action(request, "register_build")
    service = Service.objects.filter(name=payload.service).first()
    if service is None:
        return Status(
            400,
            error_body(
                f"There is no service named {payload.service!r}; services are created by an admin.",
                "invalid",
                field="service",
            ),
        )
    if not payload.image.strip():
        return Status(
            400,
            error_body("image must name the image or version to deploy.", "invalid", field="image"),
        )
    registered = build_register(
        service=service,
        image=payload.image.strip(),
        commit_sha=payload.commit_sha.strip(),
        message=payload.message,
        commit_time=payload.commit_time,
        user=request.user,
    )
    build = registered.build
    if registered.loops_waiting:
        return Status(409, _waits_body(request, registered))
    return Status(
        201,
        {
            "id": build.pk,
            "service": service.name,
            "image": build.image,
            "commit_sha": build.commit_sha,
            "loops_resumed": [loop.pk for loop in registered.loops_resumed],
        },
    )


def _waits_body(request: HttpRequest, registered: BuildRegistered) -> dict:
    build, deploy = registered.build, registered.blocking_deploy
    loops = ", ".join(f"#{loop.pk}" for loop in registered.loops_waiting)
    url = request.build_absolute_uri(deploy.get_absolute_url()) if deploy else ""
    busy = (
        f"deploy #{deploy.pk} of {build.service.name} is in progress ({url})"
        if deploy
        else f"another deploy of {build.service.name} was in progress"
    )
    error = (
        f"Build #{build.pk} ({build.image}) is registered, but loop {loops} cannot deploy it yet: "
        f"{busy}. The loop deploys it once that deploy has ended; do not send the build again."
    )
    return {
        **error_body(error, "deploy_in_progress"),
        "build": build.pk,
        "deploy": deploy.pk if deploy else None,
        "url": url,
        "loops_waiting": [loop.pk for loop in registered.loops_waiting],
    }
