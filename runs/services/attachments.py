"""Attachments: the files a test's report names, read only from inside the upload or folder.

A report names files with ``[[ATTACHMENT|path]]`` lines and attachment properties (see
engine.junit). They reach the server only three ways: inside an uploaded archive (.zip,
.tar.gz, .tgz, .tar) next to its reports, as extra files of the same upload, or from the
runner's own output folder for suites Stageloop runs. Uploads are unpacked into a private
temporary folder first, so all three end up as a :class:`Folder` and one rule resolves every
path: relative to the report's folder (then to the folder's root), and whatever it names,
symlinks followed, must be a regular file inside that folder. Anything else is not read, and
the result gets a note saying so.
"""

from __future__ import annotations

import errno
import io
import mimetypes
import os
import re
import shutil
import stat
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from engine.junit import ParsedCase
from runs.models import TestAttachment, TestResult, TestRun

_REPORT_SUFFIXES = (".xml", ".gz")
_ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar")
_REPORT_ROOT = re.compile(rb"<testsuites?[\s>/]")
_CHUNK = 1 << 16
# Raster images a browser shows in <img> without running anything; SVG is not among them.
_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
SAFE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def human_size(n: int) -> str:
    """Like dashboard.upload_limits.human_size (runs may not import dashboard)."""
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} bytes"


class ArchiveRefused(ValueError):
    """An uploaded archive that is not unpacked at all; ``str()`` says why, naming it."""


@dataclass(frozen=True)
class Upload:
    """An uploaded file as the doors receive it (runs.services.ingest.ReportFile)."""

    name: str
    data: bytes


@dataclass
class Folder:
    """Where a run's attachments may come from, and how a note names it."""

    root: Path
    where: str  # "upload" or "suite's output folder"
    # Report name -> its folder, relative to root (reports inside an archive).
    report_dirs: dict[str, str] = field(default_factory=dict)
    # Files uploaded next to the reports (not inside an archive): matched by base name too.
    extras: set[str] = field(default_factory=set)
    read: set[Path] = field(default_factory=set)


@dataclass
class Unpacked:
    reports: list[Upload]
    kept: list[Upload]  # the uploaded files kept as the run's artifacts: reports and archives
    folder: Folder | None
    warnings: list[str] = field(default_factory=list)


def sniff_content_type(name: str, head: bytes) -> str:
    """The content type of a stored attachment: images by their bytes, the rest by name."""
    for magic, kind in _IMAGE_MAGIC:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    guessed = mimetypes.guess_type(name)[0] or "application/octet-stream"
    # A name alone never makes a file an image: it is shown only when its bytes are one.
    return "application/octet-stream" if guessed.startswith("image/") else guessed


def _is_archive(name: str, data: bytes) -> bool:
    lower = name.lower()
    if lower.endswith(_ARCHIVE_SUFFIXES):
        return True
    return data[:4] == b"PK\x03\x04"


def _is_report(name: str, data: bytes) -> bool:
    """A top-level file is a report unless its name and bytes both say otherwise (a file with
    an extension other than .xml/.gz that does not start like XML is an extra file)."""
    suffix = PurePosixPath(name.lower()).suffix
    if not suffix or name.lower().endswith(_REPORT_SUFFIXES):
        return True
    return data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<"


def _looks_like_report(head: bytes) -> bool:
    return _REPORT_ROOT.search(head) is not None


