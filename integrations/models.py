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


class HttpSend(models.Model):
    """The queue and outcome fields of a row sent over HTTP by a worker (the table is the work
    queue): claimed while ``claimed_until`` lasts, due again at ``next_attempt_at``, and what the
    last attempt got back."""

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
        abstract = True


class WebhookDelivery(HttpSend):
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


class CommitStatus(HttpSend):
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

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "commit statuses"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="commit_status_due"),
            models.Index(fields=["sha", "context"], name="commit_status_sha_context"),
            models.Index(fields=["created_at"], name="commit_status_time"),
            # The commit statuses page of one service.
            models.Index(fields=["service", "-created_at"], name="commit_status_service_time"),
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


# --- Notifications ------------------------------------------------------------------------------


class Channel(models.Model):
    """Where notifications go: an Apprise URL (Slack, Teams, Discord, ntfy, Matrix, JSON…) or
    plain email addresses sent through Django's email backend."""

    class Kind(models.TextChoices):
        APPRISE = "apprise", "Apprise URL"
        EMAIL = "email", "Email"

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.APPRISE)
    # Holds the channel's secrets (tokens, passwords): only the sender reads it; pages and logs
    # show ``url_masked``.
    url = models.TextField(blank=True)
    url_masked = models.TextField(blank=True)
    emails = models.CharField(max_length=1000, blank=True, help_text="Comma-separated addresses.")
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notification_channels",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="apprise", emails="") & ~models.Q(url="")
                | models.Q(kind="email", url="") & ~models.Q(emails=""),
                name="channel_url_or_emails",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def target(self) -> str:
        """What pages show of where it sends: the masked URL or the addresses."""
        return self.url_masked if self.kind == self.Kind.APPRISE else self.emails


class NotificationRule(models.Model):
    """Which events go to which channel: a team rule (a Manager's, to a channel) or a person's
    subscription (``subscriber`` set: to a channel or to their own email)."""

    class Digest(models.TextChoices):
        IMMEDIATE = "", "Each event at once"
        HOURLY = "hourly", "One message per hour"
        DAILY = "daily", "One message per day"

    subscriber = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notification_subscriptions",
    )
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.CASCADE, related_name="rules"
    )
    events = models.JSONField(default=list, blank=True, help_text="Empty: every event.")
    service = models.ForeignKey(
        "runs.Service",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notification_rules",
    )
    # Only events owned by this user or team (test owners, analysis and action item owners).
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    owner_team = models.ForeignKey(
        "auth.Group", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    min_severity = models.CharField(
        max_length=10,
        choices=[("info", "Info"), ("warning", "Warning"), ("critical", "Critical")],
        default="info",
    )
    digest = models.CharField(max_length=10, choices=Digest.choices, default="", blank=True)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            # A team rule needs a channel; a subscription without one goes to its owner's email.
            models.CheckConstraint(
                condition=models.Q(channel__isnull=False) | models.Q(subscriber__isnull=False),
                name="rule_channel_or_subscriber",
            ),
        ]
        indexes = [models.Index(fields=["active", "service"], name="rule_active_service")]

    def __str__(self) -> str:
        return f"rule {self.pk}"


class NotificationDelivery(models.Model):
    """One message for one rule's target: the line and link as sent, and how sending went.
    The table is the sender's work queue, as for webhook deliveries."""

    class Status(models.TextChoices):
        HELD = "held", "Held for the digest"
        DIGESTED = "digested", "Sent in a digest"
        PENDING = "pending", "Pending"
        DELIVERING = "delivering", "Delivering"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        GIVEN_UP = "given_up", "Given up"

    rule = models.ForeignKey(
        NotificationRule, null=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    # The subscriber's address when the rule sends to their email (resolved when written).
    email = models.CharField(max_length=254, blank=True)
    event_id = models.UUIDField()
    kind = models.CharField(max_length=50)
    severity = models.CharField(max_length=10, default="info")
    service = models.ForeignKey(
        "runs.Service", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(max_length=200)
    text = models.TextField(help_text="What happened, one line per event, each with its link.")
    link = models.CharField(max_length=2000, blank=True)
    digest_due_at = models.DateTimeField(null=True, blank=True)
    digest = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="digested"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=1000, blank=True)
    response_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notif_due"),
            models.Index(fields=["status", "digest_due_at"], name="notif_digest_due"),
            models.Index(fields=["created_at"], name="notif_time"),  # the message log's pages
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.status})"

    @property
    def target(self) -> str:
        return self.channel.target if self.channel_id and self.channel else self.email
