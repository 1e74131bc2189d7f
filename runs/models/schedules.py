"""Occurrences of a suite's schedule that did not start a run, and why."""

from __future__ import annotations

from django.db import models


class ScheduleSkip(models.Model):
    """One or more occurrences of a suite's schedule that started no run.

    ``missed`` counts the occurrences the row stands for: the beat that was down for an hour
    records one row for the twelve five-minute occurrences it missed, not twelve rows.
    """

    class Reason(models.TextChoices):
        OVERLAP = "overlap", "A run of the suite was still going"
        NO_REVISION = "no_revision", "No current revision to test"
        MISSED = "missed", "The scheduler was not running"

    suite = models.ForeignKey("runs.Suite", on_delete=models.CASCADE, related_name="schedule_skips")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    # The first occurrence skipped, and how many in a row this row stands for.
    due_at = models.DateTimeField()
    missed = models.PositiveIntegerField(default=1)
    # The run still going (overlap): kept as a link while the run exists.
    active_run = models.ForeignKey(
        "runs.TestRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    detail = models.TextField()
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-recorded_at", "-pk"]
        indexes = [models.Index(fields=["suite", "-recorded_at"], name="scheduleskip_suite_time")]

    def __str__(self) -> str:
        return f"{self.suite_id}: {self.get_reason_display()} at {self.due_at:%Y-%m-%d %H:%M}"
