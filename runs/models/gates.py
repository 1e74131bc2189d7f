"""The release gate as data: a policy per service (or suite) and the verdicts it gave."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class GatePolicy(models.Model):
    """The before-traffic rules of a service, or of one of its suites (that one wins).

    A service without a policy is judged by the defaults of a new row: all tests pass, no new
    failure signature, at least one test executed, no open incident.
    """

    class Goal(models.TextChoices):
        ALL_PASS = "all_pass", "All tests pass"
        PASS_RATE = "pass_rate", "Pass rate at least"

    service = models.ForeignKey(
        "runs.Service", on_delete=models.CASCADE, related_name="gate_policies"
    )
    suite = models.ForeignKey(
        "runs.Suite",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="gate_policies",
        help_text="Empty: the policy of every suite of the service without one of its own.",
    )
    goal = models.CharField(max_length=16, choices=Goal.choices, default=Goal.ALL_PASS)
    goal_pass_rate = models.FloatField(
        default=100.0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Percent of executed tests that must pass, for the goal 'pass rate'.",
    )
    no_new_signatures = models.BooleanField(
        default=True, help_text="Fail on a failure signature first seen on this revision."
    )
    max_failed = models.PositiveIntegerField(
        null=True, blank=True, help_text="Most failed + errored tests allowed; empty: no limit."
    )
    min_tests = models.PositiveIntegerField(
        default=1, help_text="Fewest tests executed (passed, failed or errored) to judge at all."
    )
    min_tests_percent = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Fewest tests executed, as a percent of the suite's known test count "
        "(its target test count, else the tests it ever ran); empty: no such rule.",
    )
    max_probe_error_percent = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Most failed probe checks of the revision in the last 15 minutes, in percent; "
        "empty: no such rule.",
    )
    max_probe_p95_ms = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Highest p95 probe latency of the revision in the last 15 minutes (the worst "
        "probe's), in ms; empty: no such rule.",
    )
    no_open_incident = models.BooleanField(
        default=True, help_text="Fail while the service has an open incident."
    )
    no_exhausted_error_budget = models.BooleanField(
        default=False,
        help_text="Fail while an error budget of the service is spent (an SLO's bad events over "
        "its window reached what its objective allows).",
    )
    canary_latency_margin_ms = models.FloatField(
        default=20.0,
        validators=[MinValueValidator(0)],
        help_text="Canary step: fail only when the candidate is slower than the stable revision "
        "by more than this (median shift, ms) and the difference is significant.",
    )
    canary_error_margin_percent = models.FloatField(
        default=1.0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Canary step: fail only when the candidate's probe error rate exceeds the stable "
        "revision's by more than this many points and the difference is significant.",
    )
    canary_alpha = models.FloatField(
        default=0.05,
        validators=[MinValueValidator(0.0001), MaxValueValidator(0.5)],
        help_text="Canary step: the significance level of both tests (Mann-Whitney U, Fisher).",
    )
    canary_min_samples = models.PositiveIntegerField(
        default=20,
        validators=[MinValueValidator(5)],
        help_text="Canary step: fewest probe checks per revision to judge it (below: "
        "inconclusive, which rolls back).",
    )
    dry_run = models.BooleanField(
        default=False,
        help_text="Evaluate and record verdicts, never act on them: the release goes on as if "
        "every verdict passed, and each verdict says what the gate would have done.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "gate policies"
        constraints = [
            models.UniqueConstraint(
                fields=["service", "suite"], name="gatepolicy_unique_per_suite"
            ),
            models.UniqueConstraint(
                fields=["service"],
                condition=models.Q(suite__isnull=True),
                name="gatepolicy_unique_per_service",
            ),
        ]

    def __str__(self) -> str:
        return f"gate of {self.service_id}" + (f" / suite {self.suite_id}" if self.suite_id else "")


class Verdict(models.Model):
    """One evaluation of the gate for a revision, on the evidence of one run.

    ``rules`` lists every rule as {key, name, measured, threshold, outcome, note, evidence:
    [{label, url}]}, with outcome pass / fail / inconclusive / not_applicable.
    """

    class Outcome(models.TextChoices):
        PASS = "pass", "Pass"
        FAIL = "fail", "Fail"
        INCONCLUSIVE = "inconclusive", "Inconclusive"

    revision = models.ForeignKey("runs.Revision", on_delete=models.CASCADE, related_name="verdicts")
    run = models.ForeignKey(
        "runs.TestRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="verdicts"
    )
    policy = models.ForeignKey(
        GatePolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="verdicts"
    )
    stage = models.CharField(max_length=16, default="before_traffic")
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    summary = models.CharField(max_length=500, blank=True)
    dry_run = models.BooleanField(default=False)
    rules = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "stage"],
                condition=models.Q(run__isnull=False),
                name="verdict_one_per_run_stage",
            ),
        ]
        indexes = [models.Index(fields=["revision", "-created_at"], name="verdict_revision_time")]

    def __str__(self) -> str:
        return f"{self.outcome} for revision {self.revision_id}"
