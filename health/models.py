"""Probes of each service, their results, rollups for charts, and incidents."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Coalesce

from health import sketch as sketch_module

DEFAULT_LOCATION = "default"
"""The location of a worker that names none: it takes probes from Celery's default queue."""

LOCATION_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}$"


def default_locations() -> list[str]:
    return [DEFAULT_LOCATION]


class Probe(models.Model):
    """An HTTP health check of a service's current revision (a path) or of a full URL."""

    service = models.ForeignKey("runs.Service", on_delete=models.CASCADE, related_name="probes")
    name = models.CharField(max_length=100)
    path = models.CharField(max_length=300, blank=True, help_text="Path on the current revision.")
    url = models.URLField(blank=True, help_text="A full URL instead of a path.")
    method = models.CharField(max_length=8, default="GET")
    expected_statuses = models.JSONField(default=list, blank=True)
    body_contains = models.CharField(max_length=300, blank=True)
    json_field = models.CharField(max_length=200, blank=True)
    json_value = models.CharField(max_length=200, blank=True)
    latency_threshold_ms = models.PositiveIntegerField(null=True, blank=True)
    interval_seconds = models.PositiveIntegerField(default=30, validators=[MinValueValidator(5)])
    timeout_seconds = models.FloatField(
        default=5.0, validators=[MinValueValidator(0.1), MaxValueValidator(60)]
    )
    failures_before_incident = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1)]
    )
    successes_to_close = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(1)]
    )
    # Probe locations: workers labelled with each of these run the probe (health.locations).
    locations = models.JSONField(
        default=default_locations,
        help_text='Location labels of the workers that run this probe, such as ["eu", "us"].',
    )
    quorum = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1)],
        help_text="How many locations must be failing at once before an incident opens (k of n).",
    )
    # {location: [consecutive failures, consecutive successes, failing]} (health.incidents_logic).
    location_states = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    next_probe_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    consecutive_successes = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["service__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["service", "name"], name="probe_unique_name"),
            models.CheckConstraint(
                condition=models.Q(interval_seconds__gte=5), name="probe_interval_at_least_5s"
            ),
            models.CheckConstraint(condition=models.Q(quorum__gte=1), name="probe_quorum_positive"),
        ]
        indexes = [models.Index(fields=["enabled", "next_probe_at"], name="probe_due")]

    def __str__(self) -> str:
        return f"{self.service.name}: {self.name}"

    def clean(self) -> None:
        super().clean()
        labels = self.locations
        if not isinstance(labels, list) or not labels:
            raise ValidationError({"locations": 'List at least one location, such as ["default"].'})
        for label in labels:
            if not isinstance(label, str) or not re.fullmatch(LOCATION_PATTERN, label):
                raise ValidationError(
                    {
                        "locations": f"{label!r} is not a location label: use 1 to 40 lower-case "
                        "letters, digits and dashes, such as eu-west."
                    }
                )
        if len(set(labels)) != len(labels):
            raise ValidationError({"locations": "Each location may be listed once."})
        if self.quorum > len(labels):
            raise ValidationError(
                {
                    "quorum": f"The quorum is {self.quorum} but the probe runs from only "
                    f"{len(labels)} location(s); lower it or add locations."
                }
            )


