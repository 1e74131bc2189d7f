"""Reads for the loop page: a loop, its iterations and what each one did."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from django.db.models import Count

from runs.models import Build, Deploy, Loop, LoopIteration


def loop_with_iterations(*, pk: int) -> tuple[Loop, Sequence[LoopIteration]]:
    """The loop (Loop.DoesNotExist when unknown) and its iterations in order, each with its
    build, deploy, run, ``analysis_count`` and ``fix_build`` (the build the next iteration
    deployed). Two queries, whatever the number of iterations."""
    loop = Loop.objects.select_related("service", "suite", "created_by").get(pk=pk)
    iterations = list(
        loop.iterations.select_related("build", "deploy__revision", "run")
        .annotate(analysis_count=Count("run__analyses"))
        .order_by("number")
    )
    for iteration in iterations:
        iteration.fix_build = None
    for iteration, following in pairwise(iterations):
        iteration.fix_build = following.build
    return loop, iterations


def loop_pending_build(
    *, loop: Loop, iterations: Sequence[LoopIteration]
) -> tuple[Build | None, Deploy | None]:
    """For a waiting loop: the newest build registered after its last iteration's, and the
    active deploy of the service it waits for (None, None when it waits for a build)."""
    last = iterations[-1].build_id if iterations else None
    build = (
        Build.objects.filter(service_id=loop.service_id, pk__gt=last or 0)
        .order_by("-created_at")
        .first()
    )
    if build is None:
        return None, None
    return build, Deploy.objects.filter(
        service_id=loop.service_id, status__in=Deploy.ACTIVE
    ).first()
