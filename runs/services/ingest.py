"""The one importer every door uses: parse JUnit reports, write a run all-or-nothing, in bulk."""

from __future__ import annotations

import gc
import hashlib
import json
import logging
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from engine.junit import ERROR, FAILED, JUnitError, ParsedCase, parse_report
from engine.junit.parser import attempts_join
from runs import page_cache
from runs.lifecycle.runs import run_lifecycle
from runs.models import (
    FailureSignature,
    Revision,
    Service,
    Suite,
    TestResult,
    TestRun,
    TestRunArtifact,
)
from runs.models.testing import case_key_hash, is_real
from runs.services.attachments import (
    ArchiveRefused,
    Folder,
    attachments_store,
    stored_files_remove,
    upload_unpack,
)
from runs.services.bulk import IMPORT_COLUMNS, copy_lines, copy_text, is_postgres, rows_insert
from runs.services.enqueue import run_analyze_enqueue
from runs.services.ingest_cases import KnownCases, cases_upsert
from runs.services.read_models import flake_window_update
from runs.services.reality import cases_mark_real
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
    name: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


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


def reports_parse(files: Sequence[ReportFile]) -> tuple[list[ParsedCase], dict]:
    """Parse every file; merge cases by key across files; refuse the whole upload on any error."""
    if not files:
        raise IngestError("No report file was given.", field="files")
    limit = settings.INGEST_MAX_BYTES
    merged: dict[str, ParsedCase] = {}
    # origin: id(case) -> the name of the report it came from (where its attachments resolve).
    facts: dict = {"started_at": None, "duration": 0.0, "warnings": [], "origin": {}}
    for upload in files:
        if len(upload.data) > limit:
            raise IngestError(
                f"{upload.name} is {_size(len(upload.data))}, over the {_size(limit)} limit "
                "per file (STAGELOOP_INGEST_MAX_BYTES).",
                file=upload.name,
            )
        try:
            report = parse_report(upload.data, name=upload.name, max_bytes=limit)
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
        for case in report.cases:
            earlier = merged.get(case.key)
            if earlier is not None:
                # The same test in two files of one upload: a rerun, like the parser's own folding.
                case.attempt_log = attempts_join(earlier, case)
                case.attempts += earlier.attempts
                case.duration += earlier.duration
                case.flaky = case.flaky or (earlier.outcome != case.outcome)
                case.attachments = [*earlier.attachments, *case.attachments]
            merged[case.key] = case
            facts["origin"][id(case)] = upload.name
    return list(merged.values()), facts


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

    All-or-nothing: a bad file raises IngestError and nothing is written. The same files for
    the same suite and revision return the run they made the first time (created=False).
    """
    try:
        with upload_unpack(files) as unpacked:
            return _import(
                suite=suite,
                files=files,
                reports=[ReportFile(name=r.name, data=r.data) for r in unpacked.reports],
                kept=[ReportFile(name=r.name, data=r.data) for r in unpacked.kept],
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
    if files and not reports:
        raise IngestError(
            "No JUnit report is among the uploaded files: send the report XML (plain or .gz), "
            "or an archive holding it (its reports end in .xml or .xml.gz).",
            field="files",
        )
    # The suite's known test cases are read on a second connection while this thread parses.
    known = KnownCases(suite_id=suite.pk)
    try:
        cases, facts = reports_parse(reports)
    finally:
        prefetched = known.result()
    facts["warnings"][:0] = unpack_warnings
    facts["folder"] = folder
    if folder is not None:
        facts["report_dirs"] = {
            key: folder.report_dirs.get(name, "") for key, name in facts["origin"].items()
        }
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
    # Writing allocates a few objects per case and no cycles; the cyclic collector would keep
    # rescanning the parsed cases held here, as it did in the parser (see parse_report).
    collecting = gc.isenabled()
    gc.disable()
    stored: list[str] = []
    try:
        with transaction.atomic():
            run = _write(
                suite=suite,
                cases=cases,
                facts=facts,
                revision=revision,
                trigger=trigger,
                user=user,
                started_at=started_at,
                run=run,
                content_hash=content_hash,
                files=kept,
                prefetched=prefetched,
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
        if collecting:
            gc.enable()
    return ImportResult(run=run, created=True, warnings=run.warnings)


def _write(
    *,
    suite,
    cases,
    facts,
    revision,
    trigger,
    user,
    started_at,
    run,
    content_hash,
    files,
    prefetched,
    end_error="",
    stored=None,
):
    now = timezone.now()
    counts = {"passed": 0, "failed": 0, "error": 0, "skipped": 0}
    for case in cases:
        counts[case.outcome] += 1
    started = started_at or facts["started_at"] or (run.started_at if run else None) or now
    failing = counts["failed"] + counts["error"]
    if not cases:
        status, error = TestRun.Status.ERROR, "The report holds no test cases: nothing was tested."
    else:
        status, error = (TestRun.Status.FAILED if failing else TestRun.Status.PASSED), ""
    if end_error:
        status, error = TestRun.Status.ERROR, end_error
    values = {
        "status": status,
        "error": error,
        "started_at": started,
        "finished_at": started + timedelta(seconds=facts["duration"]),
        "duration": facts["duration"],
        "total": len(cases),
        "passed": counts["passed"],
        "failed": counts["failed"],
        "errors": counts["error"],
        "skipped": counts["skipped"],
        "flaky": sum(1 for c in cases if c.flaky),
        "progress_done": len(cases),
        "progress_total": len(cases),
        "warnings": facts["warnings"][:200],
    }
    if run is None:
        run = TestRun.objects.create(
            suite=suite,
            service=suite.service,
            revision=revision,
            trigger=trigger,
            created_by=user if user is not None and user.is_authenticated else None,
            content_hash=content_hash,
            **values,
        )
    else:
        if run.results.exists():
            raise IngestError(f"Run #{run.pk} already holds results; import into a new run.")
        if run.finished_at:  # the runner knows when the run really ended
            values["finished_at"] = run.finished_at
        status = values.pop("status")
        if not run_lifecycle.move(run.pk, status, frm=[TestRun.Status.RUNNING], **values):
            # Cancelled (or lost) meanwhile: it keeps that status and the tests that ran.
            values.pop("error")
            TestRun.objects.filter(pk=run.pk).update(**values)
        run.refresh_from_db()
    hashes = [case_key_hash(c.key) for c in cases]
    known = cases_upsert(suite=suite, cases=cases, hashes=hashes, prefetched=prefetched)
    case_ids = known.ids
    signature_ids = signatures_upsert(suite=suite, cases=cases)
    _results_insert(
        run_id=run.pk, cases=cases, hashes=hashes, case_ids=case_ids, signature_ids=signature_ids
    )
    flake_window_update(run=run)  # the flaky-window read model (runs.services.read_models)
    if failing:  # the snapshot of quarantined failures, taken with the states of import time
        run.quarantined_failures = run_quarantine_mark(run_id=run.pk, suite_id=suite.pk)
    # Only tests that existed before this report and were not yet known real can change.
    cases_mark_real(
        ids=[
            case_ids[h]
            for c, h in zip(cases, hashes, strict=True)
            if case_ids[h] in known.plain and is_real(c.outcome, c.duration)
        ]
    )
    stored = stored if stored is not None else []
    attachments_store(
        run=run,
        cases=cases,
        case_ids={id(c): case_ids[h] for c, h in zip(cases, hashes, strict=True) if c.attachments},
        folder=facts.get("folder"),
        report_dirs=facts.get("report_dirs", {}),
        stored=stored,
        warnings=facts["warnings"],
    )
    if len(facts["warnings"]) != len(run.warnings):
        run.warnings = facts["warnings"][:200]
        TestRun.objects.filter(pk=run.pk).update(warnings=run.warnings)
    for upload in files:
        artifact = TestRunArtifact(
            run=run, name=upload.name, size=len(upload.data), sha256=upload.sha256
        )
        artifact.file.save(upload.name, ContentFile(upload.data), save=False)
        stored.append(artifact.file.name)
        artifact.save()
    return run


def _results_insert(*, run_id, cases, hashes, case_ids, signature_ids) -> None:
    """One result row per case: COPY text built here on PostgreSQL, rows_insert elsewhere."""
    table = TestResult._meta.db_table
    if is_postgres():
        text, sig, null = copy_text, signature_ids.get, "\\N"
        dumps = json.dumps
        copy_lines(
            table,
            IMPORT_COLUMNS,
            (
                f"{run_id}\t{case_ids[h]}\t{c.outcome}\t{c.duration!r}\t{text(c.message)}\t"
                f"{text(c.details)}\t{text(c.output)}\t{min(c.attempts, 32767)}\t"
                f"{'t' if c.flaky else 'f'}\t{sig(id(c)) or null}\t{text(c.error_output)}\t"
                f"{text(dumps(c.attempt_log)) if c.attempt_log else null}\n"
                for c, h in zip(cases, hashes, strict=True)
            ),
        )
        return
    rows_insert(
        table,
        IMPORT_COLUMNS,
        (
            (
                run_id,
                case_ids[h],
                c.outcome,
                c.duration,
                c.message,
                c.details,
                c.output,
                min(c.attempts, 32767),
                c.flaky,
                signature_ids.get(id(c)),
                c.error_output,
                json.dumps(c.attempt_log) if c.attempt_log else None,
            )
            for c, h in zip(cases, hashes, strict=True)
        ),
    )


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
    refused upload leaves none behind. Without `create` nothing is made and no transaction is
    held while the files are parsed.
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
