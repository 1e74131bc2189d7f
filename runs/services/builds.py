"""Builds: what CI (or an operator) registers as ready to deploy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from runs.models import Build, Deploy, Loop, Service
from runs.services.loops import loops_on_new_build


@dataclass
class BuildRegistered:
    build: Build
    loops_resumed: list[Loop]
    # Loops that could not deploy the build yet: another deploy of the service is active
    # (blocking_deploy; None when it ended in the meantime). They deploy it once it has ended.
    loops_waiting: list[Loop]
    blocking_deploy: Deploy | None


def build_register(
    *,
    service: Service,
    image: str,
    commit_sha: str = "",
    message: str = "",
    commit_time: datetime | None = None,
    user=None,
) -> BuildRegistered:
    """Record a build, always; loops of the service waiting for a new build move on with it, or,
    when another deploy of the service is active, deploy it once that deploy has ended."""
    with transaction.atomic():
        build = Build.objects.create(
            service=service,
            image=image[:300],
            commit_sha=commit_sha[:64],
            commit_message=message,
            commit_time=commit_time,
            created_by=user if user is not None and user.is_authenticated else None,
        )
        outcome = loops_on_new_build(build=build)
    return BuildRegistered(
        build=build,
        loops_resumed=outcome.resumed,
        loops_waiting=outcome.waiting,
        blocking_deploy=outcome.blocking_deploy,
    )
