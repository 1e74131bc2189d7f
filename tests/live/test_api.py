"""The live-run API's contract: open, stream, finish; and what each refuses."""

from __future__ import annotations

import pytest

from runs.models import Revision, TestResult, TestRun
from tests.api.test_errors import SHAPE
from tests.conftest import _user
from tests.live.conftest import LiveApi, result

pytestmark = pytest.mark.django_db


def test_opening_a_live_run_answers_a_running_api_run_with_the_expected_total(live, operator):
    response = live.start(expected=40)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "running"
    assert body["total"] == 0
    assert body["url"].endswith(f"/runs/{body['id']}/")
    run = TestRun.objects.get(pk=body["id"])
    assert run.trigger == TestRun.Trigger.API
    assert run.started_at is not None
    assert run.progress_total == 40
    assert run.created_by == operator
    assert run.lease_expires_at is not None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"service": "nope"}, "service"),
        ({"suite": "unknown"}, "suite"),
        ({"revision": "v9"}, "revision"),
    ],
)
def test_an_unknown_service_suite_or_revision_is_a_400_naming_it(live, fields, field):
    response = live.start(**fields)

    assert response.status_code == 400
    body = response.json()
    assert set(body) >= SHAPE
    assert body["field"] == field
    assert TestRun.objects.count() == 0


def test_create_makes_the_unknown_suite_and_revision(live):
    response = live.start(suite="smoke", revision="v2", commit="abc123", create=True)

    assert response.status_code == 201
    run = TestRun.objects.get(pk=response.json()["id"])
    assert run.suite.name == "smoke"
    assert run.revision == Revision.objects.get(name="v2", commit_sha="abc123")


def test_streamed_results_count_at_once_and_answer_202(live):
    run_id = live.started(expected=3)

    response = live.results(run_id, [result("test_pay"), result("test_cart", "failed")])

    assert response.status_code == 202, response.content
    assert response.json() == {"received": 2, "progress_done": 2}
    run = TestRun.objects.get(pk=run_id)
    assert (run.status, run.passed, run.failed, run.progress_done, run.progress_total) == (
        "running",
        1,
        1,
        2,
        3,
    )
    assert TestResult.objects.filter(run=run).count() == 2


def test_a_retry_keeps_one_row_flaky_with_its_last_outcome_and_a_repeated_call_changes_nothing(
    live,
):
    run_id = live.started()
    live.results(run_id, [result("test_pay", "failed", message="boom")])

    live.results(run_id, [result("test_pay", "passed", attempt=2)])
    again = live.results(run_id, [result("test_pay", "passed", attempt=2)])

    assert again.json() == {"received": 1, "progress_done": 1}
    row = TestResult.objects.get(run_id=run_id)
    assert (row.outcome, row.attempts, row.flaky, row.duration) == ("passed", 2, True, 0.5)
    run = TestRun.objects.get(pk=run_id)
    assert (run.passed, run.failed, run.flaky) == (1, 0, 1)


def test_an_empty_batch_renews_the_lease(live):
    run_id = live.started()
    TestRun.objects.filter(pk=run_id).update(lease_expires_at=None)

    response = live.results(run_id, [])

    assert response.status_code == 202
    assert TestRun.objects.get(pk=run_id).lease_expires_at is not None


def test_more_than_5000_results_are_refused_and_none_is_stored(live):
    run_id = live.started()

    response = live.results(run_id, [result(f"test_{i}") for i in range(5001)])

    assert response.status_code == 400
    assert response.json()["field"] == "results"
    assert TestResult.objects.count() == 0


@pytest.mark.parametrize(
    "bad",
    [
        {"outcome": "xfailed"},
        {"name": ""},
        {"duration": -1},
        {"attempt": 0},
    ],
)
def test_one_bad_item_refuses_the_whole_call(live, bad):
    run_id = live.started()

    response = live.results(run_id, [result("test_ok"), {**result("test_bad"), **bad}])

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["field"].startswith("results.1.")
    assert TestResult.objects.count() == 0


