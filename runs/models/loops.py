"""Loops: deploy and test each new build until the suite is green."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

if TYPE_CHECKING:
    from runs.models.services import Build


class Loop(models.Model):
    class Goal(models.TextChoices):
        ALL_PASS = "all_pass", "All tests pass"
        PASS_RATE = "pass_rate", "Pass rate at least"
        GATE = "gate", "The release gate passes"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        WAITING = "waiting", "Waiting for a new build"
        SUCCEEDED = "succeeded", "Green"
        EXHAUSTED = "exhausted", "Out of iterations"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE = (Status.RUNNING, Status.WAITING)

    service = models.ForeignKey("runs.Service", on_delete=models.CASCADE, related_name="loops")
    suite = models.ForeignKey("runs.Suite", on_delete=models.CASCADE, related_name="loops")
    goal = models.CharField(max_length=16, choices=Goal.choices, default=Goal.ALL_PASS)
    goal_pass_rate = models.FloatField(
        default=100.0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    max_iterations = models.PositiveSmallIntegerField(
        default=5, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["service"],
                condition=models.Q(status__in=["running", "waiting"]),
                name="loop_one_active_per_service",
            ),
        ]

    def __str__(self) -> str:
        return f"Loop #{self.pk} on {self.service_id}"

    def get_absolute_url(self) -> str:
        return reverse("loop-detail", args=[self.pk])

    @property
    def is_active(self) -> bool:
        """Running or waiting for a build: it can still be cancelled."""
        return self.status in self.ACTIVE


class LoopIteration(models.Model):
    loop = models.ForeignKey(Loop, on_delete=models.CASCADE, related_name="iterations")
    number = models.PositiveSmallIntegerField()
    build = models.ForeignKey("runs.Build", null=True, blank=True, on_delete=models.SET_NULL)
    deploy = models.ForeignKey("runs.Deploy", null=True, blank=True, on_delete=models.SET_NULL)
    run = models.ForeignKey("runs.TestRun", null=True, blank=True, on_delete=models.SET_NULL)
    goal_met = models.BooleanField(null=True)
    stable = models.BooleanField(null=True, help_text="N consecutive healthy probes after green.")
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Not a column: the build the next iteration deployed, set by selectors.loops for the page.
    fix_build: Build | None

    class Meta:
        ordering = ["loop", "number"]
        constraints = [
            models.UniqueConstraint(fields=["loop", "number"], name="iteration_unique_number"),
        ]

    def __str__(self) -> str:
        return f"Iteration {self.number} of loop {self.loop_id}"
