"""Reads for the notifications pages."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from integrations.models import Channel, NotificationDelivery, NotificationRule
from integrations.selectors.paging import PER_PAGE, LogPage, log_page


def channels_listed() -> QuerySet[Channel]:
    """Every channel, its deliveries counted by outcome (the URL itself is never shown)."""
    return Channel.objects.select_related("created_by").annotate(
        delivered=Count("deliveries", filter=Q(deliveries__status="delivered")),
        failing=Count("deliveries", filter=Q(deliveries__status__in=["failed", "given_up"])),
        waiting=Count(
            "deliveries", filter=Q(deliveries__status__in=["pending", "delivering", "held"])
        ),
    )


def team_rules() -> QuerySet[NotificationRule]:
    return NotificationRule.objects.filter(subscriber__isnull=True).select_related(
        "channel", "service", "owner_user", "owner_team"
    )


def subscriptions_of(*, user) -> QuerySet[NotificationRule]:
    return NotificationRule.objects.filter(subscriber=user).select_related("channel", "service")


def deliveries_page(*, after: str = "", user=None, per_page: int = PER_PAGE) -> LogPage:
    """A page of the notifications sent, newest first (a user's own subscriptions' when
    ``user``), after the cursor ``after``; raises BadParam for a cursor no link made."""
    rows = NotificationDelivery.objects.select_related("channel", "rule").exclude(
        status=NotificationDelivery.Status.DIGESTED
    )
    if user is not None:
        rows = rows.filter(rule__subscriber=user)
    return log_page(rows, after=after, per_page=per_page)
