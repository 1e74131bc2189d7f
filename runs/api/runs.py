"""POST /api/v1/runs: upload JUnit XML results; GET /api/v1/runs/{id}: a run's summary."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from runs.api.errors import error_body, error_responses
from runs.api.permissions import require_action
from runs.models import TestRun
from runs.services.ingest import IngestError, ReportFile, started_at_parse, upload_import

router = Router(tags=["runs"])


class RunOut(Schema):
    id: int
    url: str
    status: str
    created: bool = True
    total: int
    passed: int
    failed: int
    errors: int
    skipped: int
    flaky: int
    quarantined_failures: int = Field(
        description="Failed or errored results of tests that were quarantined when the run was "
        "imported: reported, never counted as passed, and not blocking."
    )
    blocking_failures: int = Field(
        description="failed + errors - quarantined_failures: the failures that count. A CI "
        "step passes when this is 0."
    )
    progress_done: int = Field(0, description="Tests with a result so far (a running run).")
    progress_total: int = Field(
        0, description="Tests the run will have, once known (0: not known yet)."
    )
    warnings: list[str] = []


def run_out(request: HttpRequest, run: TestRun, *, created: bool = True) -> dict:
    return {
        "id": run.pk,
        "url": request.build_absolute_uri(run.get_absolute_url()),
        "status": run.status,
        "created": created,
        "total": run.total,
        "passed": run.passed,
        "failed": run.failed,
        "errors": run.errors,
        "skipped": run.skipped,
        "flaky": run.flaky,
        "quarantined_failures": run.quarantined_failures,
        "blocking_failures": run.blocking_failures,
        "progress_done": run.progress_done,
        "progress_total": run.progress_total,
        "warnings": run.warnings,
    }


@router.post(
    "",
    response={201: RunOut, 200: RunOut, **error_responses(400, 413)},
    summary="Upload JUnit XML results (plain or gzip) as one run",
    # At least one file: an upload without any is refused (400, field files).
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {"schema": {"properties": {"files": {"minItems": 1}}}}
            }
        }
    },
)
def upload_run(
    request: HttpRequest,
    files: File[list[UploadedFile]],
    service: Form[str],
    suite: Form[str],
    revision: Form[str] = "",
    commit: Form[str] = "",
    started_at: Form[str] = "",
    create: Form[bool] = False,
):
    """All files become one run of the named suite, all-or-nothing.

    `service` must name an existing service: services are created by an admin.
    An unknown suite or revision is refused (400, field `suite` or `revision`) unless the
    upload says `create=true`: then it creates the unknown suite (it receives uploads; an admin
    can give it a command later) and the revision (status ready, with `commit`).
    A refused upload creates nothing: no run, no suite, no revision.
    The same files for the same suite and revision return the first run (200, `created` false).
    `files` may also hold a .zip or .tar.gz of reports with the files they attach, and extra
    files next to the reports: a report's `[[ATTACHMENT|path]]` lines and `attachment`
    properties are read from inside the upload only (a path outside it is recorded as a note).
    Needs the Operator role.
    """
    require_action(request, "upload")
    try:
        result = upload_import(
            service=service,
            suite=suite,
            revision=revision,
            commit=commit,
            create=create,
            files=[ReportFile.of_upload(f, f.name or f"file-{i}") for i, f in enumerate(files)],
            trigger=TestRun.Trigger.API,
            user=request.user,
            started_at=started_at_parse(started_at),
        )
    except IngestError as exc:
        code = "invalid_file" if exc.file else "invalid"
        return Status(400, error_body(str(exc), code, field=exc.field, file=exc.file))
    return Status(
        201 if result.created else 200, run_out(request, result.run, created=result.created)
    )


@router.get(
    "/{run_id}",
    response={200: RunOut, **error_responses(404)},
    summary="One run's status and counts",
)
def get_run(request: HttpRequest, run_id: int):
    require_action(request, "read")
    return run_out(request, get_object_or_404(TestRun, pk=run_id))