def test_results_for_an_unknown_run_are_a_404(live):
    response = live.results(999_999, [result("test_pay")])

    assert response.status_code == 404
    assert set(response.json()) >= SHAPE


def test_results_for_a_finished_run_are_a_409(live):
    run_id = live.started()
    live.results(run_id, [result("test_pay")])
    assert live.finish(run_id).status_code == 200

    response = live.results(run_id, [result("test_cart")])

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert "passed, not running" in response.json()["error"]
    assert TestResult.objects.count() == 1


def test_results_for_a_run_that_is_not_live_are_a_409(live, suite):
    own = TestRun.objects.create(suite=suite, service=suite.service, status=TestRun.Status.RUNNING)

    response = live.results(own.pk, [result("test_pay")])

    assert response.status_code == 409
    assert "not a live run" in response.json()["error"]


def test_finishing_a_finished_run_again_is_a_409(live):
    run_id = live.started()
    live.results(run_id, [result("test_pay")])
    live.finish(run_id)

    response = live.finish(run_id)

    assert response.status_code == 409
    assert TestRun.objects.get(pk=run_id).status == "passed"


def test_a_viewer_token_may_not_open_stream_or_finish(live, live_as, viewer):
    run_id = live.started()
    as_viewer = live_as(viewer)

    responses = [
        as_viewer.start(),
        as_viewer.results(run_id, [result("test_pay")]),
        as_viewer.finish(run_id),
    ]

    assert [r.status_code for r in responses] == [403, 403, 403]
    assert all(r.json()["code"] == "forbidden" for r in responses)
    assert TestRun.objects.get(pk=run_id).status == "running"
    assert TestResult.objects.count() == 0


def test_the_runs_creator_may_stream_after_losing_the_operator_role(live, operator):
    run_id = live.started()
    operator.groups.clear()

    response = live.results(run_id, [result("test_pay")])

    assert response.status_code == 202


def test_another_operator_may_stream_into_the_run(live, live_as):
    run_id = live.started()
    other = live_as(_user("olga-operator", "Operator"))

    assert other.results(run_id, [result("test_pay")]).status_code == 202


def test_without_a_token_the_calls_are_a_401(client, live):
    run_id = live.started()
    anonymous = LiveApi(client, "slp_wrong")

    assert anonymous.results(run_id, [result("test_pay")]).status_code == 401
    assert anonymous.finish(run_id).status_code == 401
    assert TestRun.objects.get(pk=run_id).status == "running"


def test_more_results_than_expected_stretch_the_progress_total(live):
    run_id = live.started(expected=1)

    live.results(run_id, [result("test_pay"), result("test_cart")])

    run = TestRun.objects.get(pk=run_id)
    assert (run.progress_done, run.progress_total) == (2, 2)


def test_a_run_cancelled_on_its_page_takes_no_more_results(live, login, operator):
    run_id = live.started()

    login(operator).post(f"/runs/{run_id}/cancel")

    assert TestRun.objects.get(pk=run_id).status == "cancelled"
    assert live.results(run_id, [result("test_pay")]).status_code == 409
    assert live.finish(run_id).status_code == 409


def test_a_retry_in_the_same_call_folds_into_one_row_and_a_repeated_attempt_is_ignored(live):
    run_id = live.started()

    live.results(
        run_id,
        [
            result("test_pay", "failed"),
            result("test_pay", "failed"),
            result("test_pay", "passed", attempt=2),
        ],
    )

    row = TestResult.objects.get(run_id=run_id)
    assert (row.outcome, row.attempts, row.flaky, row.duration) == ("passed", 2, True, 0.5)


def test_a_results_call_may_say_how_many_tests_the_suite_will_run(live):
    run_id = live.started()  # opened before the client has collected its tests

    response = live.results(run_id, [result("test_pay")], expected=40)

    assert response.status_code == 202, response.content
    run = TestRun.objects.get(pk=run_id)
    assert (run.progress_done, run.progress_total) == (1, 40)
    live.results(run_id, [result("test_cart")])  # later calls need not repeat it
    assert TestRun.objects.get(pk=run_id).progress_total == 40
