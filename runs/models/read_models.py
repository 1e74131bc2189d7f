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


class SuiteTreeNode(models.Model):
    """One branch of a suite's test tree in one view, with its figures over the suite's last
    FLAKY_WINDOW finished runs: the rollup the suite page reads instead of aggregating every test.

    Rebuilt whole for a suite after each of its runs (runs.services.suite_tree_rollup). A branch
    keeps its direct tests (leaves) with their figures in `leaves`, so opening it reads one row.
    """

    suite = models.ForeignKey("runs.Suite", on_delete=models.CASCADE, related_name="+")
    view = models.CharField(max_length=10)  # "suites" or "packages"
    path = models.TextField()  # the keys from the root, joined by PATH_SEP; "" for the root
    parent = models.TextField(null=True)  # noqa: DJ001 (None: the root, "": a top-level branch)
    key = models.TextField()
    label = models.TextField()
    kind = models.CharField(max_length=10)
    tests = models.PositiveIntegerField(default=0)
    passed = models.PositiveIntegerField(default=0)
    counted = models.PositiveIntegerField(default=0)
    flaky = models.PositiveIntegerField(default=0)
    failing = models.PositiveIntegerField(default=0)
    duration = models.FloatField(default=0.0)
    size = models.PositiveIntegerField(default=0)  # children: branches and leaves
    # Direct tests: [case id, name, passed, counted, mean duration, failing, flaky] each.
    leaves = models.JSONField(default=list)
    window = models.PositiveSmallIntegerField(default=0)  # runs the figures cover

    PATH_SEP = "\x1f"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["suite", "view", "path"], name="treenode_unique_path"),
        ]
        indexes = [
            models.Index(fields=["suite", "view", "parent"], name="treenode_children"),
        ]

    def __str__(self) -> str:
        return f"{self.suite_id} {self.view}: {self.path.replace(self.PATH_SEP, ' / ') or '/'}"


class CaseLatest(models.Model):
    """A test's latest result (by run id, as the summary orders them): what the manager's summary
    and the capability pages read instead of one index scan into the results per test.

    Upserted once per run by runs.services.read_models.case_latest_update (one statement) and
    repaired after retention deletes runs. A reader trusts a row only when its run started
    before the period's end; for a test with no row, or one whose row is later, it reads the
    results as before, so the row is a shortcut and never the only truth.
    """

    # No database constraints and no secondary index: a run's upsert writes up to 200,000 rows,
    # and each FK check or index entry would cost the import (as for TestResult's keys). On
    # PostgreSQL half of each page stays free (migration 0032) so updates stay on their page.
    case = models.OneToOneField(
        "runs.TestCase",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="latest_result",
        db_constraint=False,
    )
    suite_id = models.BigIntegerField()
    run = models.ForeignKey(
        "runs.TestRun",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    run_at = models.DateTimeField()  # the run's created_at
    result_id = models.BigIntegerField()
    outcome = models.CharField(max_length=8)
    flaky = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.case_id}: {self.outcome} in run {self.run_id}"


class CaseBehind(models.Model):
    """The tests whose latest result (runs.CaseLatest) is not a clean pass — failed, error,
    skipped, flaky or another outcome — with that result's run time: the few percent of the
    tests the summary lists behind a capability's status, newest first, read from a table that
    small instead of the latest results' heap (where they are scattered among the passes).

    Kept with CaseLatest by runs.services.read_models (the same statements' callers: each run,
    retention's repair, the rebuilds). A separate table, not an index on CaseLatest: an index
    over run_at would end the heap-only updates of every row each run rewrites (measured: a
    192k-result run's upsert 430 -> 870 ms)."""

    case = models.OneToOneField(
        "runs.TestCase",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="behind_result",
        db_constraint=False,
    )
    suite_id = models.BigIntegerField()
    run = models.ForeignKey(
        "runs.TestRun",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    run_at = models.DateTimeField()  # the run's created_at
    outcome = models.CharField(max_length=8)
    flaky = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["-run_at"], name="casebehind_newest"),
            models.Index(fields=["suite_id"], name="casebehind_suite"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.outcome} in run {self.run_id}"


class SuiteRecentTables(models.Model):
    """The suite page's "slowest tests" and "most failing" tables over the suite's last
    RECENT_RUNS finished runs (`run_ids`), computed by the suite tree's rollup after each run:
    the page uses them when its own window of runs is the same, instead of aggregating every
    result of those runs (up to 4 M rows for a 200,000-test suite)."""

    suite = models.OneToOneField(
        "runs.Suite", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    run_ids = models.JSONField(default=list)  # newest first
    slowest = models.JSONField(default=list)
    failing = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"suite {self.suite_id}: tables over {len(self.run_ids)} runs"
