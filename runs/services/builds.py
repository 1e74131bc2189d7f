"""Builds: what CI (or an operator) registers as ready to deploy."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from runs.models import Build, Loop, Service
from runs.services.loops import loops_on_new_build


def build_register(
    *,
    service: Service,
    image: str,
    commit_sha: str = "",
    message: str = "",
    commit_time: datetime | None = None,
    user=None,
) -> tuple[Build, list[Loop]]:
    """Record a build; loops of the service waiting for a new build move on with it."""
    with transaction.atomic():
        build = Build.objects.create(
            service=service,
            image=image[:300],
            commit_sha=commit_sha[:64],
            commit_message=message,
            commit_time=commit_time,
            created_by=user if user is not None and user.is_authenticated else None,
        )
        loops = loops_on_new_build(build=build)
    return build, loops
