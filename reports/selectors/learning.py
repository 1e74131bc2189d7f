"""Learning figures: analyses opened, done and verified; open and overdue action items."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from analyses.models import ActionItem, Analysis
from reports.figures import Figure
from reports.scope import Scope


def learning_figures(scope: Scope) -> list[Figure]:
    start, end = scope.start_dt, scope.end_dt
    a = scope.filter(Analysis.objects.all()).aggregate(
        opened=Count("pk", filter=Q(created_at__gte=start, created_at__lt=end)),
        done=Count("pk", filter=Q(done_at__gte=start, done_at__lt=end)),
        verified=Count("pk", filter=Q(verified_at__gte=start, verified_at__lt=end)),
    )
    today = timezone.localdate()
    items = scope.filter(
        ActionItem.objects.filter(status__in=ActionItem.OPEN_STATES), "analysis__service"
    ).aggregate(open=Count("pk"), overdue=Count("pk", filter=Q(due_date__lt=today)))
    analyses_url, items_url = reverse("analysis-list"), reverse("action-item-list")

    def figure(key, label, value, url, definition):
        return Figure(key, label, str(value), value, "", value, True, url, definition)

    return [
        figure(
            "learning.analyses_opened",
            "Analyses opened",
            a["opened"],
            analyses_url,
            "five-whys analyses started in the period",
        ),
        figure(
            "learning.analyses_done",
            "Analyses done",
            a["done"],
            f"{analyses_url}?status=done",
            "analyses first marked done in the period",
        ),
        figure(
            "learning.analyses_verified",
            "Analyses verified",
            a["verified"],
            f"{analyses_url}?status=verified",
            "analyses whose tests passed on a later revision, in the period",
        ),
        figure(
            "learning.action_items_open",
            "Open action items",
            items["open"],
            items_url,
            "action items open or in progress, now",
        ),
        figure(
            "learning.action_items_overdue",
            "Overdue action items",
            items["overdue"],
            items_url,
            "open action items past their due date, now",
        ),
    ]
