"""Read models kept up to date at ingest, so pages read a few rows instead of scanning results."""

from django.db import models


class CaseFlakeWindow(models.Model):
    """A test's flakiness over the last FLAKY_WINDOW finished runs of its suite.

    Only tests that failed, errored or passed on a retry within that window have a row (a test
    that always passed cannot have flipped), so the table stays a small fraction of the tests.
    Kept by runs.services.read_models; the pages count the rows with flips or retries.
    """

    case = models.OneToOneField(
        "runs.TestCase", on_delete=models.CASCADE, primary_key=True, related_name="flake_window"
    )
    suite = models.ForeignKey("runs.Suite", on_delete=models.CASCADE, related_name="+")
    service = models.ForeignKey(
        "runs.Service", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    flips = models.PositiveIntegerField(default=0)
    retries = models.PositiveIntegerField(default=0)
    seen = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)
    # Which refresh last computed the row: rows a refresh did not reach left the window.
    refresh = models.BigIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(
                fields=["service"],
                name="flakewindow_flaky_service",
                condition=models.Q(flips__gt=0) | models.Q(retries__gt=0),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.flips} flips, {self.retries} retries of {self.seen}"

    @property
    def is_flaky(self) -> bool:
        return self.flips > 0 or self.retries > 0