class ProbeResult(models.Model):
    probe = models.ForeignKey(Probe, on_delete=models.CASCADE, related_name="results")
    revision = models.ForeignKey(
        "runs.Revision", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_at = models.DateTimeField()
    # When the schedule wanted this probe; checked_at - due_at is the scheduler's lag.
    due_at = models.DateTimeField(null=True, blank=True)
    # The label of the worker's location that ran the probe (STAGELOOP_PROBE_LOCATION).
    location = models.CharField(max_length=40, default=DEFAULT_LOCATION)
    ok = models.BooleanField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.FloatField()
    error_kind = models.CharField(max_length=24, blank=True)
    error = models.TextField(blank=True)
    # Checked during a maintenance window of its service: kept, but not part of uptime,
    # SLOs or incidents (rollups count it in maintenance_count only).
    in_maintenance = models.BooleanField(default=False, db_default=False)

    class Meta:
        indexes = [
            models.Index(fields=["probe", "-checked_at"], name="proberesult_probe_time"),
            models.Index(fields=["checked_at"], name="proberesult_time"),
        ]

    def __str__(self) -> str:
        return f"{self.probe_id} at {self.checked_at}: {'ok' if self.ok else self.error_kind}"


class _Rollup(models.Model):
    """Counts, latency sums and a latency sketch (``health.sketch``) of one probe's results that
    hit one revision (or none known) in one time bucket; a deploy inside a bucket splits it in
    two."""

    probe = models.ForeignKey(Probe, on_delete=models.CASCADE, related_name="+")
    revision = models.ForeignKey(
        "runs.Revision", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    bucket_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)
    ok_count = models.PositiveIntegerField(default=0)
    # Results checked during a maintenance window: in neither count nor ok_count (nor the
    # latency figures), so every reader of count/ok_count leaves maintenance out.
    maintenance_count = models.PositiveIntegerField(default=0, db_default=0)
    latency_sum = models.FloatField(default=0)
    latency_min = models.FloatField(null=True)
    latency_max = models.FloatField(null=True)
    # Sparse sketch bins {key: count}; merged per key in SQL (health.selectors._sql).
    sketch = models.JSONField(default=dict)
    # Relative error bound of percentiles read from ``sketch``: the sketch's 1 %, or 1/3 for
    # rollups converted from the fixed-bucket histograms they carried before (until rebuilt
    # from raw results). A merged window's bound is the largest of its rollups'.
    latency_error = models.FloatField(default=sketch_module.RELATIVE_ACCURACY)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"probe {self.probe_id} from {self.bucket_start}"


class ProbeRollupMinute(_Rollup):
    class Meta:
        constraints = [
            models.UniqueConstraint(
                "probe", Coalesce("revision", 0), "bucket_start", name="rollup_minute_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["bucket_start"], name="rollup_minute_time"),
            # charts and states read one service's probes over a time range
            models.Index(fields=["probe", "bucket_start"], name="rollup_minute_probe_time"),
        ]


class ProbeRollupHour(_Rollup):
    class Meta:
        constraints = [
            models.UniqueConstraint(
                "probe", Coalesce("revision", 0), "bucket_start", name="rollup_hour_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["bucket_start"], name="rollup_hour_time"),
            # charts and states read one service's probes over a time range
            models.Index(fields=["probe", "bucket_start"], name="rollup_hour_probe_time"),
        ]


class ProbeRollupDay(_Rollup):
    """A day of the configured time zone (``STAGELOOP_TIME_ZONE``): ``bucket_start`` is the
    local midnight that starts it, so a daylight-saving day holds 23 or 25 hours. Written with
    the minute and hour rollups; the pages read it for ranges longer than 7 days, where merging
    hour rollups would cost 24 times as many rows (``health.ranges``)."""

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "probe", Coalesce("revision", 0), "bucket_start", name="rollup_day_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["bucket_start"], name="rollup_day_time"),
            models.Index(fields=["probe", "bucket_start"], name="rollup_day_probe_time"),
        ]


class LatencyPoint(models.Model):
    """p50/p95/p99 of one service's probe latencies (all its probes merged) on one revision in
    one closed hour or local day: one chart point, computed once by ``latency_points_seal`` so
    that the overview and the long charts read points instead of merging sketches per request.
    """

    class Step(models.TextChoices):
        HOUR = "hour", "hour"
        DAY = "day", "day of the configured time zone"

    service = models.ForeignKey("runs.Service", on_delete=models.CASCADE, related_name="+")
    revision = models.ForeignKey(
        "runs.Revision", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    step = models.CharField(max_length=4, choices=Step.choices)
    bucket_start = models.DateTimeField()
    p50 = models.FloatField()
    p95 = models.FloatField()
    p99 = models.FloatField()
    samples = models.PositiveBigIntegerField()
    error = models.FloatField()  # the bound of the three percentiles (largest of the rollups')

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "service",
                "step",
                Coalesce("revision", 0),
                "bucket_start",
                name="latency_point_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["service", "step", "bucket_start"], name="latency_point_read"),
            models.Index(fields=["step", "bucket_start"], name="latency_point_time"),
        ]

    def __str__(self) -> str:
        return f"service {self.service_id} {self.step} from {self.bucket_start}"


class LatencySeal(models.Model):
    """Which buckets of a step ``LatencyPoint`` holds, all of them: those starting in
    ``[sealed_from, sealed_until)``; others are merged from the rollups when read."""

    step = models.CharField(max_length=4, choices=LatencyPoint.Step.choices, unique=True)
    sealed_from = models.DateTimeField()
    sealed_until = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.step} points until {self.sealed_until}"


class Incident(models.Model):
    """Opened after N consecutive failures of a probe, closed after M successes."""

    probe = models.ForeignKey(Probe, on_delete=models.CASCADE, related_name="incidents")
    service = models.ForeignKey("runs.Service", on_delete=models.CASCADE, related_name="incidents")
    revision = models.ForeignKey(
        "runs.Revision", null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents"
    )
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    first_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["probe"],
                condition=models.Q(closed_at__isnull=True),
                name="incident_one_open_per_probe",
            ),
        ]
        indexes = [models.Index(fields=["service", "-opened_at"], name="incident_service_time")]

    def __str__(self) -> str:
        return f"Incident on {self.probe} at {self.opened_at}"

    @property
    def duration_seconds(self) -> float | None:
        if self.closed_at is None:
            return None
        return (self.closed_at - self.opened_at).total_seconds()


