"""Finding a suite by its service's name and its own, as the suite-level endpoints address it."""

from __future__ import annotations

from ninja import Status

from runs.api.errors import error_body
from runs.models import Suite


def suite_by_names(service: str, suite: str) -> Suite | None:
    """The suite named ``suite`` of the service named ``service``, with its service."""
    return Suite.objects.select_related("service").filter(service__name=service, name=suite).first()


def no_suite(service: str, suite: str) -> Status:
    """The 404 for a service or suite that does not exist."""
    return Status(
        404,
        error_body(
            f"There is no suite named {suite!r} of a service named {service!r}: check both "
            "names on the service's page.",
            "not_found",
        ),
    )
