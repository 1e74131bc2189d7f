"""Five-whys analyses: the problem, the chain of whys, root causes and action items."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse


class Analysis(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        DONE = "done", "Done"
        VERIFIED = "verified", "Verified"

    OPEN = (Status.DRAFT, Status.IN_REVIEW)

    service = models.ForeignKey("runs.Service", on_delete=models.CASCADE, related_name="analyses")
    title = models.CharField(max_length=200)
    problem = models.TextField()
    trigger = models.TextField(blank=True, help_text="What set it off, kept apart from the cause.")
    root_causes = models.JSONField(default=list, blank=True)
    contributing_factors = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    signature = models.ForeignKey(
        "runs.FailureSignature",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="analyses",
    )
    run = models.ForeignKey(
        "runs.TestRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="analyses"
    )
    revision = models.ForeignKey(
        "runs.Revision", null=True, blank=True, on_delete=models.SET_NULL, related_name="analyses"
    )
    cases = models.ManyToManyField("runs.TestCase", blank=True, related_name="analyses")
    verified_by_run = models.ForeignKey(
        "runs.TestRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopened_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "analyses"
        indexes = [
            models.Index(fields=["service", "status", "-created_at"], name="analysis_service"),
        ]
        permissions = [("write_analysis", "Can write five-whys analyses")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("analysis-detail", args=[self.pk])


class Why(models.Model):
    """One link of the chain: a question, its answer and the evidence for it."""

    analysis = models.ForeignKey(Analysis, on_delete=models.CASCADE, related_name="whys")
    position = models.PositiveSmallIntegerField()
    question = models.TextField()
    answer = models.TextField(blank=True)
    evidence = models.JSONField(default=list, blank=True, help_text="Links: runs, results, logs.")

    class Meta:
        ordering = ["analysis", "position"]
        verbose_name_plural = "whys"
        constraints = [
            models.UniqueConstraint(fields=["analysis", "position"], name="why_unique_position"),
        ]

    def __str__(self) -> str:
        return f"Why {self.position}: {self.question[:60]}"


class ActionItem(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        DROPPED = "dropped", "Dropped"

    OPEN_STATES = (Status.OPEN, Status.IN_PROGRESS)

    analysis = models.ForeignKey(Analysis, on_delete=models.CASCADE, related_name="action_items")
    what = models.TextField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="action_items",
    )
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    link = models.URLField(blank=True, help_text="The fixing commit, build or revision.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_date", "pk"]
        indexes = [models.Index(fields=["owner", "status", "due_date"], name="action_owner_due")]

    def __str__(self) -> str:
        return self.what[:80]


class AnalysisEvent(models.Model):
    """Who changed an analysis, when, and what they did."""

    analysis = models.ForeignKey(Analysis, on_delete=models.CASCADE, related_name="events")
    who = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    at = models.DateTimeField(auto_now_add=True)
    what = models.CharField(max_length=300)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return self.what
