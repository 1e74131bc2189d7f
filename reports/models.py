"""What the manager's summary needs beyond the loop's own tables: business capabilities mapped to
tests, and the delivery-performance bands each figure is read against."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from reports.patterns import PatternError, parse_patterns


def validate_patterns(value: str) -> None:
    try:
        parse_patterns(value)
    except PatternError as exc:
        raise ValidationError(str(exc)) from None


class Capability(models.Model):
    """A named business capability ("WebSocket chat") and the tests that prove it works."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    patterns = models.TextField(
        validators=[validate_patterns],
        help_text=(
            "One glob per line (* any text, ? one character, case-insensitive), matched against "
            "the test's key, name, class or file. Prefix a line with name:, class:, file: or key: "
            "to match only that field, and with ! to exclude matches. Example: class:*Chat*"
        ),
    )
    services = models.ManyToManyField(
        "runs.Service",
        blank=True,
        related_name="capabilities",
        help_text="Only tests of these services; none means every service.",
    )
    position = models.PositiveSmallIntegerField(default=0, help_text="Order in the summary.")
    # The patterns its CapabilityCase rows were built for (reports.services.capability_cases);
    # while it differs from ``patterns`` (a shell, a fixture, a data migration wrote them) the
    # pages match the patterns against every test instead, so the answer is always the same.
    mapped_patterns = models.TextField(blank=True, default="", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "capabilities"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("reports:capability-detail", args=[self.pk])


class CapabilityCase(models.Model):
    """Read model: a test a capability's patterns match, kept by reports.services.capability_cases
    when the capability is saved and when tests are created (on PostgreSQL an import's new tests
    are mapped by their search indexing task; until then the pages match the pending ones)."""

    capability = models.ForeignKey(
        Capability, on_delete=models.CASCADE, related_name="case_rows", db_index=False
    )
    # No database constraint, like TestCase's own keys: imports create tests by the 100,000.
    case = models.ForeignKey(
        "runs.TestCase",
        on_delete=models.CASCADE,
        related_name="capability_rows",
        db_index=False,
        db_constraint=False,
    )
    # The test's key and suite (they never change): the capability's page lists its first
    # tests by key from an index of its own rows, reading no test it does not show.
    key = models.TextField(default="", db_default="")
    suite_id = models.BigIntegerField(null=True)

    class Meta:
        constraints = [
            # Also the index of "the tests of capability X".
            models.UniqueConstraint(fields=["capability", "case"], name="capabilitycase_unique"),
        ]
        indexes = [
            # Deleting tests (a suite, retention) finds their rows without reading the table.
            models.Index(fields=["case"], name="capabilitycase_case"),
            models.Index(fields=["capability", "key"], name="capabilitycase_by_key"),
        ]

    def __str__(self) -> str:
        return f"{self.capability_id}: {self.case_id}"


class CapabilityTally(models.Model):
    """Read model: per capability and suite, how many mapped tests there are and how their latest
    results (runs.CaseLatest) stand, so the summary adds a few rows instead of counting every
    mapped test. Kept in the transactions that move either side (reports.services.
    capability_tallies): a run's latest results folded in, tests mapped, a capability rebuilt,
    retention's repair. The summary reads it only for a period that ends after now (the latest
    results are then the answer) and when no matching test waits to be mapped."""

    capability = models.ForeignKey(
        Capability, on_delete=models.CASCADE, related_name="tallies", db_index=False
    )  # the unique pair below is its index
    suite = models.ForeignKey(
        "runs.Suite", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    mapped = models.IntegerField(default=0)  # tests of the capability in the suite
    ran = models.IntegerField(default=0)  # ... that have a latest result
    passing = models.IntegerField(default=0)  # passed, not flaky
    failing = models.IntegerField(default=0)  # failed or error
    flaky = models.IntegerField(default=0)  # passed on a retry
    skipped = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["capability", "suite"], name="capabilitytally_unique"),
        ]
        indexes = [models.Index(fields=["suite"], name="capabilitytally_suite")]

    def __str__(self) -> str:
        return f"{self.capability_id} in suite {self.suite_id}: {self.passing}/{self.mapped}"


class DeliveryBand(models.Model):
    """One performance band of one delivery metric, with the published source it comes from.

    A value falls in the first band (by rank) with ``lower <= value <= upper``; a missing bound is
    open. Units: deploys per day, a fraction of deploys, or hours.
    """

    class Metric(models.TextChoices):
        DEPLOY_FREQUENCY = "deploy_frequency", "Deploy frequency (deploys per day)"
        CHANGE_FAILURE_RATE = "change_failure_rate", "Change failure rate (fraction)"
        LEAD_TIME = "lead_time", "Lead time for changes (hours)"
        TIME_TO_RESTORE = "time_to_restore", "Time to restore (hours)"

    metric = models.CharField(max_length=32, choices=Metric.choices)
    level = models.CharField(max_length=32, help_text="Elite, High, Medium, Low…")
    rank = models.PositiveSmallIntegerField(help_text="1 is checked first (the best band).")
    lower = models.FloatField(null=True, blank=True)
    upper = models.FloatField(null=True, blank=True)
    description = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=200)

    class Meta:
        ordering = ["metric", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["metric", "rank"], name="band_unique_rank"),
            models.CheckConstraint(
                condition=models.Q(lower__isnull=True)
                | models.Q(upper__isnull=True)
                | models.Q(lower__lte=models.F("upper")),
                name="band_lower_le_upper",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_metric_display()}: {self.level}"

    def contains(self, value: float) -> bool:
        return (self.lower is None or value >= self.lower) and (
            self.upper is None or value <= self.upper
        )


class StatusPage(models.Model):
    """A read-only page of a group of services' state, uptime and incidents, at /status/<slug>/.

    ``public`` pages need no login; the switches allow test names and error texts on the page
    (both off by default, so nothing internal shows unless an admin chose it)."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=50, unique=True)
    services = models.ManyToManyField("runs.Service", related_name="status_pages", blank=True)
    public = models.BooleanField(
        default=False, help_text="Anyone may open the page without signing in."
    )
    show_test_names = models.BooleanField(
        default=False, help_text="Show the names of tests and probes on the page."
    )
    show_errors = models.BooleanField(
        default=False, help_text="Show error texts (an incident's first error) on the page."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("status-page", args=[self.slug])
