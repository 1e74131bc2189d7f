"""Reads of the outbox: the messages that wait for the broker, for the overview."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Min, Q
from django.utils import timezone

from runs.models import Outbox

# A message younger than this is still its on-commit sender's (see runs.services.outbox).
_SENDER_TURN = timedelta(seconds=30)


@dataclass(frozen=True)
class OutboxBacklog:
    unsent: int
    oldest: datetime | None
    last_error: str

    @property
    def label(self) -> str:
        if not self.unsent:
            return ""
        minutes = int((timezone.now() - self.oldest).total_seconds() // 60) if self.oldest else 0
        error = f" Last error: {self.last_error[:160]}" if self.last_error else ""
        return (
            f"{self.unsent} message{'s' if self.unsent != 1 else ''} for the workers wait"
            f"{'s' if self.unsent == 1 else ''} for the broker (oldest {minutes} min ago); the "
            f"sweeper sends {'it' if self.unsent == 1 else 'them'} when it answers.{error}"
        )


def outbox_backlog() -> OutboxBacklog:
    """Unsent messages that a send already failed for, or that waited past their sender's turn.

    One query when there are none (the overview's usual case), two when there are."""
    waiting = Outbox.objects.filter(sent_at__isnull=True).filter(
        Q(attempts__gt=0) | Q(created_at__lt=timezone.now() - _SENDER_TURN)
    )
    found = waiting.aggregate(unsent=Count("pk"), oldest=Min("created_at"))
    if not found["unsent"]:
        return OutboxBacklog(unsent=0, oldest=None, last_error="")
    latest_error = (
        waiting.exclude(last_error="").order_by("-pk").values_list("last_error", flat=True).first()
    )
    return OutboxBacklog(
        unsent=found["unsent"], oldest=found["oldest"], last_error=latest_error or ""
    )
