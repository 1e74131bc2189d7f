"""Reads for the webhooks pages."""

from __future__ import annotations

from django.db.models import Count, Max, Q, QuerySet

from integrations.models import Webhook, WebhookDelivery
from integrations.selectors.paging import PER_PAGE, LogPage, log_page


def webhooks_listed() -> QuerySet[Webhook]:
    """Every webhook with its service, and its deliveries counted by outcome."""
    return Webhook.objects.select_related("service", "created_by").annotate(
        delivered=Count("deliveries", filter=Q(deliveries__status="delivered")),
        failing=Count("deliveries", filter=Q(deliveries__status__in=["failed", "given_up"])),
        waiting=Count("deliveries", filter=Q(deliveries__status__in=["pending", "delivering"])),
        last_delivery_at=Max("deliveries__created_at"),
    )


def webhook_deliveries(*, webhook: Webhook, after: str = "", per_page: int = PER_PAGE) -> LogPage:
    """A page of the webhook's deliveries, newest first, after the cursor ``after`` (the body is
    left out: it can be large); raises BadParam for a cursor no link made."""
    rows = WebhookDelivery.objects.filter(webhook=webhook).defer("body")
    return log_page(rows, after=after, per_page=per_page)
