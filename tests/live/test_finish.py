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


def test_the_run_keeps_the_start_it_was_opened_with_and_ends_when_finished(live):
    run_id = live.started()
    opened = TestRun.objects.get(pk=run_id).started_at

    live.finish(run_id, files=[_report(("test_pay", "passed"))])

    run = TestRun.objects.get(pk=run_id)
    assert run.started_at == opened  # not the report's 2026-11-30T09:00:00
    assert run.finished_at >= opened


def test_a_json_finish_without_a_report_ends_the_run_from_its_streamed_results(live):
    run_id = live.started()
    live.results(run_id, [result("test_pay")])

    response = live.client.post(
        f"/api/v1/runs/{run_id}/finish", {}, content_type="application/json", **live.auth
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "passed"


def test_a_test_new_to_the_suite_is_streamed_under_the_key_its_report_will_give(live):
    first = live.started()
    live.finish(first, files=[_report(("test_pay", "passed"))])

    second = live.started()
    live.results(second, [result("test_new", "failed")])
    new = TestResult.objects.get(run_id=second).case
    assert new.key == "pytest \u203a tests.test_checkout::test_new"

    # The run is never finished; the next report names the same test.
    third = live.started()
    live.finish(third, files=[_report(("test_pay", "passed"), ("test_new", "passed"))])
    assert TestCase.objects.count() == 2
    assert new.results.count() == 2


def test_finished_without_a_report_a_quarantined_failure_is_counted_as_such(live, suite):
    from runs.services.states import test_state_set

    run_id = live.started()
    live.results(run_id, [result("test_pay"), result("test_flaky", "failed")])
    test_state_set(
        case=TestCase.objects.get(suite=suite, name="test_flaky"),
        state="quarantined",
        reason="flips on the CI runners",
    )

    body = live.finish(run_id).json()

    assert (body["status"], body["failed"]) == ("failed", 1)
    assert (body["quarantined_failures"], body["blocking_failures"]) == (1, 0)
