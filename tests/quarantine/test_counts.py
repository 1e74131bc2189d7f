"""A quarantined failure is never counted as passed, and does not block: the run's counts."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from runs.models import Suite, TestResult
from runs.selectors.states import suite_case_by_name
from runs.services import states as services
from runs.services.ingest import ReportFile, run_import
from runs.services.tokens import token_create
from tests.factories import SuiteFactory

from .conftest import make_run

pytestmark = pytest.mark.django_db


def report(n: int) -> ReportFile:
    xml = f"""<?xml version="1.0"?>
<testsuite name="e2e" tests="4" time="{n}">
  <testcase classname="tests.test_shop" name="test_cart" time="0.1"/>
  <testcase classname="tests.test_shop" name="test_pay" time="0.1"/>
  <testcase classname="tests.test_shop" name="test_flaky" time="0.1">
    <failure message="x">boom</failure></testcase>
  <testcase classname="tests.test_shop" name="test_broken" time="0.1">
    <error message="y">bang</error></testcase>
</testsuite>"""
    return ReportFile(name=f"report-{n}.xml", data=xml.encode())


@pytest.fixture
def e2e() -> Suite:
    return SuiteFactory(name="e2e")


def quarantine(suite: Suite, name: str) -> None:
    case = suite_case_by_name(suite=suite, classname="tests.test_shop", name=name)
    assert case is not None
    services.test_state_set(case=case, state="quarantined", reason="flaky")


def test_an_import_marks_the_failures_of_quarantined_tests(e2e):
    run_import(suite=e2e, files=[report(1)])
    quarantine(e2e, "test_flaky")

    run = run_import(suite=e2e, files=[report(2)]).run

    assert (run.passed, run.failed, run.errors) == (2, 1, 1)
    assert run.quarantined_failures == 1
    assert run.blocking_failures == 1
    marked = TestResult.objects.filter(run=run, quarantined=True)
    assert [r.case.name for r in marked] == ["test_flaky"]


def test_a_quarantine_set_after_the_import_does_not_change_the_run(e2e):
    run = run_import(suite=e2e, files=[report(1)]).run
    quarantine(e2e, "test_flaky")

    run.refresh_from_db()
    assert run.quarantined_failures == 0


def test_a_disabled_test_s_failure_still_counts(e2e):
    run_import(suite=e2e, files=[report(1)])
    case = suite_case_by_name(suite=e2e, classname="tests.test_shop", name="test_broken")
    services.test_state_set(case=case, state="disabled", reason="skip it")

    run = run_import(suite=e2e, files=[report(2)]).run

    assert run.quarantined_failures == 0 and run.blocking_failures == 2


def test_the_api_run_says_quarantined_and_blocking_failures(client, viewer, e2e):
    run_import(suite=e2e, files=[report(1)])
    quarantine(e2e, "test_flaky")
    quarantine(e2e, "test_broken")
    run = run_import(suite=e2e, files=[report(2)]).run
    token = token_create(user=viewer, name="ci")[1]

    body = client.get(f"/api/v1/runs/{run.pk}", HTTP_AUTHORIZATION=f"Bearer {token}").json()

    assert body["passed"] == 2
    assert (body["failed"], body["errors"]) == (1, 1)
    assert body["quarantined_failures"] == 2
    assert body["blocking_failures"] == 0


def test_the_upload_answer_says_so_at_once(client, operator, e2e):
    run_import(suite=e2e, files=[report(1)])
    quarantine(e2e, "test_flaky")
    quarantine(e2e, "test_broken")
    token = token_create(user=operator, name="ci")[1]
    upload = report(2)

    response = client.post(
        "/api/v1/runs",
        {
            "service": e2e.service.name,
            "suite": "e2e",
            "files": SimpleUploadedFile(upload.name, upload.data),
        },
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["quarantined_failures"], body["blocking_failures"]) == (2, 0)


def test_results_not_imported_in_one_piece_are_marked_when_judged(suite, cases):
    services.test_state_set(case=cases[0], state="quarantined", reason="flaky")
    run = make_run(suite, {cases[0]: "failed", cases[1]: "passed"})  # as a live stream leaves it

    services.test_states_judge(run=run)

    run.refresh_from_db()
    assert (run.quarantined_failures, run.blocking_failures) == (1, 0)
