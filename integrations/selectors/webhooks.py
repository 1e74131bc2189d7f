"""Reads for the webhooks pages."""

from __future__ import annotations

from django.db.models import Count, Max, Q, QuerySet

from integrations.models import Webhook, WebhookDelivery


def webhooks_listed() -> QuerySet[Webhook]:
    """Every webhook with its service, and its deliveries counted by outcome."""
    return Webhook.objects.select_related("service", "created_by").annotate(
        delivered=Count("deliveries", filter=Q(deliveries__status="delivered")),
        failing=Count("deliveries", filter=Q(deliveries__status__in=["failed", "given_up"])),
        waiting=Count("deliveries", filter=Q(deliveries__status__in=["pending", "delivering"])),
        last_delivery_at=Max("deliveries__created_at"),
    )


def webhook_deliveries(*, webhook: Webhook, limit: int = 100) -> list[WebhookDelivery]:
    """The webhook's latest deliveries, newest first (the body is left out: it can be large)."""
    return list(
        WebhookDelivery.objects.filter(webhook=webhook)
        .defer("body")
        .order_by("-created_at", "-pk")[:limit]
    )
