"""A suite Stageloop runs attaches files from its own output folder, and from nowhere else."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from django.utils import timezone

from runs.models import Revision, Service, Suite, TestAttachment, TestRun
from runs.services.suite_step import run_execute
from tests.attachment_files import png

pytestmark = pytest.mark.django_db

SUITE = textwrap.dedent(
    """
    import os, pathlib, shutil, sys
    out = pathlib.Path(os.environ["STAGELOOP_OUTPUT_DIR"])
    (out / "shots").mkdir()
    shutil.copy(sys.argv[1], out / "shots" / "home.png")
    (out / "passwd").symlink_to("/etc/passwd")
    pathlib.Path(os.environ["STAGELOOP_JUNIT_PATH"]).write_text(
        '<testsuite name="ui"><testcase classname="ui" name="home">'
        '<failure message="blank page">blank page</failure>'
        "<system-out>[[ATTACHMENT|shots/home.png]]\\n[[ATTACHMENT|/etc/passwd]]\\n"
        "[[ATTACHMENT|passwd]]\\n[[ATTACHMENT|../../../etc/hostname]]</system-out>"
        "</testcase></testsuite>"
    )
    """
)


def test_the_runner_reads_attachments_from_the_suites_output_folder_only(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    script = tmp_path / "suite.py"
    script.write_text(SUITE)
    image = tmp_path / "home.png"
    image.write_bytes(png())
    service = Service.objects.create(name="web")
    suite = Suite.objects.create(
        service=service, name="ui", command=[sys.executable, str(script), str(image)]
    )
    revision = Revision.objects.create(service=service, name="web-1", url="http://127.0.0.1:9/")
    run = TestRun.objects.create(
        suite=suite, service=service, status="running", started_at=timezone.now()
    )

    run = run_execute(run, revision)

    assert run.status == "failed", run.error
    image, passwd, link, up = TestAttachment.objects.filter(run=run).order_by("pk")
    assert (image.name, image.content_type, image.note) == ("shots/home.png", "image/png", "")
    assert Path(image.file.path).read_bytes().startswith(b"\x89PNG")
    folder = "the suite's output folder"
    assert passwd.note == f"attachment '/etc/passwd' is outside {folder}; not read."
    assert link.note == f"attachment 'passwd' is outside {folder}; not read."
    assert up.note == f"attachment '../../../etc/hostname' is outside {folder}; not read."
    assert not Path(run.scratch_dir).exists()  # the folder is still removed afterwards
