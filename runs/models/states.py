"""Test states: active, quarantined or disabled; every change kept; a suite's quarantine policy.

A test without a TestState row is active: the importer creates test cases in bulk and never
writes here. An expired quarantine or disable counts as active from its expiry on (read-time,
see ``TestState.in_force``); the sweeper and the judging step record that release in history.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone


class State(models.TextChoices):
    ACTIVE = "active", "Active"
    QUARANTINED = "quarantined", "Quarantined"
    DISABLED = "disabled", "Disabled"


class TestState(models.Model):
    """The current state of one test: who set it, why, when, until when, and whether the
    quarantine policy did."""

    __test__ = False

    case = models.OneToOneField(
        "runs.TestCase", on_delete=models.CASCADE, primary_key=True, related_name="test_state"
    )
    # The case's suite, kept here so a suite's non-active tests are one index scan.
    suite = models.ForeignKey("runs.Suite", on_delete=models.CASCADE, related_name="test_states")
    state = models.CharField(max_length=12, choices=State.choices, default=State.ACTIVE)
    reason = models.TextField(blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    since = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    automatic = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["suite", "state"], name="teststate_suite_state")]
        constraints = [
            models.CheckConstraint(
                condition=Q(state="active") | ~Q(reason=""),
                name="teststate_reason_unless_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.state}"

    @staticmethod
    def in_force(now=None) -> Q:
        """Rows whose quarantine or disable holds at `now`: not active and not expired."""
        now = now or timezone.now()
        return ~Q(state=State.ACTIVE) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))

    def effective(self, now=None) -> str:
        """The state at `now`: an expired quarantine or disable is active."""
        now = now or timezone.now()
        if self.state != State.ACTIVE and self.expires_at is not None and self.expires_at <= now:
            return State.ACTIVE
        return self.state


class TestStateChange(models.Model):
    """One change of a test's state, with the evidence when the policy made it."""

    __test__ = False

    case = models.ForeignKey(
        "runs.TestCase", on_delete=models.CASCADE, related_name="state_changes", db_index=False
    )
    state = models.CharField(max_length=12, choices=State.choices)
    reason = models.TextField(blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    automatic = models.BooleanField(default=False)
    # For automatic changes: the flake score, its parts, the threshold and the run ids.
    evidence = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["case", "-at"], name="statechange_case_time")]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.state} at {self.at:%Y-%m-%d %H:%M}"


class QuarantinePolicy(models.Model):
    """A suite's automatic quarantine and release. A suite without a row gets the defaults of
    a new one: automatic quarantine off (a team meeting Stageloop first must not find tests
    quarantined behind its back), automatic release on."""

    suite = models.OneToOneField(
        "runs.Suite", on_delete=models.CASCADE, related_name="quarantine_policy"
    )
    auto_quarantine = models.BooleanField(
        default=False, help_text="Quarantine a test whose flake score reaches the threshold."
    )
    flake_threshold = models.FloatField(
        default=0.25,
        validators=[MinValueValidator(0.01), MaxValueValidator(1)],
        help_text="(flips + passes on retry) / counted results over the window, from 0 to 1.",
    )
    window = models.PositiveIntegerField(
        default=20,
        validators=[MinValueValidator(2), MaxValueValidator(200)],
        help_text="The suite's last N finished runs the flake score looks at.",
    )
    min_results = models.PositiveIntegerField(
        default=5,
        validators=[MinValueValidator(2)],
        help_text="Fewest counted results of a test in the window before it is scored.",
    )
    auto_release = models.BooleanField(
        default=True,
        help_text="Make an automatically quarantined test active again after "
        "N consecutive clean runs.",
    )
    release_after = models.PositiveIntegerField(
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Consecutive clean runs (passed, no retry) before an automatic release.",
    )

    class Meta:
        verbose_name_plural = "quarantine policies"

    def __str__(self) -> str:
        return f"quarantine policy of {self.suite_id}"
