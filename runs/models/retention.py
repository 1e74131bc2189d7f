"""Retention: how long a suite keeps its runs, and the record of each pass that deleted some.

A suite without a policy row keeps what settings.RETENTION_DAYS / RETENTION_RUNS say (both 0 by
default: keep forever), so upgrading never deletes an existing team's history by surprise.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

# Upper bounds a form and the API accept: far beyond any sensible policy, below overflow.
MAX_KEEP_DAYS = 36_500
MAX_KEEP_RUNS = 1_000_000


class RetentionPolicy(models.Model):
    """A suite's retention: keep runs younger than `keep_days` and the newest `keep_runs` runs.

    A run is deleted only when every rule set lets it go (the rules keep at least, together);
    with neither set the suite keeps everything. Pinned runs, runs in progress, the suite's
    newest run and runs other records hold as evidence are never deleted (runs.selectors.retention).
    """

    suite = models.OneToOneField(
        "runs.Suite", on_delete=models.CASCADE, related_name="retention_policy"
    )
    keep_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_KEEP_DAYS)],
        help_text="Keep runs younger than this many days; empty: no limit by age.",
    )
    keep_runs = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_KEEP_RUNS)],
        help_text="Keep the suite's newest this many runs; empty: no limit by count.",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "retention policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(keep_days__isnull=True) | Q(keep_days__gte=1),
                name="retention_keep_days_positive",
            ),
            models.CheckConstraint(
                condition=Q(keep_runs__isnull=True) | Q(keep_runs__gte=1),
                name="retention_keep_runs_positive",
            ),
        ]
        permissions = [
            ("manage_retention", "Can set how long a suite keeps its runs"),
            ("pin_run", "Can pin a run so retention keeps it"),
        ]

    def __str__(self) -> str:
        return f"retention of suite {self.suite_id}"

    @property
    def keeps_forever(self) -> bool:
        return self.keep_days is None and self.keep_runs is None


class RetentionPass(models.Model):
    """One retention pass: when it ran, what it deleted, and how it ended.

    At most one pass is running at a time (a partial unique constraint); a second one that
    starts meanwhile records nothing and leaves. A pass whose worker died is taken over once its
    lease has run out."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        LOST = "lost", "Lost"

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField()
    holder = models.CharField(max_length=300, blank=True)
    suites = models.PositiveIntegerField(default=0, help_text="Suites whose runs expired.")
    runs_deleted = models.PositiveIntegerField(default=0)
    results_deleted = models.PositiveBigIntegerField(default=0)
    attachments_deleted = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)
    # pg_total_relation_size of the results table before and after, when measured (PostgreSQL).
    bytes_before = models.PositiveBigIntegerField(null=True, blank=True)
    bytes_after = models.PositiveBigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status="running"),
                name="retention_one_pass_running",
            ),
        ]

    def __str__(self) -> str:
        return f"retention pass {self.pk} ({self.status})"
