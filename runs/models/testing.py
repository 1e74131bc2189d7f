"""Suites, test runs, the identity of each test, and its outcome in each run."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

# A result proves its test does something when it failed or took longer than this (in seconds);
# the reality check flags tests none of whose results ever did.
TRIVIAL_SECONDS = 0.001
# How long a page waits for the analyze step after a run fails before it stops polling.
ANALYSIS_WAIT = timedelta(minutes=5)


# A schedule runs a suite at most every minute and at least once a week.
MAX_SCHEDULE_MINUTES = 7 * 24 * 60


def case_key_hash(key: str) -> str:
    """TestCase.key_hash for ``key``: its sha1 hex, the fixed-width column imports upsert on."""
    return hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()


def is_real(outcome: str, duration: float) -> bool:
    """Whether one result proves its test does something: it failed, or it took time."""
    return outcome in ("failed", "error") or duration > TRIVIAL_SECONDS


class Outcome(models.TextChoices):
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    ERROR = "error", "Error"
    SKIPPED = "skipped", "Skipped"


class Suite(models.Model):
    """A named test suite of a service, and the size the team means it to have."""

    service = models.ForeignKey("runs.Service", on_delete=models.CASCADE, related_name="suites")
    name = models.CharField(max_length=120)
    # Admin-configured argument list; never built from request data.
    command = models.JSONField(default=list, blank=True)
    working_dir = models.CharField(max_length=500, blank=True)
    env = models.JSONField(default=dict, blank=True)
    timeout_seconds = models.PositiveIntegerField(default=1800, validators=[MinValueValidator(1)])
    test_timeout_seconds = models.PositiveIntegerField(null=True, blank=True)
    target_test_count = models.PositiveIntegerField(
        null=True, blank=True, help_text="How many tests the team means this suite to have."
    )
    # Scheduled as a monitor (runs.services.schedules): run every `schedule_minutes` against the
    # service's current revision while enabled; `schedule_next_at` is the next occurrence due.
    schedule_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_SCHEDULE_MINUTES)],
        help_text="Run this suite every so many minutes against the current revision.",
    )
    schedule_enabled = models.BooleanField(default=False, db_default=False)
    schedule_next_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["service__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["service", "name"], name="suite_unique_per_service"),
            models.CheckConstraint(
                condition=models.Q(schedule_enabled=False)
                | models.Q(schedule_minutes__isnull=False, schedule_next_at__isnull=False),
                name="suite_schedule_complete",
                violation_error_message="A scheduled suite needs an interval in minutes and a "
                "next due time; set its schedule on the suite's page.",
            ),
        ]
        indexes = [
            # The beat's tick: enabled suites whose next occurrence is due.
            models.Index(
                fields=["schedule_next_at"],
                condition=models.Q(schedule_enabled=True),
                name="suite_schedule_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service.name} / {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("suite-detail", args=[self.pk])


class TestRun(models.Model):
    """One execution of a suite against a revision, or one upload of results."""

    __test__ = False  # not a pytest test class

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        PASSED = "passed", "Passed"
        FAILED = "failed", "Failed"
        ERROR = "error", "Error"
        CANCELLED = "cancelled", "Cancelled"
        LOST = "lost", "Lost"

    ACTIVE = (Status.QUEUED, Status.RUNNING)
    FINISHED = (Status.PASSED, Status.FAILED, Status.ERROR, Status.CANCELLED, Status.LOST)

    class Trigger(models.TextChoices):
        DEPLOY = "deploy", "Deploy and test"
        MANUAL = "manual", "Run tests"
        UPLOAD = "upload", "Upload"
        API = "api", "API"
        CLI = "cli", "Command line"
        LOOP = "loop", "Loop"
        SEED = "seed", "Demo data"
        SCHEDULED = "scheduled", "Scheduled"

    suite = models.ForeignKey(Suite, on_delete=models.CASCADE, related_name="runs")
    service = models.ForeignKey("runs.Service", on_delete=models.CASCADE, related_name="runs")
    revision = models.ForeignKey(
        "runs.Revision", null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    deploy = models.ForeignKey(
        "runs.Deploy", null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.MANUAL)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration = models.FloatField(default=0, help_text="Seconds, as the report or runner says.")
    total = models.PositiveIntegerField(default=0)
    passed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    flaky = models.PositiveIntegerField(default=0)
    # Failed or errored results of tests quarantined when the run was imported: reported,
    # never counted as passed, and not blocking (runs.services.states.run_quarantine_mark).
    quarantined_failures = models.PositiveIntegerField(default=0)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    timeout_seconds = models.PositiveIntegerField(default=1800)
    # As on Deploy: the worker's lease, the suite's process group and the run's temp folder, all
    # recorded before the suite starts so the sweeper can clean up after a dead worker.
    lease_holder = models.CharField(max_length=300, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    child_pgid = models.PositiveIntegerField(null=True, blank=True)
    scratch_dir = models.CharField(max_length=500, blank=True)
    log = models.TextField(blank=True)
    error = models.TextField(blank=True)
    warnings = models.JSONField(default=list, blank=True)
    # sha256 over the uploaded files' content; an identical upload returns this run.
    content_hash = models.CharField(max_length=64, blank=True)
    # Claimed by the analyze step (analyses.services.analyze): a second message does nothing.
    analyzed_at = models.DateTimeField(null=True, blank=True)
    # Retention never deletes a pinned run (runs.services.retention); who pinned it and when.
    pinned = models.BooleanField(default=False, db_default=False)
    pinned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    pinned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["suite", "content_hash"],
                condition=~models.Q(content_hash=""),
                name="testrun_unique_upload",
            ),
        ]
        indexes = [
            models.Index(fields=["service", "-created_at"], name="testrun_service_time"),
            models.Index(fields=["suite", "-created_at"], name="testrun_suite_time"),
            models.Index(fields=["revision", "-created_at"], name="testrun_revision_time"),
            models.Index(fields=["status", "created_at"], name="testrun_status_time"),
        ]
        permissions = [("export_report", "Can export business-value reports")]

    def __str__(self) -> str:
        return f"Run #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("run-detail", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def blocking_failures(self) -> int:
        """Failed and errored results that count: all but quarantined failures."""
        return max(0, self.failed + self.errors - self.quarantined_failures)

    @property
    def pass_rate(self) -> float | None:
        """passed / (passed + failed + error); skipped excluded; None when nothing counted."""
        counted = self.passed + self.failed + self.errors
        return self.passed / counted if counted else None

    @property
    def analysis_pending(self) -> bool:
        """Finished with failures in the last few minutes and not analyzed yet: its pages keep
        polling for the analyses the analyze step drafts."""
        if self.analyzed_at or self.status != self.Status.FAILED or self.finished_at is None:
            return False
        return timezone.now() - self.finished_at < ANALYSIS_WAIT

    @property
    def progress_percent(self) -> int:
        if not self.progress_total:
            return 0
        return min(100, round(100 * self.progress_done / self.progress_total))


class TestRunArtifact(models.Model):
    """A raw file kept with a run: the JUnit reports it was imported from, logs."""

    __test__ = False

    run = models.ForeignKey(TestRun, on_delete=models.CASCADE, related_name="artifacts")
    name = models.CharField(max_length=255)
    file = models.FileField(upload_to="artifacts/%Y/%m/")
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64)

    def __str__(self) -> str:
        return self.name


class TestCase(models.Model):
    """The identity of one test across runs: its suite and stable key."""

    __test__ = False

    # Covered by the (suite, key_hash) unique index; a second index would only slow imports.
    # No database-level constraint, like TestResult's keys: the importer creates up to 100,000
    # cases at once for a suite it has just read, and the per-row check cost a third of that.
    suite = models.ForeignKey(
        Suite,
        on_delete=models.CASCADE,
        related_name="cases",
        db_index=False,
        db_constraint=False,
    )
    key = models.TextField()
    # case_key_hash(key): a short, fixed-width column to index and upsert on.
    key_hash = models.CharField(max_length=40)
    name = models.TextField()
    classname = models.TextField(blank=True)
    file = models.TextField(blank=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    # Has it ever failed or taken more than 1 ms? Kept by runs.services.reality; a test still
    # false after many runs is flagged by the reality check as one that may test nothing.
    ever_real = models.BooleanField(default=False)
    # Created by an import and not yet in the search indexes (runs.services.case_search): the
    # trigram GIN indexes hold only cases where this is false, so an import does not pay for them
    # (three quarters of a first import's case writes); search reads the pending ones apart.
    search_pending = models.BooleanField(default=False, db_default=False)
    # Not a column: why the reality check flags the test, set by selectors.reality for the page.
    reality_reason: str

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["suite", "key_hash"], name="testcase_unique_key"),
        ]
        indexes = [
            # The reality check's candidates (run and suite pages): the few tests never real,
            # without reading a 200,000-test suite's others.
            models.Index(
                fields=["suite"], name="testcase_suite_idle", condition=models.Q(ever_real=False)
            ),
            # The cases an import created whose search indexing has not run yet: searched here,
            # by suite, and found by the indexing task (empty once it has run).
            models.Index(
                fields=["suite"],
                name="testcase_search_pending",
                condition=models.Q(search_pending=True),
            ),
        ]

    def __str__(self) -> str:
        return self.key

    def get_absolute_url(self) -> str:
        return reverse("test-detail", args=[self.pk])


class Triage(models.TextChoices):
    """What a person decided a failure signature is; it stays with the signature."""

    UNTRIAGED = "untriaged", "Untriaged"
    PRODUCT_BUG = "product_bug", "Product bug"
    TEST_BUG = "test_bug", "Test bug"
    ENVIRONMENT = "environment", "Environment"
    KNOWN_ISSUE = "known_issue", "Known issue"


class FailureSignature(models.Model):
    """Failures of a suite grouped by their normalized message, and how a person triaged them.

    The triage is stored here, not per result, so a later run failing the same way shows it at
    once."""

    suite = models.ForeignKey(Suite, on_delete=models.CASCADE, related_name="signatures")
    kind = models.CharField(max_length=8, choices=[("failed", "Failure"), ("error", "Error")])
    hash = models.CharField(max_length=40)
    normalized = models.TextField()
    example = models.TextField(blank=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)
    triage = models.CharField(
        max_length=16, choices=Triage.choices, default=Triage.UNTRIAGED, db_default="untriaged"
    )
    # A known issue names the analysis that explains it. Referenced by name, never imported:
    # analyses sits above runs (.importlinter); RESTRICT keeps a known issue from losing it.
    triage_analysis = models.ForeignKey(
        "analyses.Analysis",
        null=True,
        blank=True,
        on_delete=models.RESTRICT,
        related_name="known_issue_signatures",
    )
    triage_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    triage_at = models.DateTimeField(null=True, blank=True)
    triage_comment = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["suite", "hash"], name="signature_unique_per_suite"),
            models.CheckConstraint(
                condition=(
                    models.Q(triage="known_issue", triage_analysis__isnull=False)
                    | (~models.Q(triage="known_issue") & models.Q(triage_analysis__isnull=True))
                ),
                name="signature_known_issue_has_analysis",
            ),
        ]

    def __str__(self) -> str:
        return self.normalized[:80]


class TriageChange(models.Model):
    """One change of a signature's triage: who set what, when, and why."""

    signature = models.ForeignKey(
        FailureSignature, on_delete=models.CASCADE, related_name="triage_changes", db_index=False
    )
    previous = models.CharField(max_length=16, choices=Triage.choices)
    triage = models.CharField(max_length=16, choices=Triage.choices)
    analysis = models.ForeignKey(
        "analyses.Analysis", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    comment = models.TextField(blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["signature", "-at"], name="triagechange_signature_time")]

    def __str__(self) -> str:
        return f"{self.signature_id}: {self.previous} → {self.triage} at {self.at:%Y-%m-%d %H:%M}"


