"""The outbox: every task message, written in the transaction of the rows that need it.

A message is sent on commit and marked sent. If the broker is down it stays unsent, and the
sweeper sends it again (runs.services.outbox), oldest first, backing off while the broker stays
down. Sent messages are kept a while for the record, then pruned. Consumers claim their rows with
conditional UPDATEs, so a message that arrives twice does its work once.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Outbox(models.Model):
    task = models.CharField(max_length=200, help_text="The Celery task name it is sent under.")
    args = models.JSONField(default=list, blank=True)
    # task and args in one indexed string ("runs.tasks.deploy_and_test:42"): finds the messages
    # of one record without comparing JSON, which PostgreSQL and SQLite do differently.
    key = models.CharField(max_length=255, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "runs_outbox"
        verbose_name = "outbox message"
        indexes = [
            # The sweeper's question: which unsent messages are due, oldest first.
            models.Index(
                fields=["next_attempt_at", "id"],
                name="outbox_unsent_due",
                condition=models.Q(sent_at__isnull=True),
            ),
            models.Index(
                fields=["sent_at"], name="outbox_sent", condition=models.Q(sent_at__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        state = f"sent {self.sent_at:%Y-%m-%d %H:%M:%S}" if self.sent_at else "unsent"
        return f"{self.task}{tuple(self.args)} ({state})"

    @staticmethod
    def key_for(task: str, args) -> str:
        return f"{task}:{','.join(str(a) for a in args)}"[:255]
