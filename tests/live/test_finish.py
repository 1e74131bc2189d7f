"""Finishing a live run: the final report replaces what was streamed; without one, the
streamed results stand."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from runs.models import TestCase, TestResult, TestRun
from tests.live.conftest import checkout_report, result

pytestmark = pytest.mark.django_db


def _report(*tests: tuple[str, str], name: str = "junit.xml") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, checkout_report(*tests), content_type="application/xml")


def test_the_report_replaces_the_streamed_results_and_its_counts_end_the_run(live):
    run_id = live.started(expected=3)
    live.results(run_id, [result("test_pay", "failed"), result("test_gone")])

    response = live.finish(
        run_id,
        files=[_report(("test_pay", "passed"), ("test_cart", "passed"), ("test_tax", "skipped"))],
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["total"], body["passed"], body["failed"], body["skipped"]) == (
        "passed",
        3,
        2,
        0,
        1,
    )
    results = TestResult.objects.filter(run_id=run_id).select_related("case")
    assert sorted((r.case.name, r.outcome) for r in results) == [
        ("test_cart", "passed"),
        ("test_pay", "passed"),
        ("test_tax", "skipped"),
    ]
    # The streamed tests' cases, under keys the report does not use, are gone with them.
    assert sorted(TestCase.objects.values_list("name", flat=True)) == [
        "test_cart",
        "test_pay",
        "test_tax",
    ]
    run = TestRun.objects.get(pk=run_id)
    assert (run.progress_done, run.progress_total) == (3, 3)
    assert run.finished_at is not None
    assert [a.name for a in run.artifacts.all()] == ["junit.xml"]


def test_a_failing_report_ends_the_run_failed(live):
    run_id = live.started()
    live.results(run_id, [result("test_pay")])

    body = live.finish(run_id, files=[_report(("test_pay", "failed"), ("test_cart", "error"))])

    assert (body.json()["status"], body.json()["failed"], body.json()["errors"]) == (
        "failed",
        1,
        1,
    )


def test_a_later_runs_stream_lands_on_the_tests_the_report_made(live):
    first = live.started()
    live.finish(first, files=[_report(("test_pay", "passed"), ("test_cart", "passed"))])
    cases = dict(TestCase.objects.values_list("name", "id"))

    second = live.started()
    live.results(second, [result("test_pay", "failed"), result("test_cart")])

    assert TestCase.objects.count() == 2
    streamed = dict(TestResult.objects.filter(run_id=second).values_list("case__name", "case_id"))
    assert streamed == cases


def test_a_report_that_cannot_be_read_is_a_400_and_the_run_keeps_running_with_its_results(live):
    run_id = live.started()
    live.results(run_id, [result("test_pay")])

    response = live.finish(
        run_id, files=[SimpleUploadedFile("junit.xml", b"<testsuites><testsuite>")]
    )

    assert response.status_code == 400
    assert (response.json()["code"], response.json()["file"]) == ("invalid_file", "junit.xml")
    run = TestRun.objects.get(pk=run_id)
    assert (run.status, run.passed) == ("running", 1)
    assert TestResult.objects.filter(run=run).count() == 1


def test_without_a_report_the_streamed_results_stand_and_a_failure_fails_the_run(live):
    run_id = live.started()
    live.results(run_id, [result("test_pay"), result("test_cart", "failed", message="boom")])

    response = live.finish(run_id)

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["total"], body["passed"], body["failed"]) == ("failed", 2, 1, 1)
    run = TestRun.objects.get(pk=run_id)
    assert run.finished_at is not None
    assert (run.progress_done, run.progress_total) == (2, 2)
    assert TestResult.objects.filter(run=run).count() == 2


def test_without_a_report_all_passed_passes(live):
    run_id = live.started()
    live.results(run_id, [result("test_pay"), result("test_tax", "skipped")])

    assert live.finish(run_id).json()["status"] == "passed"


def test_finishing_with_nothing_streamed_and_no_report_is_an_error_that_says_so(live):
    run_id = live.started()

    assert live.finish(run_id).json()["status"] == "error"
    assert "nothing was tested" in TestRun.objects.get(pk=run_id).error


def test_an_error_sentence_ends_the_run_in_error_with_it(live):
    run_id = live.started()
    live.results(run_id, [result("test_pay")])

    response = live.finish(run_id, error="pytest crashed: INTERNALERROR")

    assert response.json()["status"] == "error"
    run = TestRun.objects.get(pk=run_id)
    assert run.error == "pytest crashed: INTERNALERROR"
    assert run.passed == 1
