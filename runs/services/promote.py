"""Promotion by an Operator: send all traffic to a revision the release did not promote.

A revision whose latest gate verdict passed (a dry run held it back, say) is promoted as asked.
One whose verdict failed or was inconclusive, or that has none, is promoted only with a reason:
an *override*, recorded on the promote deploy and listed in the manager's summary. The promotion
is a Deploy (trigger ``promote``) carried out like a rollback (runs.services.rollback), so one
active deploy per service still holds.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db import IntegrityError, transaction

from runs.models import Deploy, Revision, Service
from runs.selectors.gates import promote_needs_reason
from runs.selectors.rollback import rollback_refusal
from runs.services.deploys import DeployInProgress, deploy_active_for
from runs.services.enqueue import rollback_enqueue


class CannotPromote(ValueError):
    """The revision cannot be promoted as asked; the message says why (and ``field`` what)."""

    def __init__(self, message: str, field: str = "revision") -> None:
        super().__init__(message)
        self.field = field


def promote_create(
    *,
    service: Service,
    revision: Revision,
    reason: str = "",
    user: User | AnonymousUser | None = None,
) -> Deploy:
    """Create the promote Deploy and enqueue it on commit. Raises CannotPromote (a failing
    verdict without a reason, a revision that cannot serve), or DeployInProgress."""
    reason = reason.strip()
    refusal = rollback_refusal(service=service, to_revision=revision)
    if refusal:
        raise CannotPromote(refusal.replace("roll back", "promote"))
    override = promote_needs_reason(revision=revision)
    if override and not reason:
        raise CannotPromote(
            f"Promoting {revision.name} overrides the gate ({override}): give a reason; it is "
            "recorded and shown in the summary.",
            field="reason",
        )
    try:
        with transaction.atomic():
            deploy = Deploy.objects.create(
                service=service,
                revision=revision,
                previous_revision=service.current_revision,
                image=revision.image,
                commit_sha=revision.commit_sha,
                trigger=Deploy.Trigger.PROMOTE,
                requested_by=user if user and user.is_authenticated else None,
                reason=(f"Override ({override}): {reason}" if override else reason)[:4000],
                timeout_seconds=int(service.target_config.get("timeout", 900)),
            )
            rollback_enqueue(deploy_id=deploy.pk)
    except IntegrityError:
        raise DeployInProgress(deploy_active_for(service=service)) from None
    return deploy
