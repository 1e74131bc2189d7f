"""Attachments reach a result only from inside the upload or the runner's output folder."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from runs.models import TestAttachment, TestResult, TestRun
from runs.services.attachments import Folder, attachments_prune
from runs.services.ingest import IngestError, ReportFile, run_import
from tests.attachment_files import png, report, targz_of, zip_of
from tests.ingest.conftest import table_sizes

pytestmark = pytest.mark.django_db(transaction=True)


def _import(suite, *files: tuple[str, bytes], folder: Folder | None = None) -> TestRun:
    return run_import(
        suite=suite, files=[ReportFile(name=n, data=d) for n, d in files], folder=folder
    ).run


def _attachments(run: TestRun) -> list[TestAttachment]:
    return list(TestAttachment.objects.filter(run=run).order_by("pk"))


def _media_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT) / "attachments"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_a_zip_of_the_report_and_its_screenshot_stores_the_image_with_the_result(suite):
    image = png()
    archive = zip_of(
        {
            "reports/junit.xml": report("../shots/failed.png"),
            "shots/failed.png": image,
        }
    )

    run = _import(suite, ("results.zip", archive))

    (attachment,) = _attachments(run)
    assert attachment.result == TestResult.objects.get(run=run)
    assert (attachment.name, attachment.size, attachment.content_type, attachment.note) == (
        "../shots/failed.png",
        len(image),
        "image/png",
        "",
    )
    assert attachment.file.read() == image
    assert run.failed == 1
    assert [a.name for a in run.artifacts.all()] == ["results.zip"]


def test_a_tar_gz_resolves_paths_from_the_reports_folder_then_the_archive_root(suite):
    archive = targz_of(
        {
            "out/junit.xml": report("trace.txt", "logs/server.log"),
            "out/trace.txt": b"step 1\nstep 2\n",
            "logs/server.log": b"GET / 500\n",
        }
    )

    run = _import(suite, ("results.tar.gz", archive))

    found = {a.name: a for a in _attachments(run)}
    assert found["trace.txt"].file.read() == b"step 1\nstep 2\n"
    assert found["trace.txt"].content_type == "text/plain"
    assert found["logs/server.log"].file.read() == b"GET / 500\n"


def test_extra_files_in_the_same_request_are_attached_by_their_name(suite):
    image = png()
    run = _import(
        suite,
        ("junit.xml", report("test-results/test_pay/failed.png", properties=("video.webm",))),
        ("failed.png", image),
        ("video.webm", b"\x1aE\xdf\xa3 not really a video"),
        ("unused.txt", b"nobody names me"),
    )

    found = {a.name: a for a in _attachments(run)}
    assert found["test-results/test_pay/failed.png"].file.read() == image
    assert found["video.webm"].content_type == "video/webm"
    assert "unused.txt was uploaded but no test names it; not kept." in run.warnings
    assert [a.name for a in run.artifacts.all()] == ["junit.xml"]


def test_the_runners_output_folder_is_read_for_attachments(suite, tmp_path):
    out = tmp_path / "scratch"
    (out / "shots").mkdir(parents=True)
    (out / "shots" / "a.png").write_bytes(png())
    run = TestRun.objects.create(suite=suite, service=suite.service, status="running")

    run_import(
        suite=suite,
        files=[ReportFile("junit.xml", report("shots/a.png", str(out / "shots" / "a.png")))],
        folder=Folder(root=out.resolve(), where="suite's output folder"),
        run=run,
        analyze=False,
    )

    relative, absolute = _attachments(run)
    assert relative.content_type == "image/png" and relative.note == ""
    # An absolute path is read when it lies inside the folder.
    assert absolute.size == relative.size and absolute.note == ""


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("/etc/passwd", "attachment '/etc/passwd' is outside the upload; not read."),
        ("../../x", "attachment '../../x' is outside the upload; not read."),
        ("missing.png", "attachment 'missing.png' is not in the upload; not read."),
        ("file:///etc/passwd", "attachment 'file:///etc/passwd' is outside the upload; not read."),
    ],
)
def test_paths_outside_the_upload_read_nothing_and_say_so(suite, path, why):
    run = _import(suite, ("results.zip", zip_of({"junit.xml": report(path), "x": b"inside"})))

    (attachment,) = _attachments(run)
    assert (attachment.note, attachment.size, bool(attachment.file)) == (why, 0, False)


def test_a_plain_report_naming_a_server_file_reads_nothing(suite):
    run = _import(suite, ("junit.xml", report("/etc/passwd")))

    (attachment,) = _attachments(run)
    assert attachment.note == "attachment '/etc/passwd' was not uploaded with the report; not read."
    assert not attachment.file


def test_a_symlink_out_of_the_runner_folder_and_a_fifo_read_nothing(suite, tmp_path):
    out = tmp_path / "scratch"
    out.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read")
    (out / "link.txt").symlink_to(secret)
    (out / "dev").symlink_to("/dev/zero")
    os.mkfifo(out / "pipe")
    folder = Folder(root=out.resolve(), where="suite's output folder")

    run = _import(suite, ("junit.xml", report("link.txt", "dev", "pipe")), folder=folder)

    assert [a.note for a in _attachments(run)] == [
        "attachment 'link.txt' is outside the suite's output folder; not read.",
        "attachment 'dev' is outside the suite's output folder; not read.",
        "attachment 'pipe' is not a regular file; not read.",
    ]
    assert TestAttachment.objects.exclude(file="").count() == 0


def test_zip_slip_entries_and_archived_symlinks_are_not_unpacked(suite, tmp_path, settings):
    archive = targz_of(
        {"junit.xml": report("../../evil.txt", "link"), "../../evil.txt": b"escaped"},
        links={"link": "/etc/passwd"},
    )

    run = _import(suite, ("results.tgz", archive))

    assert not (tmp_path / "evil.txt").exists()
    assert any("'../../evil.txt' points outside the archive; skipped" in w for w in run.warnings)
    assert any("'link' is a link or device" in w for w in run.warnings)
    notes = [a.note for a in _attachments(run)]
    assert notes == [
        "attachment '../../evil.txt' is outside the upload; not read.",
        "attachment 'link' is not in the upload; not read.",
    ]
    assert _media_files(settings) == []


def test_an_attachment_over_the_per_file_limit_is_a_note(suite, settings):
    settings.ATTACHMENT_MAX_BYTES = 100
    run = _import(suite, ("r.zip", zip_of({"junit.xml": report("big.bin"), "big.bin": b"x" * 101})))

    (attachment,) = _attachments(run)
    assert attachment.note == (
        "attachment 'big.bin' is 101 bytes, over the 100 bytes limit per attachment "
        "(STAGELOOP_ATTACHMENT_MAX_BYTES); not stored."
    )
    assert _media_files(settings) == []


def test_attachments_over_the_runs_budget_are_notes(suite, settings):
    settings.ATTACHMENTS_RUN_MAX_BYTES = 150
    files = {"junit.xml": report("a.bin", "b.bin"), "a.bin": b"a" * 100, "b.bin": b"b" * 100}

    run = _import(suite, ("r.zip", zip_of(files)))

    first, second = _attachments(run)
    assert first.size == 100 and first.note == ""
    assert second.note.startswith("attachment 'b.bin' would take the run's attachments over")


@pytest.mark.parametrize(
    ("limit", "value", "message"),
    [
        ("ARCHIVE_MAX_BYTES", 2000, "unpacks to more than"),
        ("ARCHIVE_MAX_FILES", 3, "unpacks to more than 3 files"),
    ],
)
def test_an_archive_over_its_limits_imports_nothing(suite, settings, limit, value, message):
    setattr(settings, limit, value)
    # A zip bomb in miniature: a megabyte of zeros that compresses to a kilobyte.
    files = {"junit.xml": report("zeros.bin"), "zeros.bin": bytes(1 << 20)}
    files.update({f"f{i}.txt": b"x" for i in range(3)})
    before = table_sizes()

    with pytest.raises(IngestError, match=message):
        _import(suite, ("bomb.zip", zip_of(files)))

    assert table_sizes() == before
    assert TestAttachment.objects.count() == 0
    assert list(Path(settings.MEDIA_ROOT).rglob("*.*")) == []


def test_a_refused_upload_leaves_no_attachment_file_behind(suite, settings):
    archive = zip_of({"junit.xml": report("a.png"), "a.png": png(), "bad.xml": b"<testsuite>"})

    with pytest.raises(IngestError):
        _import(suite, ("r.zip", archive))

    assert _media_files(settings) == []
    assert TestAttachment.objects.count() == 0


def test_deleting_the_run_deletes_its_attachment_files(suite, settings):
    run = _import(suite, ("r.zip", zip_of({"junit.xml": report("a.png"), "a.png": png()})))
    assert len(_media_files(settings)) == 1

    run.delete()

    assert TestAttachment.objects.count() == 0
    assert _media_files(settings) == []


def test_retention_deletes_old_runs_attachments_and_their_files(suite, settings):
    old = _import(suite, ("r.zip", zip_of({"junit.xml": report("a.png"), "a.png": png()})))
    new = _import(suite, ("s.zip", zip_of({"junit.xml": report("b.png"), "b.png": png(8, 8)})))
    TestRun.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=91))
    settings.ATTACHMENT_RETENTION_DAYS = 90

    assert attachments_prune(now=timezone.now()) == 1

    assert [a.run_id for a in TestAttachment.objects.all()] == [new.pk]
    assert [p.name.startswith("b") for p in _media_files(settings)] == [True]
    assert TestRun.objects.filter(pk=old.pk).exists()
