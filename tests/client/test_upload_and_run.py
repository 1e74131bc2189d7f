"""`stageloop upload` and `stageloop run` against a real server: exit codes and what it stored."""

from __future__ import annotations

import pytest

from runs.models import Suite, TestResult, TestRun
from runs.services.tokens import token_revoke
from tests.client.conftest import BROKEN, suite_command
from tests.junit_reports import JUNIT

pytestmark = pytest.mark.django_db(transaction=True)


def test_upload_prints_the_run_and_the_same_files_again_are_the_same_run(stageloop):
    first = stageloop(
        "upload",
        str(JUNIT / "pytest-fail.xml"),
        "--service",
        "payments",
        "--suite",
        "api",
        "--create",
        "--revision",
        "payments-00001",
        "--commit",
        "9c0ffee",
    )
    assert first.returncode == 0, first.stderr
    run = TestRun.objects.get()
    assert f"/runs/{run.pk}/" in first.stdout
    assert f"run {run.pk}:" in first.stdout
    assert run.revision.name == "payments-00001"

    again = stageloop(
        "upload",
        str(JUNIT / "pytest-fail.xml"),
        "--service",
        "payments",
        "--suite",
        "api",
        "--revision",
        "payments-00001",
    )
    assert again.returncode == 0, again.stderr
    assert "already uploaded: the same run" in again.stdout
    assert TestRun.objects.count() == 1


def test_run_of_a_green_suite_exits_0_with_the_counts_and_the_url(stageloop, suite_dir):
    (suite_dir / "flaky-count").write_text("1")  # the flaky test already failed once
    done = stageloop(
        "run",
        "--service",
        "payments",
        "--suite",
        "unit",
        "--create",
        *suite_command(str(suite_dir)),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    run = TestRun.objects.get()
    assert (run.total, run.passed, run.failed) == (3, 3, 0)
    assert f"3 passed; run {run.pk}: http" in done.stdout


def test_run_fails_the_build_on_a_broken_test(stageloop, suite_dir):
    (suite_dir / "flaky-count").write_text("1")
    (suite_dir / "test_broken.py").write_text(BROKEN)
    done = stageloop(
        "run",
        "--service",
        "payments",
        "--suite",
        "unit",
        "--create",
        *suite_command(str(suite_dir)),
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "3 passed, 1 failed; run" in done.stdout
    assert TestRun.objects.get().failed == 1


def test_retries_record_every_attempt_and_a_flaky_pass_does_not_fail(stageloop, suite_dir):
    (suite_dir / "test_broken.py").write_text(BROKEN)
    done = stageloop(
        "run",
        "--service",
        "payments",
        "--suite",
        "unit",
        "--create",
        *suite_command(str(suite_dir), "--stageloop-retries", "2", "--stageloop-efd-runs", "1"),
    )
    assert done.returncode == 1, done.stdout + done.stderr  # test_broken fails all 3 attempts
    run = TestRun.objects.get()
    assert (run.passed, run.failed, run.flaky) == (3, 1, 1)
    results = {r.case.name: r for r in TestResult.objects.select_related("case")}
    assert (results["test_flaky_first_time"].attempts, results["test_flaky_first_time"].flaky) == (
        2,
        True,
    )
    assert results["test_broken"].attempts == 3
    assert results["test_broken"].outcome == "failed"
    assert "test_flaky_first_time is flaky: failed 1 of 2 (retried)" in done.stdout


def test_a_command_that_writes_no_report_keeps_its_exit_code_and_says_so(stageloop, tmp_path):
    report = tmp_path / "never.xml"
    done = stageloop(
        "run",
        "--service",
        "payments",
        "--suite",
        "unit",
        "--junit",
        str(report),
        "--",
        "sh",
        "-c",
        "exit 3",
    )
    assert done.returncode == 3
    assert "exited with 3 and wrote no report" in done.stderr
    assert TestRun.objects.count() == 0

    report.write_text("<testsuite/>")  # an old report is not this run's
    done = stageloop(
        "run",
        "--service",
        "payments",
        "--suite",
        "unit",
        "--junit",
        str(report),
        "--",
        "true",
    )
    assert done.returncode == 1
    assert "exited with 0 and wrote no report" in done.stderr


def test_an_unknown_suite_is_refused_with_the_servers_sentence_and_exit_4(stageloop, suite_dir):
    done = stageloop(
        "run",
        "--service",
        "payments",
        "--suite",
        "nope",
        *suite_command(str(suite_dir)),
    )
    assert done.returncode == 4, done.stdout + done.stderr
    assert "stageloop: " in done.stderr and "nope" in done.stderr
    assert "create" in done.stderr  # the server says how: create=true
    assert not Suite.objects.filter(name="nope").exists()
    assert TestRun.objects.count() == 0


def test_a_revoked_token_exits_5_with_what_to_do(stageloop, server, operator, suite_dir):
    token = operator.api_tokens.get()
    token_revoke(user=operator, token_id=token.pk)
    done = stageloop(
        "upload",
        str(JUNIT / "pytest-fail.xml"),
        "--service",
        "payments",
        "--suite",
        "api",
        "--create",
    )
    assert done.returncode == 5
    assert "STAGELOOP_TOKEN" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert TestRun.objects.count() == 0

    # stageloop run finds out before the suite runs, not after an hour of it.
    ran = stageloop("run", "--service", "payments", "--suite", "api", "--create",
                    *suite_command(str(suite_dir)))  # fmt: skip
    assert ran.returncode == 5
    assert "STAGELOOP_TOKEN" in ran.stderr
    assert not (suite_dir / "flaky-count").exists()  # the suite never ran


def test_usage_errors_exit_64_and_help_lists_the_exit_codes(stageloop):
    done = stageloop("run", "--service", "payments", "--suite", "unit", "--", "make", "test")
    assert done.returncode == 64
    assert "--junit PATH" in done.stderr
    helped = stageloop("--help")
    assert helped.returncode == 0
    for line in ("0   success", "4   the server refused", "5   no token", "6   the server could"):
        assert line in helped.stdout


def test_upload_with_attachments_packs_the_files_the_report_names_from_its_folder(
    stageloop, tmp_path
):
    from runs.models import TestAttachment
    from tests.attachment_files import png, report

    results = tmp_path / "results"
    (results / "shots").mkdir(parents=True)
    (results / "shots" / "a.png").write_bytes(png())
    (tmp_path / "secret.txt").write_text("stays on this machine")
    (results / "junit.xml").write_bytes(report("shots/a.png", "../secret.txt"))

    done = stageloop(
        "upload",
        str(results / "junit.xml"),
        "--attachments",
        "--service",
        "payments",
        "--suite",
        "e2e",
        "--create",
    )

    assert done.returncode == 0, done.stderr
    assert "../secret.txt is outside the report's folder; not sent." in done.stderr
    run = TestRun.objects.get()
    image, secret = TestAttachment.objects.filter(run=run).order_by("pk")
    assert (image.name, image.content_type) == ("shots/a.png", "image/png")
    assert secret.note == "attachment '../secret.txt' is outside the upload; not read."
    assert [a.name for a in run.artifacts.all()] == ["reports.tar.gz"]
