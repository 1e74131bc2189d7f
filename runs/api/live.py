"""Live runs for external CI: open a run, stream its results while the suite runs, finish it."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from runs.api.errors import error_body, error_responses
from runs.api.permissions import require_action
from runs.api.runs import RunOut, run_out
from runs.models import TestRun
from runs.services.ingest import IngestError, ReportFile
from runs.services.leases import LIVE_LEASE_MINUTES
from runs.services.live import (
    MAX_RESULTS_PER_CALL,
    LiveResult,
    LiveRunRefused,
    live_results_add,
    live_run_finish,
    live_run_start,
)

router = Router(tags=["live runs"])

MAX_SECONDS = 366 * 24 * 3600  # a test's time, as the JUnit parser bounds it
MESSAGE_MAX_CHARS = 1000  # as the JUnit parser keeps a failure's one-line message
_PG_INT_MAX = 2_147_483_647

LEASE_DOC = (
    f"A live run is held by its job: each call to `results` (an empty list will do) keeps it "
    f"for {LIVE_LEASE_MINUTES} minutes; when none comes for that long, the run ends `lost` "
    "with a sentence saying so."
)

RESULTS_DOC = (
    "Add test results to a running live run; its counts and progress rise at once.\n\n"
    "Send each test once it finishes, in batches (every second or so). A test sent again with "
    "a later `attempt` (a retry) keeps one row: the last outcome, the summed time, and flaky "
    "when the attempts' outcomes differ; an attempt already stored (a call sent twice) changes "
    f"nothing. A bad item, or more than {MAX_RESULTS_PER_CALL:,} items, refuses the whole call "
    "(400) and stores nothing.\n\n"
    f"{LEASE_DOC}\n\n"
    "409 (`conflict`) when the run is not running (finished, cancelled, lost) or is not a live "
    "run. Needs the Operator role, or to be the run's creator."
)


class LiveRunIn(Schema):
    service: str = Field(
        max_length=200, description="An existing service's name; services are made by an admin."
    )
    suite: str = Field(
        max_length=200,
        description="The suite's name; unknown is refused (field `suite`) unless `create`.",
    )
    revision: str = Field(
        "",
        max_length=200,
        description="The revision tested; unknown is refused (field `revision`) unless `create`.",
    )
    commit: str = Field(
        "",
        max_length=64,
        description="The commit SHA: the revision it names when `revision` is empty, or the "
        "SHA recorded on a revision that `create` makes.",
    )
    create: bool = Field(False, description="Make an unknown suite and revision.")
    expected: int | None = Field(
        None,
        ge=0,
        le=_PG_INT_MAX,
        description="How many tests the suite will run (pytest's collected count), for the "
        "progress bar; leave null when unknown.",
    )


class LiveResultIn(Schema):
    classname: str = Field(
        description="As the JUnit report will give it (pytest: the module path, with the class)."
    )
    name: str = Field(min_length=1, description="The test's name, parameters included.")
    file: str = Field("", description="The test's file, when known.")
    outcome: Literal["passed", "failed", "error", "skipped"] = Field(
        description="error: its setup or teardown failed."
    )
    duration: float = Field(0.0, ge=0, le=MAX_SECONDS, description="Seconds.")
    message: str = Field(
        "", description=f"One line about a failure; cut at {MESSAGE_MAX_CHARS} characters."
    )
    details: str = Field("", description="The failure's full text (traceback).")
    attempt: int = Field(
        1,
        ge=1,
        le=32767,
        description="1 for the first run of the test, 2 for its first retry, and so on.",
    )


class ResultsIn(Schema):
    results: list[LiveResultIn] = Field(
        max_length=MAX_RESULTS_PER_CALL,
        description=f"At most {MAX_RESULTS_PER_CALL:,} results; send more in several calls.",
    )
    expected: int | None = Field(
        None,
        ge=0,
        le=10_000_000,
        description="How many tests the suite will run, once the client knows (after its "
        "collection): the run page's progress total. Later calls need not repeat it.",
    )


class ResultsOut(Schema):
    received: int = Field(description="How many results this call carried.")
    progress_done: int = Field(description="How many tests of the run have a result now.")


def _live_run(request: HttpRequest, run_id: int) -> TestRun:
    """The run, if the caller opened it or is an Operator (403 otherwise; 404 if none)."""
    run = get_object_or_404(TestRun, pk=run_id)
    if run.created_by_id is None or run.created_by_id != request.user.pk:
        require_action(request, "upload")
    return run


def _conflict(exc: LiveRunRefused) -> Status:
    return Status(409, error_body(str(exc), "conflict"))


@router.post(
    "/live",
    response={201: RunOut, **error_responses(400)},
    summary="Open a live run, to stream its results while the suite runs",
)
def start_live_run(request: HttpRequest, payload: LiveRunIn):
    """Create a run of the named suite and revision, `running` (trigger `api`, started now), and
    answer it; its page shows the results streamed to `POST /api/v1/runs/{id}/results` as they
    come, like a run of Stageloop's own runner. End it with `POST /api/v1/runs/{id}/finish`.

    The service, suite and revision are named and resolved as in `POST /api/v1/runs`: an
    unknown one is refused (400, field `service`, `suite` or `revision`) unless `create`, and a
    refused request makes nothing. Needs the Operator role.
    """
    require_action(request, "upload")
    try:
        run = live_run_start(
            service=payload.service,
            suite=payload.suite,
            revision=payload.revision,
            commit=payload.commit,
            create=payload.create,
            expected=payload.expected,
            user=request.user,
        )
    except IngestError as exc:
        return Status(400, error_body(str(exc), "invalid", field=exc.field))
    return Status(201, run_out(request, run))


@router.post(
    "/{run_id}/results",
    response={202: ResultsOut, **error_responses(400, 404, 409)},
    summary="Stream results into a live run",
    description=RESULTS_DOC,
)
def add_live_results(request: HttpRequest, run_id: int, payload: ResultsIn):
    run = _live_run(request, run_id)
    try:
        run = live_results_add(
            run=run,
            results=[
                LiveResult(
                    classname=item.classname,
                    name=item.name,
                    file=item.file,
                    outcome=item.outcome,
                    duration=item.duration,
                    message=item.message[:MESSAGE_MAX_CHARS],
                    details=item.details,
                    attempt=item.attempt,
                )
                for item in payload.results
            ],
            expected=payload.expected,
        )
    except LiveRunRefused as exc:
        return _conflict(exc)
    return Status(202, {"received": len(payload.results), "progress_done": run.progress_done})


@router.post(
    "/{run_id}/finish",
    response={200: RunOut, **error_responses(400, 404, 409)},
    summary="Finish a live run, with its final JUnit report",
    # Both fields are optional, and so is the body: a finish without a report is allowed.
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "properties": {
                            "files": {
                                "description": "The suite's final JUnit XML report(s), plain "
                                "or gzip: they replace the streamed results."
                            },
                            "error": {
                                "description": "Why the suite did not finish normally; ends "
                                "the run in error with this sentence (cut at 2,000 characters)."
                            },
                        }
                    }
                }
            },
        }
    },
)
def finish_live_run(
    request: HttpRequest,
    run_id: int,
    files: File[list[UploadedFile]] = None,  # type: ignore[assignment]
    error: Form[str] = "",
):
    """End a running live run and answer it as it ended.

    With `files` (multipart/form-data; the suite's final JUnit XML, plain or gzip), the report
    is the truth: the streamed results are replaced by its import, all-or-nothing, and the run
    ends passed or failed with the report's counts. A report that cannot be imported is refused
    (400, `invalid_file`) and the run stays running with its streamed results.

    Without files (an empty body will do), the streamed results stand: the run ends failed when
    one failed or errored, passed when some came and none failed, and in error when none came.

    `error`, when given (the suite crashed, say), ends the run in error with that sentence
    either way. 409 (`conflict`) when the run has already ended or is not a live run. Needs the
    Operator role, or to be the run's creator.
    """
    run = _live_run(request, run_id)
    reports = [
        ReportFile(name=f.name or f"file-{i}", data=f.read()) for i, f in enumerate(files or [])
    ]
    try:
        run = live_run_finish(run=run, files=reports, error=error[:2000])
    except LiveRunRefused as exc:
        return _conflict(exc)
    except IngestError as exc:
        code = "invalid_file" if exc.file else "invalid"
        return Status(400, error_body(str(exc), code, field=exc.field, file=exc.file))
    return Status(200, run_out(request, run))