@contextmanager
def upload_unpack(files: Sequence[Upload | Any]) -> Iterator[Unpacked]:
    """Sort an upload into reports and attachment files, unpacking archives into a private
    temporary folder that is removed on exit. Raises :class:`ArchiveRefused` for an archive
    over the limits or unreadable: then nothing of the upload is imported."""
    reports: list[Upload] = []
    kept: list[Upload] = []
    extras: list[Upload] = []
    archives: list[Upload] = []
    for upload in files:
        if _is_archive(upload.name, upload.data):
            archives.append(upload)
        elif _is_report(upload.name, upload.data):
            reports.append(upload)
        else:
            extras.append(upload)
    kept = [*reports, *archives]
    if not archives and not extras:
        yield Unpacked(reports=reports, kept=kept, folder=None)
        return
    root = Path(tempfile.mkdtemp(prefix="stageloop-upload-"))
    try:
        folder = Folder(root=root.resolve(), where="upload")
        unpacked = Unpacked(reports=reports, kept=kept, folder=folder)
        budget = _Budget()
        for index, archive in enumerate(archives):
            into = root / f"archive-{index}" if len(archives) > 1 else root
            into.mkdir(exist_ok=True)
            for name, data in _unpack(archive, into, budget, unpacked.warnings):
                relative = (into / name).relative_to(root)
                folder.report_dirs[name] = str(relative.parent)
                unpacked.reports.append(Upload(name=name, data=data))
        for extra in extras:
            name = PurePosixPath(extra.name.replace("\\", "/")).name or "file"
            target = root / name
            if target.exists() or name.startswith("."):
                unpacked.warnings.append(
                    f"{extra.name}: a file of that name is already in the upload; not kept."
                )
                continue
            budget.add(extra.name, len(extra.data))
            target.write_bytes(extra.data)
            folder.extras.add(name)
        yield unpacked
    finally:
        shutil.rmtree(root, ignore_errors=True)


class _Budget:
    def __init__(self) -> None:
        self.bytes = 0
        self.files = 0

    def add(self, what: str, size: int) -> None:
        """Count one more file of `size` bytes."""
        self.files += 1
        self.more(what, size)
        if self.files > settings.ARCHIVE_MAX_FILES:
            raise ArchiveRefused(
                f"{what}: the upload unpacks to more than {settings.ARCHIVE_MAX_FILES} files "
                "(STAGELOOP_ARCHIVE_MAX_FILES); nothing was imported."
            )

    def more(self, what: str, size: int) -> None:
        """Count `size` more bytes of the current file."""
        self.bytes += size
        if self.bytes > settings.ARCHIVE_MAX_BYTES:
            raise ArchiveRefused(
                f"{what}: the upload unpacks to more than {human_size(settings.ARCHIVE_MAX_BYTES)} "
                "(STAGELOOP_ARCHIVE_MAX_BYTES); nothing was imported."
            )


def _safe_member(name: str) -> PurePosixPath | None:
    """An archive member's path when it stays inside the archive (no zip-slip), else None."""
    if "\x00" in name:
        return None
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or re.match(r"^[A-Za-z]:", name) or ".." in path.parts:
        return None
    parts = [p for p in path.parts if p not in ("", ".")]
    return PurePosixPath(*parts) if parts else None


def _unpack(
    archive: Upload, into: Path, budget: _Budget, warnings: list[str]
) -> Iterator[tuple[str, bytes]]:
    """Write an archive's regular files under `into`, counting real bytes against the budget
    (never the sizes its headers claim); yield (path, bytes) of the reports among them."""
    buffer = io.BytesIO(archive.data)
    try:
        if zipfile.is_zipfile(buffer):
            with zipfile.ZipFile(buffer) as zipped:
                for info in zipped.infolist():
                    if info.is_dir():
                        continue
                    mode = info.external_attr >> 16
                    if stat.S_IFMT(mode) and not stat.S_ISREG(mode):
                        warnings.append(
                            f"{archive.name}: {info.filename!r} is not a regular file; skipped."
                        )
                        continue
                    with zipped.open(info) as member:
                        found = _write_member(
                            archive, info.filename, member, into, budget, warnings
                        )
                    if found:
                        yield found
            return
        buffer.seek(0)
        with tarfile.open(fileobj=buffer, mode="r:*") as tarred:
            for entry in tarred:
                if entry.isdir():
                    continue
                if not entry.isfile():
                    warnings.append(
                        f"{archive.name}: {entry.name!r} is a link or device, not a regular "
                        "file; skipped."
                    )
                    continue
                handle = tarred.extractfile(entry)
                if handle is None:
                    continue
                with handle:
                    found = _write_member(archive, entry.name, handle, into, budget, warnings)
                if found:
                    yield found
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, RuntimeError) as exc:
        raise ArchiveRefused(
            f"{archive.name} is not a readable .zip or .tar(.gz) archive ({exc}); "
            "nothing was imported."
        ) from None