class TestResult(models.Model):
    """One test's outcome in one run."""

    __test__ = False

    # run and case are covered by the composite indexes below; their own FK indexes would
    # double the index writes of every import. Neither has a database-level constraint: the
    # check runs once per inserted row and locks the referenced row (for the case: 100,000
    # distinct tuple headers written per import); together they doubled the import time in
    # bench/ingest.py. The importer is the only writer and takes both ids from its own
    # transaction; deleting a run, case or suite still cascades through Django.
    run = models.ForeignKey(
        TestRun,
        on_delete=models.CASCADE,
        related_name="results",
        db_index=False,
        db_constraint=False,
    )
    case = models.ForeignKey(
        TestCase,
        on_delete=models.CASCADE,
        related_name="results",
        db_index=False,
        db_constraint=False,
    )
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    duration = models.FloatField(default=0)
    message = models.TextField(blank=True)
    details = models.TextField(blank=True)
    output = models.TextField(blank=True, help_text="The test's system-out.")
    # Not among the COPY columns that other writers (live runs, the history seeder) use: the
    # database defaults fill them, and the importer names them (bulk.IMPORT_COLUMNS).
    error_output = models.TextField(blank=True, default="", db_default="")
    # One entry per attempt when the test ran more than once (engine.junit ParsedCase).
    attempt_log = models.JSONField(null=True, blank=True, db_default=None)
    attempts = models.PositiveSmallIntegerField(default=1)
    flaky = models.BooleanField(default=False)
    # A failure of a test quarantined at import time. Not among the importer's COPY columns:
    # the database default fills it, and one UPDATE after the insert marks the few failures.
    quarantined = models.BooleanField(default=False, db_default=False)
    signature = models.ForeignKey(
        FailureSignature,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="results",
        db_index=False,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "case"], name="result_unique_per_run"),
        ]
        indexes = [
            # A run's passes are read through result_unique_per_run, in test order; its failures,
            # its other results (skipped) and its flaky results through small partial indexes,
            # so a 200,000-result run's page, failure groups and comparison never read the
            # passes (bench/pages.py). Partial indexes cost an import only for the rows they hold.
            # The signature rides along so the summary's failures by triage count a period's
            # failures from this index alone (an index-only scan, no heap page per failure).
            models.Index(
                fields=["run", "case"],
                name="result_run_failing",
                condition=models.Q(outcome__in=["failed", "error"]),
                include=["signature"],
            ),
            models.Index(
                fields=["run", "case"],
                name="result_run_other",
                condition=~models.Q(outcome__in=["passed", "failed", "error"]),
            ),
            models.Index(
                fields=["run", "case"], name="result_run_flaky", condition=models.Q(flaky=True)
            ),
            # one test's history across runs, newest first
            models.Index(fields=["case", "-run"], name="result_case_history"),
            # Only failures have a signature: index just those rows.
            models.Index(
                fields=["signature"],
                name="result_signature",
                condition=models.Q(signature__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} in run {self.run_id}: {self.outcome}"


class TestAttachment(models.Model):
    """A file a test's report names (``[[ATTACHMENT|path]]`` or an attachment property), kept
    with its result; or, with an empty ``file``, the ``note`` saying why it was not read."""

    __test__ = False

    run = models.ForeignKey(TestRun, on_delete=models.CASCADE, related_name="attachments")
    # Deleting a run deletes its attachments through `run`; results are deleted in bulk (no
    # per-row cascade, see TestResult), so this link neither cascades nor is a constraint.
    result = models.ForeignKey(
        TestResult,
        on_delete=models.DO_NOTHING,
        related_name="attachments",
        db_constraint=False,
    )
    name = models.CharField(max_length=500, help_text="The path as the report wrote it.")
    file = models.FileField(upload_to="attachments/%Y/%m/", blank=True)
    size = models.PositiveBigIntegerField(default=0)
    content_type = models.CharField(max_length=100, blank=True)
    note = models.TextField(blank=True, help_text="Why the file was not read; empty when it was.")

    def __str__(self) -> str:
        return self.name

    @property
    def is_image(self) -> bool:
        return bool(self.file) and self.content_type.startswith("image/")
