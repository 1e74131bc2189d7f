"""POST /api/v1/builds: CI registers a new build (image, commit) of a service."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema, Status

from runs.api.errors import error_body, error_responses
from runs.api.permissions import require_action
from runs.models import Service
from runs.services.builds import build_register

router = Router(tags=["builds"])


class BuildIn(Schema):
    service: str
    image: str
    commit_sha: str = ""
    message: str = ""
    commit_time: datetime | None = None


class BuildOut(Schema):
    id: int
    service: str
    image: str
    commit_sha: str
    loops_resumed: list[int]


@router.post("", response={201: BuildOut, **error_responses(400, 413)}, summary="Register a build")
def register_build(request: HttpRequest, payload: BuildIn):
    """A loop waiting for a new build of the service deploys this one next."""
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
    build, loops = build_register(
        service=service,
        image=payload.image.strip(),
        commit_sha=payload.commit_sha.strip(),
        message=payload.message,
        commit_time=payload.commit_time,
        user=request.user,
    )
    return Status(
        201,
        {
            "id": build.pk,
            "service": service.name,
            "image": build.image,
            "commit_sha": build.commit_sha,
            "loops_resumed": [loop.pk for loop in loops],
        },
    )