def _write_member(
    archive: Upload,
    name: str,
    member: IO[bytes],
    into: Path,
    budget: _Budget,
    warnings: list[str],
) -> tuple[str, bytes] | None:
    path = _safe_member(name)
    if path is None:
        warnings.append(f"{archive.name}: entry {name!r} points outside the archive; skipped.")
        return None
    target = into.joinpath(*path.parts)
    if target.exists():
        warnings.append(f"{archive.name}: entry {name!r} appears twice; the first is kept.")
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    head = b""
    what = f"{archive.name}: {name}"
    budget.add(what, 0)
    with open(target, "xb") as out:
        while chunk := member.read(_CHUNK):
            if not head:
                head = chunk[:65536]
            budget.more(what, len(chunk))
            out.write(chunk)
    lower = path.name.lower()
    if lower.endswith(".xml") and _looks_like_report(head):
        return str(path), target.read_bytes()
    if lower.endswith(".xml.gz"):
        return str(path), target.read_bytes()
    return None


# --- resolving and storing ------------------------------------------------------------------


@dataclass
class Found:
    name: str  # as the report wrote it
    data: bytes | None = None
    note: str = ""


def _note(ref: str, why: str) -> str:
    shown = ref if len(ref) <= 200 else ref[:200] + "…"
    return f"attachment '{shown}' {why}"


def attachment_read(folder: Folder | None, ref: str, *, report_dir: str = "") -> Found:
    """Read the file `ref` names from inside `folder`, or say why not (never reads outside)."""
    where = folder.where if folder else "upload"
    if folder is None:
        return Found(ref, note=_note(ref, "was not uploaded with the report; not read."))
    if "\x00" in ref or not ref.strip():
        return Found(ref, note=_note(ref, "is not a file name; not read."))
    root = folder.root
    text = ref.replace("\\", "/") if not os.path.isabs(ref) else ref
    if text.startswith("file://"):
        text = text[len("file://") :]
    candidates: list[Path] = []
    if os.path.isabs(text):
        candidates.append(Path(text))
    else:
        if report_dir:
            candidates.append(root / report_dir / text)
        candidates.append(root / text)
        base = PurePosixPath(text).name
        if base in folder.extras and ".." not in PurePosixPath(text).parts:
            candidates.append(root / base)
    outside = False
    for candidate in candidates:
        real = Path(os.path.realpath(candidate))
        if real != root and root not in real.parents:
            outside = True
            continue
        if not os.path.lexists(real):
            continue
        found = _read_inside(ref, real, where)
        if found.data is not None:
            folder.read.add(real)
        return found
    if outside:
        return Found(ref, note=_note(ref, f"is outside the {where}; not read."))
    return Found(ref, note=_note(ref, f"is not in the {where}; not read."))


def _read_inside(ref: str, real: Path, where: str) -> Found:
    try:
        info = os.lstat(real)
    except OSError:
        return Found(ref, note=_note(ref, f"is not in the {where}; not read."))
    if not stat.S_ISREG(info.st_mode):
        return Found(ref, note=_note(ref, "is not a regular file; not read."))
    limit = settings.ATTACHMENT_MAX_BYTES
    if info.st_size > limit:
        return Found(ref, note=_too_large(ref, info.st_size))
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        why = "is a link" if exc.errno == errno.ELOOP else "could not be opened"
        return Found(ref, note=_note(ref, f"{why}; not read."))
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return Found(ref, note=_note(ref, "is not a regular file; not read."))
        data = handle.read(limit + 1)
    if len(data) > limit:
        return Found(ref, note=_too_large(ref, len(data)))
    return Found(ref, data=data)


