"""Reads for the overview page: one card per service."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import OuterRef, Prefetch, Subquery

from runs.models import Deploy, Service, TestRun


@dataclass
class ServiceCard:
    service: Service
    last_run: TestRun | None
    active_deploy: Deploy | None


def service_cards() -> list[ServiceCard]:
    """Every service with its current revision, last finished run and active deploy.

    A fixed number of queries, whatever the number of runs.
    """
    last_run_id = (
        TestRun.objects.filter(service=OuterRef("pk"), status__in=TestRun.FINISHED)
        .order_by("-created_at")
        .values("pk")[:1]
    )
    services = list(
        Service.objects.select_related("current_revision")
        .annotate(last_run_id=Subquery(last_run_id))
        .prefetch_related(
            Prefetch(
                "deploys",
                queryset=Deploy.objects.filter(status__in=Deploy.ACTIVE),
                to_attr="active_deploys",
            )
        )
    )
    runs = TestRun.objects.select_related("revision", "suite").in_bulk(
        [s.last_run_id for s in services if s.last_run_id]
    )
    return [
        ServiceCard(
            service=s,
            last_run=runs.get(s.last_run_id),
            active_deploy=s.active_deploys[0] if s.active_deploys else None,
        )
        for s in services
    ]
