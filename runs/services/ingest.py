"""The one importer every door uses: parse JUnit reports, write a run all-or-nothing, in bulk."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from contextlib import closing, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.db import IntegrityError, transaction
from django.utils import timezone

from engine.junit import ERROR, FAILED, PASSED, SKIPPED, JUnitError, ParsedCase, ReportCases
from runs import page_cache
from runs.integrations_seam import run_finished, run_results_judged
from runs.lifecycle.runs import run_lifecycle
from runs.models import (
    FailureSignature,
    Revision,
    Service,
    Suite,
    TestRun,
    TestRunArtifact,
)
from runs.reports_seam import tallies_fold_run
from runs.services.attachments import (
    ArchiveRefused,
    Folder,
    attachments_store,
    stored_files_remove,
    upload_unpack,
)
from runs.services.enqueue import case_search_index_enqueue, run_analyze_enqueue
from runs.services.ingest_ahead import read_ahead
from runs.services.ingest_cases import KnownCases
from runs.services.ingest_results import ResultWriter, Totals
from runs.services.read_models import case_latest_update, flake_window_update
from runs.services.states import run_quarantine_mark
from runs.signatures import failure_signature

logger = logging.getLogger(__name__)


class IngestError(ValueError):
    """An upload that cannot be imported; nothing was stored. Names the file or field."""

    def __init__(self, message: str, *, file: str = "", field: str = "") -> None:
        super().__init__(message)
        self.file = file
        self.field = field


@dataclass(frozen=True)
class ReportFile:
    """One uploaded file: its bytes, or (`path`) a file on disk that the import reads as it
    streams, so a 150 MB report never sits in memory (Django keeps big uploads on disk)."""

    name: str
    data: bytes = b""
    path: str | None = None

    @classmethod
    def of_upload(cls, upload, name: str = "") -> ReportFile:
        """A Django UploadedFile: by path when Django spooled it to disk, else its bytes."""
        name = name or upload.name
        if hasattr(upload, "temporary_file_path"):
            return cls(name=name, path=upload.temporary_file_path())
        return cls(name=name, data=upload.read())

    @property
    def size(self) -> int:
        return os.stat(self.path).st_size if self.path else len(self.data)

    @property
    def source(self) -> bytes | str:
        """What the parser reads: the path, or the bytes."""
        return self.path or self.data

    @property
    def sha256(self) -> str:
        if self.path:
            with open(self.path, "rb") as handle:
                return hashlib.file_digest(handle, "sha256").hexdigest()
        return hashlib.sha256(self.data).hexdigest()

    def head(self, size: int = 64) -> bytes:
        if self.path:
            with open(self.path, "rb") as handle:
                return handle.read(size)
        return self.data[:size]

    def in_memory(self) -> ReportFile:
        """The same file with its bytes loaded (archives are unpacked from memory)."""
        if not self.path:
            return self
        with open(self.path, "rb") as handle:
            return ReportFile(name=self.name, data=handle.read())


@dataclass
class ImportResult:
    run: TestRun
    created: bool
    warnings: list[str] = field(default_factory=list)


# A run's times added up: beyond this, they are not seconds (and would end after year 9999).
RUN_MAX_YEARS = 100
_RUN_MAX_SECONDS = RUN_MAX_YEARS * 366 * 24 * 3600
# The years a run may start in (the parser reads report timestamps in the same range).
_FIRST_YEAR, _LAST_YEAR = 1971, 2100


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.1f} kB"


def run_import(
    *,
    suite: Suite,
    files: Sequence[ReportFile],
    revision: Revision | None = None,
    trigger: str = TestRun.Trigger.UPLOAD,
    user=None,
    started_at: datetime | None = None,
    run: TestRun | None = None,
    analyze: bool = True,
    end_error: str = "",
    folder: Folder | None = None,
    _retried: bool = False,
) -> ImportResult:
    """Import reports into a new run of `suite` (or into `run`, for the suite runner).

    With `analyze`, the analyze step (draft analyses, verification) is enqueued on commit; the
    deploy pipeline passes False and runs that step itself. With `end_error` (the runner's
    timeout, say) the run ends in error with that text whatever its results say.

    `files` may hold archives (.zip, .tar.gz) of reports with the files they attach, and extra
    files the reports attach; `folder` is the runner's output folder, where the reports'
    attachments are read from instead (runs.services.attachments).

    The reports are parsed and written as they stream (flat memory, see ingest_results),
    inside one transaction: a bad file, even one broken in its middle, raises IngestError and
    nothing is written. The same files for
    the same suite and revision return the run they made the first time (created=False).
    """
    try:
        with upload_unpack([_for_unpacking(f) for f in files]) as unpacked:
            return _import(
                suite=suite,
                files=files,
                reports=[_report_file(r) for r in unpacked.reports],
                kept=[_report_file(r) for r in unpacked.kept],
                folder=folder or unpacked.folder,
                unpack_warnings=unpacked.warnings,
                revision=revision,
                trigger=trigger,
                user=user,
                started_at=started_at,
                run=run,
                analyze=analyze,
                end_error=end_error,
                _retried=_retried,
            )
    except ArchiveRefused as exc:
        raise IngestError(str(exc), file=str(exc).split(":", 1)[0]) from None


def _for_unpacking(upload: ReportFile) -> ReportFile:
    """A file on disk stays there when it is a report (the unpacker sorts it by its name and
    first bytes); anything else, an archive above all, is loaded to be unpacked."""
    if not upload.path:
        return upload
    lower = upload.name.lower()
    head = upload.head(64)
    if lower.endswith((".xml", ".xml.gz")) and head[:4] != b"PK\x03\x04":
        return upload
    return upload.in_memory()


def _report_file(upload) -> ReportFile:
    if isinstance(upload, ReportFile):
        return upload
    return ReportFile(name=upload.name, data=upload.data)


def _import(
    *,
    suite: Suite,
    files: Sequence[ReportFile],
    reports: list[ReportFile],
    kept: list[ReportFile],
    folder: Folder | None,
    unpack_warnings: list[str],
    revision: Revision | None,
    trigger: str,
    user,
    started_at: datetime | None,
    run: TestRun | None,
    analyze: bool,
    end_error: str,
    _retried: bool,
) -> ImportResult:
    if not files:
        raise IngestError("No report file was given.", field="files")
    if not reports:
        raise IngestError(
            "No JUnit report is among the uploaded files: send the report XML (plain or .gz), "
            "or an archive holding it (its reports end in .xml or .xml.gz).",
            field="files",
        )
    limit = settings.INGEST_MAX_BYTES
    for upload in reports:
        if upload.size > limit:
            raise IngestError(
                f"{upload.name} is {_size(upload.size)}, over the {_size(limit)} limit "
                "per file (STAGELOOP_INGEST_MAX_BYTES).",
                file=upload.name,
            )
    content_hash = ""
    if run is None:
        content_hash = hashlib.sha256(
            "\n".join(
                [str(revision.pk if revision else ""), *sorted(f.sha256 for f in files)]
            ).encode()
        ).hexdigest()
        existing = TestRun.objects.filter(suite=suite, content_hash=content_hash).first()
        if existing:
            return ImportResult(run=existing, created=False, warnings=existing.warnings)
    # The suite's known test cases are read on a second connection while the run starts.
    known = KnownCases(suite_id=suite.pk)
    stored: list[str] = []
    try:
        with transaction.atomic():
            run = _write(
                suite=suite,
                reports=reports,
                warnings=list(unpack_warnings),
                revision=revision,
                trigger=trigger,
                user=user,
                started_at=started_at,
                run=run,
                content_hash=content_hash,
                files=kept,
                known=known,
                folder=folder,
                end_error=end_error,
                stored=stored,
            )
            page_cache.generation_bump(service_id=suite.service_id)
            if analyze:  # its outbox message commits with the run, or neither does
                run_analyze_enqueue(run_id=run.pk)
    except BaseException as exc:
        stored_files_remove(stored)  # the rows were rolled back: their files go too
        if not isinstance(exc, IntegrityError):
            raise
        existing = TestRun.objects.filter(suite=suite, content_hash=content_hash).first()
        if content_hash and existing:  # the same upload won a race with this one
            return ImportResult(run=existing, created=False, warnings=existing.warnings)
        if _retried:
            raise
        # A concurrent import of this suite created some of the same test cases first.
        return run_import(
            suite=suite,
            files=files,
            revision=revision,
            trigger=trigger,
            user=user,
            started_at=started_at,
            run=run,
            analyze=analyze,
            end_error=end_error,
            folder=folder,
            _retried=True,
        )
    finally:
        known.result()  # its thread may still hold a connection when the import fails early
    return ImportResult(run=run, created=True, warnings=run.warnings)


def _run_open(*, suite, run, revision, trigger, user, content_hash) -> TestRun:
    """The run the results go to: a new one, running until its results are written (inside
    the import's transaction, so no one else ever sees it running), or the runner's own."""
    if run is None:
        return TestRun.objects.create(
            suite=suite,
            service=suite.service,
            revision=revision,
            trigger=trigger,
            created_by=user if user is not None and user.is_authenticated else None,
            content_hash=content_hash,
            status=TestRun.Status.RUNNING,
            started_at=timezone.now(),
        )
    if run.results.exists():
        raise IngestError(f"Run #{run.pk} already holds results; import into a new run.")
    return run


def _reports_write(*, writer: ResultWriter, reports: Sequence[ReportFile], facts: dict) -> None:
    """Parse each report and write its cases as they come; refuse the whole upload (the
    caller's transaction rolls back) on any error, wherever it is in which file."""
    limit = settings.INGEST_MAX_BYTES
    for upload in reports:
        writer.report_start(upload.name)
        try:
            cases = ReportCases(upload.source, name=upload.name, max_bytes=limit)
            # Parsed in a thread while the writer waits on the database (ingest_ahead).
            with closing(read_ahead(cases)) as ahead:
                for case in ahead:
                    writer.add(case)
            report = cases.report()
        except JUnitError as exc:
            raise IngestError(str(exc), file=upload.name) from None
        facts["duration"] += report.duration
        if facts["duration"] > _RUN_MAX_SECONDS:
            raise IngestError(
                f"The times in {upload.name} add up to more than {RUN_MAX_YEARS} years, which "
                "is not a duration in seconds; check its time= attributes.",
                file=upload.name,
            )
        if report.started_at and (
            facts["started_at"] is None or report.started_at < facts["started_at"]
        ):
            facts["started_at"] = report.started_at
        facts["warnings"].extend(f"{upload.name}: {w}" for w in report.warnings)
    writer.close()


def _write(
    *,
    suite: Suite,
    reports: Sequence[ReportFile],
    warnings: list[str],
    revision: Revision | None,
    trigger: str,
    user,
    started_at: datetime | None,
    run: TestRun | None,
    content_hash: str,
    files: Sequence[ReportFile],
    known: KnownCases,
    folder: Folder | None,
    end_error: str = "",
    stored: list[str],
) -> TestRun:
    given_start = started_at or (run.started_at if run else None)
    run = _run_open(
        suite=suite,
        run=run,
        revision=revision,
        trigger=trigger,
        user=user,
        content_hash=content_hash,
    )
    facts: dict = {"started_at": None, "duration": 0.0, "warnings": warnings}
    writer = ResultWriter(run_id=run.pk, suite=suite, known=known)
    _reports_write(writer=writer, reports=reports, facts=facts)
    if writer.search_pending:  # its message commits with the run, or neither does
        case_search_index_enqueue(suite_id=suite.pk)
    totals = writer.totals
    _run_finish(
        run=run,
        totals=totals,
        facts=facts,
        started=started_at or facts["started_at"] or given_start or timezone.now(),
        end_error=end_error,
    )
    # On PostgreSQL an import's new tests wait for their search indexing task to be mapped to
    # the capabilities: when every test is new, none is mapped yet, and nothing is tallied.
    run_results_written(
        run=run, failing=totals.failing, mapped=writer.search_pending < totals.total
    )
    attachments_store(
        run=run,
        cases=list(writer.attached.values()),
        case_ids={id(case): pk for pk, case in writer.attached.items()},
        folder=folder,
        report_dirs=(
            {key: folder.report_dirs.get(name, "") for key, name in writer.origin.items()}
            if folder is not None
            else {}
        ),
        stored=stored,
        warnings=facts["warnings"],
    )
    if len(facts["warnings"]) != len(run.warnings):
        run.warnings = facts["warnings"][:200]
        TestRun.objects.filter(pk=run.pk).update(warnings=run.warnings)
    for upload in files:
        artifact = TestRunArtifact(
            run=run, name=upload.name, size=upload.size, sha256=upload.sha256
        )
        if upload.path:
            with open(upload.path, "rb") as handle:
                artifact.file.save(upload.name, File(handle), save=False)
        else:
            artifact.file.save(upload.name, ContentFile(upload.data), save=False)
        stored.append(artifact.file.name)
        artifact.save()
    return run


def _run_finish(
    *, run: TestRun, totals: Totals, facts: dict, started: datetime, end_error: str
) -> None:
    """Give the run its counters and its final status, from running (see _run_open)."""
    total = totals.total
    if not total:
        status, error = TestRun.Status.ERROR, "The report holds no test cases: nothing was tested."
    else:
        status, error = (TestRun.Status.FAILED if totals.failing else TestRun.Status.PASSED), ""
    if end_error:
        status, error = TestRun.Status.ERROR, end_error
    values = {
        "error": error,
        "started_at": started,
        "finished_at": started + timedelta(seconds=facts["duration"]),
        "duration": facts["duration"],
        "total": total,
        "passed": totals.counts[PASSED],
        "failed": totals.counts[FAILED],
        "errors": totals.counts[ERROR],
        "skipped": totals.counts[SKIPPED],
        "flaky": totals.flaky,
        "progress_done": total,
        "progress_total": total,
        "warnings": facts["warnings"][:200],
    }
    if run.finished_at:  # the runner knows when the run really ended
        values["finished_at"] = run.finished_at
    if not run_lifecycle.move(run.pk, status, frm=[TestRun.Status.RUNNING], **values):
        # Cancelled (or lost) meanwhile: it keeps that status and the tests that ran.
        values.pop("error")
        TestRun.objects.filter(pk=run.pk).update(**values)
    run.refresh_from_db()


def run_results_written(*, run: TestRun, failing: int, mapped: bool = True) -> None:
    """Everything that follows from a run's results once all of them are written, inside the
    import's transaction (read models updated per run go here, so they commit with it).
    `mapped`: whether any of the run's tests may be mapped to a capability already."""
    flake_window_update(run=run)  # the flaky-window read model (runs.services.read_models)
    if mapped:
        tallies_fold_run(run_id=run.pk, suite_id=run.suite_id)  # the summary's counts, then
    case_latest_update(run=run)  # each test's latest result, for the summary
    if failing:  # the snapshot of quarantined failures, taken with the states of import time
        run.quarantined_failures = run_quarantine_mark(run_id=run.pk, suite_id=run.suite_id)
    run_finished(run=run)  # webhooks: run.failed (integrations, through runs.integrations_seam)
    run_results_judged(run=run)  # signature.new, test.flaky (the same seam)


def signatures_upsert(*, suite: Suite, cases: list[ParsedCase]) -> dict[int, int]:
    """Link each failure and error to its suite's FailureSignature; return id(case) -> id."""
    by_hash: dict[str, tuple[str, str, str]] = {}
    case_hash: dict[int, str] = {}
    for case in cases:
        if case.outcome not in (FAILED, ERROR):
            continue
        signature = failure_signature(kind=case.outcome, message=case.message or case.details)
        by_hash.setdefault(
            signature.hash, (case.outcome, signature.normalized, case.message[:2000])
        )
        case_hash[id(case)] = signature.hash
    if not by_hash:
        return {}
    FailureSignature.objects.bulk_create(
        [
            FailureSignature(suite=suite, kind=kind, hash=digest, normalized=norm, example=example)
            for digest, (kind, norm, example) in by_hash.items()
        ],
        ignore_conflicts=True,
    )
    signatures = FailureSignature.objects.filter(suite=suite, hash__in=list(by_hash))
    signatures.update(last_seen_at=timezone.now())
    ids = dict(signatures.values_list("hash", "id"))
    return {case_key: ids[digest] for case_key, digest in case_hash.items()}


def upload_import(
    *,
    service: str,
    suite: str,
    files: Sequence[ReportFile],
    revision: str = "",
    commit: str = "",
    create: bool = False,
    trigger: str,
    user=None,
    started_at: datetime | None = None,
) -> ImportResult:
    """Import `files` into the suite and revision an upload names (see upload_target_resolve).

    A suite or revision that `create` makes is written in the import's transaction, so a
    refused upload leaves none behind. Without `create` nothing is made.
    """
    with transaction.atomic() if create else nullcontext():
        suite_row, revision_row = upload_target_resolve(
            service=service, suite=suite, revision=revision, commit=commit, create=create
        )
        return run_import(
            suite=suite_row,
            revision=revision_row,
            files=files,
            trigger=trigger,
            user=user,
            started_at=started_at,
        )


def upload_target_resolve(
    *,
    service: str,
    suite: str,
    revision: str = "",
    commit: str = "",
    create: bool = False,
) -> tuple[Suite, Revision | None]:
    """Find (or, with `create`, make) the suite and revision an upload names.

    Raises IngestError naming the field when something is unknown and `create` is off. Call it
    through upload_import, which keeps what it makes only if the import succeeds.
    """
    service_row = Service.objects.filter(name=service.strip()).first()
    if service_row is None:
        raise IngestError(
            f"There is no service named {service!r}; services are created by an admin.",
            field="service",
        )
    suite = suite.strip()
    if not suite:
        raise IngestError("Name the suite the results belong to.", field="suite")
    suite_row = Suite.objects.filter(service=service_row, name=suite).first()
    if suite_row is None:
        if not create:
            raise IngestError(
                f"Service {service_row.name} has no suite named {suite!r}; pass create to make it.",
                field="suite",
            )
        suite_row, _ = Suite.objects.get_or_create(service=service_row, name=suite[:120])
    revision_row = None
    revision = revision.strip()
    if revision:
        revision_row = Revision.objects.filter(service=service_row, name=revision).first()
        if revision_row is None:
            if not create:
                raise IngestError(
                    f"Service {service_row.name} has no revision named {revision!r}; "
                    "pass create to record it.",
                    field="revision",
                )
            revision_row, _ = Revision.objects.get_or_create(
                service=service_row,
                name=revision[:120],
                defaults={"commit_sha": commit[:64], "status": Revision.Status.READY},
            )
    elif commit:
        revision_row = (
            Revision.objects.filter(service=service_row, commit_sha=commit)
            .order_by("-created_at")
            .first()
        )
    return suite_row, revision_row


def started_at_parse(value: str) -> datetime | None:
    """An ISO 8601 time (UTC when it has no zone), or IngestError naming started_at."""
    value = value.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise IngestError(
            f"started_at {value!r} is not an ISO 8601 time such as 2026-11-24T09:30:00Z.",
            field="started_at",
        ) from None
    try:
        parsed = parsed.replace(tzinfo=UTC) if timezone.is_naive(parsed) else parsed.astimezone(UTC)
    except OverflowError:
        parsed = datetime.max.replace(tzinfo=UTC)
    if not _FIRST_YEAR <= parsed.year <= _LAST_YEAR:
        raise IngestError(
            f"started_at {value!r} is out of range: give a time from {_FIRST_YEAR} to "
            f"{_LAST_YEAR}, such as 2026-11-24T09:30:00Z.",
            field="started_at",
        )
    return parsed
