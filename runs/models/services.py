"""Services, their builds, revisions and the deploys that create them."""

from __future__ import annotations

import re
from itertools import pairwise

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse


def _default_canary_steps() -> list[int]:
    return [10, 50, 100]


def validate_canary_steps(value: object) -> None:
    """Increasing whole percents between 1 and 100, ending at 100 (the promotion)."""
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(p, int) and not isinstance(p, bool) and 0 < p <= 100 for p in value)
        or any(b <= a for a, b in pairwise(value))
        or value[-1] != 100
    ):
        raise ValidationError(
            "Canary steps are increasing whole percents between 1 and 100 ending at 100, "
            f"such as [10, 50, 100]; got {value!r}."
        )


_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+")


def validate_code_repository(value: str) -> None:
    """``owner/name`` (GitHub) or ``group/subgroup/project`` (GitLab): path segments only."""
    if value and (not _REPOSITORY.fullmatch(value) or ".." in value):
        raise ValidationError(
            f'A repository is "owner/name" on GitHub or "group/project" on GitLab; got {value!r}.'
        )


class CodeHost(models.TextChoices):
    NONE = "", "None"
    GITHUB = "github", "GitHub"
    GITLAB = "gitlab", "GitLab"


class Service(models.Model):
    """A deployable thing, with the deploy target an admin configured for it."""

    class ReleasePolicy(models.TextChoices):
        IMMEDIATE = "immediate", "Immediate: all traffic at once, then test"
        GATED = "gated", "Gated: test with no traffic, move it only when the gate passes"
        CANARY = "canary", "Canary: gated, then traffic in steps compared with the stable revision"

    class TargetKind(models.TextChoices):
        LOCAL = "local", "Local process"
        CLOUDRUN = "cloudrun", "Google Cloud Run"
        COMMAND = "command", "Deploy command"

    name = models.SlugField(max_length=63, unique=True)
    display_name = models.CharField(max_length=120, blank=True)
    description = models.TextField(blank=True)
    target_kind = models.CharField(
        max_length=16, choices=TargetKind.choices, default=TargetKind.LOCAL
    )
    # Admin-configured only (argument lists, project/region...); never filled from request data.
    target_config = models.JSONField(default=dict, blank=True)
    base_url = models.URLField(blank=True, help_text="Stable URL of the service, if it has one.")
    health_path = models.CharField(max_length=200, default="/healthz")
    default_image = models.CharField(max_length=300, blank=True)
    release_policy = models.CharField(
        max_length=16,
        choices=ReleasePolicy.choices,
        default=ReleasePolicy.IMMEDIATE,
        help_text="How a new revision takes traffic; a deploy may choose another.",
    )
    canary_steps = models.JSONField(
        default=_default_canary_steps,
        blank=True,
        validators=[validate_canary_steps],
        help_text="Canary: the candidate's share at each step, ending at 100 (the promotion).",
    )
    canary_step_seconds = models.PositiveIntegerField(
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(3600)],
        help_text="Canary: how long each step below 100 % holds while both revisions are "
        "probed every second (at least the gate's minimum samples, 20 by default).",
    )
    current_revision = models.ForeignKey(
        "runs.Revision", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Where its commits live: runs and gate verdicts of a revision with a commit sha are posted
    # there as commit statuses (integrations.services.commit_statuses) once the host's token is set.
    code_host = models.CharField(
        max_length=16,
        choices=CodeHost.choices,
        blank=True,
        help_text="Post commit statuses to this code host (its token comes from the environment).",
    )
    code_repository = models.CharField(
        max_length=300,
        blank=True,
        validators=[validate_code_repository],
        help_text='The repository: "owner/name" on GitHub, the project path ("group/project") '
        "on GitLab.",
    )
    # Set by seed_demo and seed_history only: pages and the summary label what such a service
    # holds as demo data, and remove_demo deletes it with everything under it.
    is_demo = models.BooleanField(
        default=False, help_text="Seeded demo data, not real work; removable with remove_demo."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.display_name or self.name

    def get_absolute_url(self) -> str:
        return reverse("service-detail", args=[self.name])

    def clean(self) -> None:
        if bool(self.code_host) != bool(self.code_repository):
            raise ValidationError(
                "Commit statuses need both a code host and a repository; set both, or neither."
            )

    @property
    def url(self) -> str:
        """Where the service answers now: its stable URL, or its current revision's."""
        if self.base_url:
            return self.base_url
        return self.current_revision.url if self.current_revision else ""


class Build(models.Model):
    """A build that CI (or an operator) registered as deployable: an image and its commit."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="builds")
    image = models.CharField(max_length=300)
    commit_sha = models.CharField(max_length=64, blank=True)
    commit_message = models.TextField(blank=True)
    commit_time = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["service", "-created_at"], name="build_service_time")]

    def __str__(self) -> str:
        return f"{self.service.name} {self.image}"


class Revision(models.Model):
    """One deployed version of a service."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"
        RETIRED = "retired", "Retired"

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="revisions")
    name = models.CharField(max_length=120)
    image = models.CharField(max_length=300, blank=True)
    commit_sha = models.CharField(max_length=64, blank=True)
    commit_message = models.TextField(blank=True)
    commit_time = models.DateTimeField(null=True, blank=True)
    url = models.URLField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    traffic_percent = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(100)]
    )
    created_at = models.DateTimeField(auto_now_add=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    # Target-specific facts about the running revision (pid and port of a local process...).
    target_state = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["service", "name"], name="revision_unique_per_service"),
            models.CheckConstraint(
                condition=models.Q(traffic_percent__lte=100), name="revision_traffic_le_100"
            ),
        ]
        indexes = [models.Index(fields=["service", "-created_at"], name="revision_service_time")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("revision-detail", args=[self.pk])


class Deploy(models.Model):
    """One attempt to create a revision: who asked, how it went, where traffic was before."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        LOST = "lost", "Lost"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    class Trigger(models.TextChoices):
        BUTTON = "button", "Button"
        API = "api", "API"
        LOOP = "loop", "Loop"
        CLI = "cli", "Command line"
        ROLLBACK = "rollback", "Rollback"
        PROMOTE = "promote", "Promote"

    class Release(models.TextChoices):
        NONE = "", "—"
        TESTING = "testing", "Testing with no traffic"
        CANARY = "canary", "Canary in progress"
        PROMOTED = "promoted", "Promoted"
        REFUSED = "refused", "Refused by the gate"
        ROLLED_BACK = "rolled_back", "Rolled back"
        FAILED = "failed", "Release failed"

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="deploys")
    build = models.ForeignKey(Build, null=True, blank=True, on_delete=models.SET_NULL)
    revision = models.ForeignKey(
        Revision, null=True, blank=True, on_delete=models.SET_NULL, related_name="deploys"
    )
    previous_revision = models.ForeignKey(
        Revision, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    image = models.CharField(max_length=300, blank=True)
    commit_sha = models.CharField(max_length=64, blank=True)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.BUTTON)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    timeout_seconds = models.PositiveIntegerField(default=900, validators=[MinValueValidator(1)])
    log = models.TextField(blank=True)
    error = models.TextField(blank=True)
    operation = models.CharField(max_length=300, blank=True, help_text="The target's operation id.")
    # The worker that holds a running deploy ("host:pid") and until when; it renews the lease while
    # it works, and the sweeper marks the deploy lost once the lease has run out.
    lease_holder = models.CharField(max_length=300, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # The process group the deploy started (a local revision, a deploy command), recorded as it
    # starts: stopped by the sweeper if the deploy is lost.
    child_pgid = models.PositiveIntegerField(null=True, blank=True)
    traffic_before = models.JSONField(default=list, blank=True)
    traffic_after = models.JSONField(default=list, blank=True)
    # The release: the policy this deploy used (the service's, or the one its operator chose),
    # where it stands, each canary step ({percent, started_at, finished_at, split, outcome,
    # verdict}), and one sentence saying what happened to traffic.
    release_policy = models.CharField(
        max_length=16, choices=Service.ReleasePolicy.choices, default="immediate"
    )
    release = models.CharField(max_length=16, choices=Release.choices, default="", blank=True)
    release_steps = models.JSONField(default=list, blank=True)
    release_note = models.TextField(blank=True)
    # Why an operator promoted despite the gate (trigger promote), required then.
    reason = models.TextField(blank=True)
    # An operator's emergency rollback of a release in progress: its chain rolls back at once.
    abort_requested_at = models.DateTimeField(null=True, blank=True)
    abort_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One deploy at a time per service, enforced by the database, not by the view.
            models.UniqueConstraint(
                fields=["service"],
                condition=models.Q(status__in=["queued", "running"]),
                name="deploy_one_active_per_service",
            ),
        ]
        indexes = [
            models.Index(fields=["service", "-created_at"], name="deploy_service_time"),
            models.Index(fields=["status", "created_at"], name="deploy_status_time"),
        ]
        permissions = [("trigger_deploy", "Can trigger deploys, test runs and loops")]

    def __str__(self) -> str:
        return f"Deploy #{self.pk} of {self.service_id}"

    def get_absolute_url(self) -> str:
        return reverse("deploy-detail", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def duration(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None
