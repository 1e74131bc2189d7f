"""The test step: run a suite against a revision, stream progress, import what it reported."""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from pathlib import Path

from django.db.models import F
from django.utils import timezone

from engine.runner import SuiteStartError, suite_execute
from runs.lifecycle.runs import run_lifecycle
from runs.models import Revision, TestRun
from runs.services.attachments import Folder
from runs.services.ingest import IngestError, ReportFile, run_import
from runs.services.leases import lease_fields
from runs.services.logbuffer import LogBuffer

logger = logging.getLogger(__name__)

# A run's temp folder is tempfile.gettempdir() / "stageloop-run-<id>-<random>"; the sweeper
# removes only folders that look like this.
SCRATCH_PREFIX = "stageloop-run-"


def run_claim(*, run_id: int) -> TestRun | None:
    """Move a queued run to running under this worker's lease; None when it was cancelled, taken
    or finished."""
    now = timezone.now()
    claimed = run_lifecycle.move(
        run_id,
        TestRun.Status.RUNNING,
        frm=[TestRun.Status.QUEUED],
        started_at=now,
        **lease_fields(now),
    )
    if not claimed:
        return None
    return TestRun.objects.select_related("suite", "service").get(pk=run_id)


def run_end(run: TestRun, status: str, error: str = "") -> None:
    run_lifecycle.move(
        run, status, frm=[TestRun.Status.RUNNING], error=error, finished_at=timezone.now()
    )


def run_cancel(*, run: TestRun) -> bool:
    """Ask a queued or running run to stop; the runner kills its process group within a second."""
    return bool(
        run_lifecycle.move(
            run,
            TestRun.Status.CANCELLED,
            frm=TestRun.ACTIVE,
            finished_at=timezone.now(),
            error="Cancelled by an operator.",
        )
    )


class _Progress:
    """Turns the runner's events into progress counters on the run row."""

    def __init__(self, run: TestRun) -> None:
        self.run = run

    def __call__(self, event: dict) -> None:
        kind = event.get("event")
        runs = TestRun.objects.filter(pk=self.run.pk)
        if kind == "collected":
            runs.update(progress_total=int(event.get("total") or 0))
        elif kind == "test":
            counter = {
                "passed": "passed",
                "failed": "failed",
                "error": "errors",
                "skipped": "skipped",
            }.get(event.get("outcome", ""))
            changes = {"progress_done": F("progress_done") + 1}
            if counter:
                changes[counter] = F(counter) + 1
            runs.update(**changes)


class _Started:
    """Records the suite's process group on the run as soon as it runs."""

    def __init__(self, run: TestRun) -> None:
        self.run = run

    def __call__(self, pgid: int) -> None:
        TestRun.objects.filter(pk=self.run.pk).update(child_pgid=pgid)


class _CancelCheck:
    """Reads the run's status at most once a second."""

    def __init__(self, run: TestRun) -> None:
        self.run, self._last, self._cancelled = run, 0.0, False

    def __call__(self) -> bool:
        if not self._cancelled and time.monotonic() - self._last >= 1.0:
            self._last = time.monotonic()
            self._cancelled = TestRun.objects.filter(
                pk=self.run.pk, status=TestRun.Status.CANCELLED
            ).exists()
        return self._cancelled


def run_execute(run: TestRun, revision: Revision) -> TestRun:
    """Run `run.suite` against `revision` and import its report into `run`."""
    suite = run.suite
    log = LogBuffer(TestRun, run.pk)
    if not suite.command:
        run_end(run, TestRun.Status.ERROR, f"Suite {suite.name} has no command configured.")
        return run
    env = {str(k): str(v) for k, v in (suite.env or {}).items()}
    env.update(STAGELOOP_BASE_URL=revision.url, STAGELOOP_REVISION=revision.name)
    # The temp folder is recorded on the row before the suite starts: if this worker dies, the
    # sweeper removes it (and stops the suite's process group, recorded by on_start).
    scratch = tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{run.pk}-")
    TestRun.objects.filter(pk=run.pk).update(scratch_dir=scratch)
    # The suite's own output folder: files its report attaches are read from here, and only here.
    env["STAGELOOP_OUTPUT_DIR"] = scratch
    try:
        return _run_and_import(run, revision, env=env, scratch=scratch, log=log)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _run_and_import(
    run: TestRun, revision: Revision, *, env: dict[str, str], scratch: str, log: LogBuffer
) -> TestRun:
    suite = run.suite
    junit = Path(scratch) / "junit.xml"
    try:
        result = suite_execute(
            command=list(suite.command),
            cwd=suite.working_dir or ".",
            env=env,
            junit_path=junit,
            events_path=Path(scratch) / "events.jsonl",
            run_timeout=run.timeout_seconds or suite.timeout_seconds,
            test_timeout=suite.test_timeout_seconds,
            on_output=log.write,
            on_event=_Progress(run),
            should_cancel=_CancelCheck(run),
            on_start=_Started(run),
        )
    except (SuiteStartError, ValueError) as exc:
        log.flush()
        run_end(run, TestRun.Status.ERROR, f"The suite could not start: {exc}")
        return run
    log.flush()
    TestRun.objects.filter(pk=run.pk).update(finished_at=timezone.now())
    if result.cancelled:
        return run  # the run row already says cancelled, by whom and when
    report = result.junit_path.read_bytes() if result.junit_path else b""
    if not report:
        run_end(
            run,
            TestRun.Status.ERROR,
            f"The suite exited with code {result.exit_code} without writing a report. "
            f"Last output:\n{result.output_tail}",
        )
        return run
    run.refresh_from_db()
    timed_out = (
        f"The suite timed out after {run.timeout_seconds} s; these are the tests that finished."
        if result.timed_out
        else ""
    )
    try:
        run_import(
            suite=suite,
            revision=revision,
            files=[ReportFile("junit.xml", report)],
            folder=Folder(root=Path(scratch).resolve(), where="suite's output folder"),
            run=run,
            analyze=False,
            end_error=timed_out,
        )
    except IngestError as exc:
        run_end(run, TestRun.Status.ERROR, f"The suite's report could not be read: {exc}")
        return run
    run.refresh_from_db()
    return run