def _too_large(ref: str, size: int) -> str:
    limit = settings.ATTACHMENT_MAX_BYTES
    return _note(
        ref,
        f"is {human_size(size)}, over the {human_size(limit)} limit per attachment "
        "(STAGELOOP_ATTACHMENT_MAX_BYTES); not stored.",
    )


def attachments_store(
    *,
    run: TestRun,
    cases: Sequence[ParsedCase],
    case_ids: dict[int, int],
    folder: Folder | None,
    report_dirs: dict[int, str],
    stored: list[str],
    warnings: list[str],
) -> int:
    """Store the attachments `cases` name as the run's TestAttachments (a note for each one not
    read); `case_ids` maps id(case) -> TestCase id. Appends every file name written to
    `stored` so the caller can remove them if its transaction rolls back. Returns the count."""
    wanted = [c for c in cases if c.attachments]
    try:
        return _store(
            run=run,
            wanted=wanted,
            case_ids=case_ids,
            folder=folder,
            report_dirs=report_dirs,
            stored=stored,
            warnings=warnings,
        )
    finally:
        if folder is not None:
            for name in sorted(folder.extras):
                if folder.root / name not in folder.read:
                    warnings.append(f"{name} was uploaded but no test names it; not kept.")


def _store(
    *,
    run: TestRun,
    wanted: list[ParsedCase],
    case_ids: dict[int, int],
    folder: Folder | None,
    report_dirs: dict[int, str],
    stored: list[str],
    warnings: list[str],
) -> int:
    if not wanted:
        return 0
    result_ids = dict(
        TestResult.objects.filter(
            run=run, case_id__in=[case_ids[id(c)] for c in wanted]
        ).values_list("case_id", "id")
    )
    budget_bytes = settings.ATTACHMENTS_RUN_MAX_BYTES
    budget_files = settings.ATTACHMENTS_RUN_MAX_FILES
    used = 0
    rows: list[TestAttachment] = []
    for case in wanted:
        result_id = result_ids[case_ids[id(case)]]
        for ref in dict.fromkeys(case.attachments):
            if len(rows) >= budget_files:
                warnings.append(
                    f"The report names more than {budget_files} attachments "
                    "(STAGELOOP_ATTACHMENTS_RUN_MAX_FILES); the rest were not read."
                )
                break
            found = attachment_read(folder, ref, report_dir=report_dirs.get(id(case), ""))
            row = TestAttachment(run=run, result_id=result_id, name=ref[:500], note=found.note)
            if found.data is not None:
                if used + len(found.data) > budget_bytes:
                    row.note = _note(
                        ref,
                        f"would take the run's attachments over {human_size(budget_bytes)} "
                        "(STAGELOOP_ATTACHMENTS_RUN_MAX_BYTES); not stored.",
                    )
                else:
                    used += len(found.data)
                    base = PurePosixPath(ref.replace("\\", "/")).name[:100] or "attachment"
                    row.size = len(found.data)
                    row.content_type = sniff_content_type(base, found.data[:64])
                    row.file.save(base, ContentFile(found.data), save=False)
                    stored.append(row.file.name)
            rows.append(row)
        else:
            continue
        break
    TestAttachment.objects.bulk_create(rows)
    return len(rows)


def stored_files_remove(names: Sequence[str]) -> None:
    """Remove files written for an import that did not commit."""
    for name in names:
        with suppress(OSError):
            default_storage.delete(name)


def attachments_prune(*, now: datetime, batch: int = 500) -> int:
    """Delete the attachments of runs older than STAGELOOP_ATTACHMENT_RETENTION_DAYS (their
    files go when each deletion commits, see runs.stored_files); return how many."""
    days = settings.ATTACHMENT_RETENTION_DAYS
    if not days:
        return 0
    cutoff = now - timedelta(days=days)
    deleted = 0
    while True:
        ids = list(
            TestAttachment.objects.filter(run__created_at__lt=cutoff).values_list("pk", flat=True)[
                :batch
            ]
        )
        if not ids:
            return deleted
        with transaction.atomic():
            deleted += TestAttachment.objects.filter(pk__in=ids).delete()[0]
