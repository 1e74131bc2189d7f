"""Which revisions a service can roll back to, and what stands in the way."""

from __future__ import annotations

from runs.models import Deploy, Revision, Service

# A revision that can serve again: ready, or retired (kept at 0 % on Cloud Run, restarted
# locally). A failed one never became healthy.
CAN_SERVE = (Revision.Status.READY, Revision.Status.RETIRED)


def rollback_refusal(*, service: Service, to_revision: Revision) -> str:
    """Why ``service`` cannot roll back to ``to_revision``, or '' when it can."""
    if to_revision.service_id != service.pk:
        return f"Revision {to_revision.name} is not a revision of {service.name}."
    if service.current_revision_id == to_revision.pk:
        return f"Revision {to_revision.name} is already the current revision of {service.name}."
    if to_revision.status not in CAN_SERVE:
        return (
            f"Revision {to_revision.name} is {to_revision.status}: only a ready or retired "
            "revision can serve again."
        )
    return ""


def active_deploy(*, service: Service) -> Deploy | None:
    """The service's queued or running deploy, if any (a rollback waits for it)."""
    return Deploy.objects.filter(service=service, status__in=Deploy.ACTIVE).first()
