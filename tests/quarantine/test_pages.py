"""The test page shows the state, its history and (for an Operator) the form; the run page
marks quarantined failures."""

from __future__ import annotations

import pytest

from runs.models import TestState
from runs.services import states as services

from .conftest import make_run

pytestmark = pytest.mark.django_db


def test_the_test_page_shows_who_why_when_and_the_history(login, viewer, operator, cases):
    services.test_state_set(
        case=cases[0], state="quarantined", reason="races the cache", user=operator
    )

    page = login(viewer).get(f"/tests/{cases[0].pk}/").content.decode()

    assert "races the cache" in page and "by otto-operator" in page
    assert 'id="state-history"' in page
    assert 'id="test-state-form"' not in page  # a Viewer reads, never changes


def test_an_automatic_quarantine_shows_the_policy_and_its_evidence(login, viewer, cases):
    services.test_state_set(
        case=cases[0],
        state="quarantined",
        reason="Flaky: flake score 0.50",
        automatic=True,
        evidence={"flake_score": 0.5, "run_ids": [7, 6]},
    )

    page = login(viewer).get(f"/tests/{cases[0].pk}/").content.decode()

    assert "by the quarantine policy" in page
    assert "flake score 0.5 over runs" in page and 'href="/runs/7/"' in page


def test_an_operator_sees_the_form_and_changes_the_state(login, operator, cases):
    client = login(operator)
    assert 'id="test-state-form"' in client.get(f"/tests/{cases[0].pk}/").content.decode()

    response = client.post(
        f"/tests/{cases[0].pk}/state",
        {"state": "disabled", "reason": "hangs", "expires_at": "2999-01-01T10:00"},
    )

    assert response.status_code == 302
    row = TestState.objects.get(case=cases[0])
    assert (row.state, row.reason, row.by, row.expires_at.year) == (
        "disabled",
        "hangs",
        operator,
        2999,
    )


def test_a_quarantine_without_a_reason_is_refused_with_a_message(login, operator, cases):
    client = login(operator)
    response = client.post(
        f"/tests/{cases[0].pk}/state", {"state": "quarantined", "reason": ""}, follow=True
    )
    assert "a reason is required" in response.content.decode()
    assert not TestState.objects.exists()


def test_a_viewer_may_not_post_a_change(login, viewer, cases):
    response = login(viewer).post(
        f"/tests/{cases[0].pk}/state", {"state": "disabled", "reason": "x"}
    )
    assert response.status_code == 403


def test_the_run_page_marks_quarantined_failures(login, viewer, suite, cases):
    services.test_state_set(case=cases[0], state="quarantined", reason="flaky")
    run = make_run(suite, {cases[0]: "failed", cases[1]: "passed", cases[2]: "passed"})
    services.run_quarantine_mark(run_id=run.pk, suite_id=suite.pk)

    page = login(viewer).get(f"/runs/{run.pk}/").content.decode()

    assert "2 passed" in page
    assert "1 quarantined failure (not counted), 0 blocking failures" in page
    assert 'class="badge quarantined"' in page


def test_the_suite_page_lists_quarantined_and_disabled_tests(login, viewer, suite, cases):
    services.test_state_set(case=cases[1], state="disabled", reason="needs the sandbox")

    page = login(viewer).get(f"/suites/{suite.pk}/").content.decode()

    assert 'id="suite-states"' in page and "needs the sandbox" in page
    assert "Automatic quarantine is off" in page
