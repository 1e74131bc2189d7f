"""Webhooks: create (the secret returned once), change, pause, resume, delete."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from integrations import events
from integrations.models import Webhook
from integrations.signing import secret_new
from integrations.urlguard import url_refusal


class WebhookInvalid(ValueError):
    """The webhook cannot be saved as given; the message says why, ``field`` which input."""

    def __init__(self, message: str, *, field: str = "url") -> None:
        super().__init__(message)
        self.field = field


def webhook_check(*, url: str, kinds: Sequence[str]) -> None:
    """Raise WebhookInvalid unless ``url`` may be called and ``kinds`` are known events."""
    refusal = url_refusal(url, allow_private=settings.WEBHOOKS_ALLOW_PRIVATE)
    if refusal:
        raise WebhookInvalid(refusal)
    unknown = sorted(set(kinds) - set(events.KINDS))
    if unknown:
        raise WebhookInvalid(f"Unknown events: {', '.join(unknown)}.", field="events")
    if not kinds:
        raise WebhookInvalid("Choose at least one event to send.", field="events")


def webhook_create(
    *, name: str, url: str, kinds: Sequence[str], service=None, user=None
) -> tuple[Webhook, str]:
    """Create an active webhook; return it and its secret (shown to the user this once)."""
    webhook_check(url=url, kinds=kinds)
    secret = secret_new()
    hook = Webhook.objects.create(
        name=name.strip()[:100],
        url=url,
        events=list(kinds),
        service=service,
        secret=secret,
        created_by=user if user is not None and user.is_authenticated else None,
    )
    return hook, secret


def webhook_update(
    *, webhook: Webhook, name: str, url: str, kinds: Sequence[str], service
) -> Webhook:
    webhook_check(url=url, kinds=kinds)
    webhook.name, webhook.url, webhook.events, webhook.service = (
        name.strip()[:100],
        url,
        list(kinds),
        service,
    )
    webhook.save(update_fields=["name", "url", "events", "service", "updated_at"])
    return webhook


def webhook_pause(*, webhook: Webhook, reason: str) -> None:
    Webhook.objects.filter(pk=webhook.pk).update(
        active=False, paused_reason=reason[:500], paused_at=timezone.now()
    )


def webhook_resume(*, webhook: Webhook) -> None:
    """Active again, its failure streak forgotten; deliveries that waited are sent."""
    Webhook.objects.filter(pk=webhook.pk).update(
        active=True, paused_reason="", paused_at=None, consecutive_failures=0
    )


def webhook_secret_rotate(*, webhook: Webhook) -> str:
    """Give the webhook a new secret and return it (shown this once). The previous one keeps
    signing too (a second ``v1`` in the header) for WEBHOOKS_SECRET_GRACE_HOURS, so a receiver
    can switch without refusing a delivery; a secret older than that is dropped."""
    now = timezone.now()
    grace = timedelta(hours=settings.WEBHOOKS_SECRET_GRACE_HOURS)
    secret = secret_new()
    webhook.old_secret = webhook.secret if grace else ""
    webhook.old_secret_expires_at = now + grace if grace else None
    webhook.secret, webhook.secret_rotated_at = secret, now
    webhook.save(
        update_fields=[
            "secret",
            "old_secret",
            "old_secret_expires_at",
            "secret_rotated_at",
            "updated_at",
        ]
    )
    return secret


def webhook_delete(*, webhook: Webhook) -> None:
    webhook.delete()