class Slo(models.Model):
    """A service level objective of a service over a rolling window (Google SRE workbook).

    The SLI is a share of good events: probe checks that succeeded (availability), probe
    responses at or under ``latency_threshold_ms`` (latency), or scheduled suite runs that
    passed (tests). The error budget is the share ``1 - objective`` of the window's events.
    """

    class Kind(models.TextChoices):
        AVAILABILITY = "availability", "Availability (probe checks that succeed)"
        LATENCY = "latency", "Latency (probe responses under a threshold)"
        TESTS = "tests", "Tests (scheduled suite runs that pass)"

    class Window(models.IntegerChoices):
        WEEK = 7, "7 days"
        FOUR_WEEKS = 28, "28 days"
        MONTH = 30, "30 days"

    service = models.ForeignKey("runs.Service", on_delete=models.CASCADE, related_name="slos")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    objective_percent = models.FloatField(
        validators=[MinValueValidator(0.001), MaxValueValidator(99.999)],
        help_text="The promised share of good events, in percent, e.g. 99.9 (below 100).",
    )
    latency_threshold_ms = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Latency objectives: a probe response is good at or under this many ms.",
    )
    window_days = models.PositiveSmallIntegerField(
        choices=Window.choices, default=Window.FOUR_WEEKS
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["service__name", "name"]
        permissions = [("manage_slos", "Can add, change and remove SLOs")]
        constraints = [
            models.UniqueConstraint(fields=["service", "name"], name="slo_unique_name"),
            models.CheckConstraint(
                condition=models.Q(objective_percent__gt=0, objective_percent__lt=100),
                name="slo_objective_between_0_and_100",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="latency")
                | models.Q(latency_threshold_ms__isnull=False, latency_threshold_ms__gte=1),
                name="slo_latency_needs_threshold",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.objective_percent:g} %)"

    @property
    def budget_share(self) -> float:
        """The share of events allowed to be bad: 0.001 for 99.9 %."""
        # rounded: 100 - 99.9 is 0.0999999999999943 in floats, and budgets compare exactly
        return round((100.0 - self.objective_percent) / 100.0, 12)


class SloAlert(models.Model):
    """A burn-rate alert of an SLO: opened when both windows of a pair burn the budget at least
    ``threshold`` times too fast, closed when the short window drops below it.

    Shown beside the probe incidents of the service (``Incident`` stays one probe's failures).
    """

    class Severity(models.TextChoices):
        CRITICAL = "critical", "Critical (fast burn)"
        WARNING = "warning", "Warning (slow burn)"

    slo = models.ForeignKey(Slo, on_delete=models.CASCADE, related_name="alerts")
    service = models.ForeignKey("runs.Service", on_delete=models.CASCADE, related_name="slo_alerts")
    severity = models.CharField(max_length=16, choices=Severity.choices)
    threshold = models.FloatField()
    long_burn = models.FloatField(help_text="Burn rate of the long window when it opened.")
    short_burn = models.FloatField(help_text="Burn rate of the short window when it opened.")
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["slo", "severity"],
                condition=models.Q(closed_at__isnull=True),
                name="sloalert_one_open_per_severity",
            ),
        ]
        indexes = [models.Index(fields=["service", "-opened_at"], name="sloalert_service_time")]

    def __str__(self) -> str:
        return f"{self.severity} burn of {self.slo} at {self.opened_at}"


class MaintenanceWindow(models.Model):
    """A time when a service's probe checks are recorded but left out of uptime, SLOs and
    incidents: once (``starts_at`` to ``ends_at``) or weekly (on ``weekdays`` at ``local_start``
    in the site's time zone, for ``duration_minutes``); ``health.maintenance`` computes when."""

    class Kind(models.TextChoices):
        ONCE = "once", "Once"
        WEEKLY = "weekly", "Weekly"

    service = models.ForeignKey(
        "runs.Service", on_delete=models.CASCADE, related_name="maintenance_windows"
    )
    reason = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    # Weekdays as ISO numbers (1 = Monday … 7 = Sunday).
    weekdays = models.JSONField(default=list, blank=True)
    local_start = models.TimeField(null=True, blank=True)
    duration_minutes = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["service", "kind", "starts_at", "local_start"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(
                        kind="once",
                        starts_at__isnull=False,
                        ends_at__isnull=False,
                        starts_at__lt=models.F("ends_at"),
                    )
                    | models.Q(
                        kind="weekly",
                        local_start__isnull=False,
                        duration_minutes__gte=1,
                        duration_minutes__lte=7 * 24 * 60,
                    )
                ),
                name="maintenance_window_well_formed",
            ),
        ]
        indexes = [models.Index(fields=["service", "kind", "ends_at"], name="maintenance_service")]
        permissions = [
            ("manage_maintenance", "Can create, edit and delete maintenance windows"),
        ]

    def __str__(self) -> str:
        return f"Maintenance of {self.service_id}: {self.reason or self.kind}"

    @property
    def weekday_text(self) -> str:
        names = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
        return ", ".join(names[d - 1] for d in sorted(self.weekdays or ()) if 1 <= d <= 7)
