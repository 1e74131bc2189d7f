"""Outgoing webhooks and their deliveries (the deliveries table is the sender's work queue)."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)


class Webhook(models.Model):
    """An endpoint that receives signed JSON for the events it wants, of one service or all."""

    name = models.CharField(max_length=100)
    service = models.ForeignKey(
        "runs.Service",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhooks",
        help_text="Only this service's events; empty for every service.",
    )
    events = models.JSONField(default=list, help_text="The event kinds it wants.")
    url = models.URLField(max_length=2000)
    # Kept as is: signing needs it. Shown once at creation, masked on every page after.
    secret = models.CharField(max_length=100)
    # After a rotation: the previous secret, still signed with until ``old_secret_expires_at``.
    old_secret = models.CharField(max_length=100, blank=True)
    old_secret_expires_at = models.DateTimeField(null=True, blank=True)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)
    paused_reason = models.CharField(max_length=500, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="webhooks",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        permissions = [("manage_integrations", "Can add, change and remove webhooks")]
        indexes = [models.Index(fields=["active", "service"], name="webhook_active_service")]

    def __str__(self) -> str:
        return self.name

    @property
    def secret_masked(self) -> str:
        """The secret as pages show it after creation: its prefix and last four characters."""
        return f"{SECRET_PREFIX}…{self.secret[-4:]}" if self.secret else ""

    def wants(self, kind: str) -> bool:
        return kind in self.events

    def old_secret_valid(self, now: datetime | None = None) -> str:
        """The previous secret while its grace period lasts, else empty."""
        if not self.old_secret or self.old_secret_expires_at is None:
            return ""
        return self.old_secret if (now or timezone.now()) < self.old_secret_expires_at else ""


class WebhookDelivery(models.Model):
    """One event for one webhook: the body exactly as signed and sent, and how sending went."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERING = "delivering", "Delivering"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        GIVEN_UP = "given_up", "Given up"

    FINISHED = (Status.DELIVERED, Status.FAILED, Status.GIVEN_UP)

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event_id = models.UUIDField()
    kind = models.CharField(max_length=50)
    body = models.TextField(help_text="The JSON body as sent (the signature covers these bytes).")
    # A test event or a redelivery: sent even while the webhook is paused.
    manual = models.BooleanField(default=False)
    redelivery_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="redeliveries"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    response_ms = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=1024, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The sender's claim: due pending rows, and delivering rows whose claim ran out.
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
            models.Index(fields=["webhook", "-created_at"], name="delivery_webhook_time"),
            models.Index(fields=["created_at"], name="delivery_time"),  # the prune
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "delivering"])
                | models.Q(next_attempt_at__isnull=True),
                name="delivery_finished_not_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.webhook_id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED


class CommitStatus(models.Model):
    """One state of a run or a gate verdict to post on a commit at its code host, and how posting
    went. Written in the transaction that changed the run or stored the verdict; sent by a worker
    like webhook deliveries (the table is the queue). A newer state of the same commit and context
    supersedes one not yet sent, so a host never ends on an older state."""

    class Host(models.TextChoices):
        GITHUB = "github", "GitHub"
        GITLAB = "gitlab", "GitLab"

    class State(models.TextChoices):
        """Host-neutral; codehost.py maps them to each host's words."""

        PENDING = "pending", "Pending"
        SUCCESS = "success", "Success"
        FAILURE = "failure", "Failure"
        ERROR = "error", "Error"
        CANCELLED = "cancelled", "Cancelled"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERING = "delivering", "Delivering"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        GIVEN_UP = "given_up", "Given up"
        SUPERSEDED = "superseded", "Superseded"

    service = models.ForeignKey(
        "runs.Service", on_delete=models.CASCADE, related_name="commit_statuses"
    )
    run = models.ForeignKey(
        "runs.TestRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="commit_statuses",
    )
    verdict = models.ForeignKey(
        "runs.Verdict",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="commit_statuses",
    )
    # Copied when written: what was posted stays readable if the service's settings change.
    host = models.CharField(max_length=16, choices=Host.choices)
    repository = models.CharField(max_length=300)
    sha = models.CharField(max_length=64)
    context = models.CharField(max_length=255)
    state = models.CharField(max_length=16, choices=State.choices)
    description = models.CharField(max_length=140, blank=True)
    target_url = models.CharField(max_length=2000, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    response_ms = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=1024, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "commit statuses"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="commit_status_due"),
            models.Index(fields=["sha", "context"], name="commit_status_sha_context"),
            models.Index(fields=["created_at"], name="commit_status_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "delivering"])
                | models.Q(next_attempt_at__isnull=True),
                name="commit_status_finished_not_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.context} {self.state} on {self.repository}@{self.sha[:12]} ({self.status})"
