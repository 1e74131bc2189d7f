"""Five-whys analyses: the problem, the chain of whys, root causes and action items."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

_url = URLValidator(schemes=["http", "https"])


def is_site_path(value: str) -> bool:
    """A path on this site: starts with one slash and no browser reads it as another host
    (``//host``, ``/\\host`` and control characters are read as one by some browsers)."""
    return value.startswith("/") and url_has_allowed_host_and_scheme(value, allowed_hosts=set())


def validate_link(value: str) -> None:
    """A link is an http(s) URL or a path on this site (``/runs/12/#log``)."""
    if is_site_path(value):
        return
    if value.startswith("/"):
        raise ValidationError(f"“{value}” is not a path on this site.")
    try:
        _url(value)
    except ValidationError:
        raise ValidationError(
            f"“{value}” is not a link: use an http(s) URL or a path on this site such as /runs/12/."
        ) from None


# A commit sha, or an image / revision reference: [registry[:port]/]name[/name...][:tag][@digest].
_SHA = re.compile(r"[0-9a-f]{7,64}", re.IGNORECASE)
_REFERENCE = re.compile(
    r"[a-z0-9][a-z0-9._-]*(?::[0-9]+)?(?:/[a-z0-9][a-z0-9._-]*)*"
    r"(?::[a-z0-9_][a-z0-9._-]{0,127})?(?:@sha256:[0-9a-f]{64})?",
    re.IGNORECASE,
)


def is_link(value: str) -> bool:
    """Whether the value is something a browser can open: an http(s) URL or a path here."""
    if value.startswith("/"):
        return is_site_path(value)
    return value.startswith(("http://", "https://"))


def validate_action_link(value: str) -> None:
    """What fixed it: a commit sha, a build (``stageloop-demo:1.4.1``, ``registry/team/app:2``),
    a revision name (``web-00042-x7k``), an http(s) URL or a path on this site."""
    if _SHA.fullmatch(value) or _REFERENCE.fullmatch(value):
        return
    try:
        validate_link(value)
    except ValidationError:
        raise ValidationError(
            f"“{value}” names no commit, build, revision or page: use a commit sha, a build such "
            "as stageloop-demo:1.4.1, a revision name such as web-00042-x7k, an http(s) URL or a "
            "path on this site such as /revisions/3/."
        ) from None


class Analysis(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        DONE = "done", "Done"
        VERIFIED = "verified", "Verified"

    OPEN = (Status.DRAFT, Status.IN_REVIEW)
    # Not yet proven fixed: a signature has at most one analysis in these states.
    UNRESOLVED = (Status.DRAFT, Status.IN_REVIEW, Status.DONE)
    EDITABLE_STATUSES = (Status.DRAFT, Status.IN_REVIEW, Status.DONE)

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
    done_at = models.DateTimeField(null=True, blank=True)
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopened_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "runs_analysis"  # the table it had in runs: moved without a copy
        ordering = ["-created_at"]
        verbose_name_plural = "analyses"
        indexes = [
            models.Index(fields=["service", "status", "-created_at"], name="analysis_service"),
        ]
        constraints = [
            # The analyze step may run twice at once: the database refuses the second draft.
            models.UniqueConstraint(
                fields=["signature"],
                condition=models.Q(status__in=["draft", "in_review", "done"]),
                name="analysis_one_unresolved_per_signature",
            ),
        ]
        permissions = [("write_analysis", "Can write five-whys analyses")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("analysis-detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


class Why(models.Model):
    """One link of the chain: a question, its answer and the evidence for it."""

    analysis = models.ForeignKey(Analysis, on_delete=models.CASCADE, related_name="whys")
    position = models.PositiveSmallIntegerField()
    question = models.TextField()
    answer = models.TextField(blank=True)
    evidence = models.JSONField(default=list, blank=True, help_text="Links: runs, results, logs.")

    class Meta:
        db_table = "runs_why"
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
    link = models.CharField(
        max_length=500,
        blank=True,
        validators=[validate_action_link],
        help_text="The fixing commit sha, build, revision name, a URL or a path on this site.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # When the "overdue" notification went out: the beat announces each overdue item once.
    overdue_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "runs_actionitem"
        ordering = ["due_date", "pk"]
        indexes = [models.Index(fields=["owner", "status", "due_date"], name="action_owner_due")]

    def __str__(self) -> str:
        return self.what[:80]

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATES

    @property
    def link_opens(self) -> bool:
        """Whether the link can be an <a href>; a sha, build or revision name is shown as text."""
        return is_link(self.link)


class AnalysisEvent(models.Model):
    """Who changed an analysis, when, and what they did."""

    analysis = models.ForeignKey(Analysis, on_delete=models.CASCADE, related_name="events")
    who = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    at = models.DateTimeField(auto_now_add=True)
    what = models.CharField(max_length=300)
    # One line per change, when a save changed several things.
    details = models.JSONField(default=list, blank=True)

    class Meta:
        db_table = "runs_analysisevent"
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["analysis", "-at"], name="analysisevent_time")]

    def __str__(self) -> str:
        return self.what
