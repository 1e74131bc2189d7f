"""The suite page's retention form and the run page's pin button, their API twins, and who may
use them: Managers set policies; Operators and Managers pin; Viewers read. Bad input is a
sentence and writes nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from runs.models import RetentionPolicy, TestRun
from runs.services.tokens import token_create
from tests.retention.conftest import make_run

pytestmark = pytest.mark.django_db


def bearer(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token_create(user=user, name='ci')[1]}"}


def test_a_manager_sets_the_policy_on_the_suite_page_and_reads_it_there(suite, login, manager):
    client = login(manager)

    response = client.post(
        f"/suites/{suite.pk}/retention", {"keep_days": "30", "keep_runs": "100"}, follow=True
    )

    policy = RetentionPolicy.objects.get(suite=suite)
    assert (policy.keep_days, policy.keep_runs, policy.updated_by) == (30, 100, manager)
    text = response.content.decode()
    assert "Keeps runs of the last 30 days and the newest 100 runs" in text
    assert 'id="retention-form"' in text


def test_empty_fields_keep_every_run(suite, login, manager):
    RetentionPolicy.objects.create(suite=suite, keep_days=5)

    login(manager).post(f"/suites/{suite.pk}/retention", {"keep_days": "", "keep_runs": ""})

    policy = RetentionPolicy.objects.get(suite=suite)
    assert (policy.keep_days, policy.keep_runs, policy.keeps_forever) == (None, None, True)


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("keep_days", "abc", "Days to keep must be a whole number"),
        ("keep_days", "0", "between 1 and 36,500"),
        ("keep_runs", "-3", "Runs to keep must be a whole number"),
        ("keep_runs", "99999999", "between 1 and 1,000,000"),
        ("keep_days", "1.5", "whole number"),
    ],
)
def test_bad_input_is_a_sentence_and_writes_nothing(suite, login, manager, field, value, says):
    RetentionPolicy.objects.create(suite=suite, keep_days=90)

    response = login(manager).post(f"/suites/{suite.pk}/retention", {field: value}, follow=True)

    text = response.content.decode()
    assert "The retention policy was not changed" in text and says in text
    assert RetentionPolicy.objects.get(suite=suite).keep_days == 90


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_only_managers_set_the_policy(suite, login, request, role):
    client = login(request.getfixturevalue(role))

    assert client.post(f"/suites/{suite.pk}/retention", {"keep_days": "1"}).status_code == 403
    assert not RetentionPolicy.objects.exists()
    assert 'id="retention-form"' not in client.get(f"/suites/{suite.pk}/").content.decode()


def test_the_suite_page_says_a_suite_without_a_policy_keeps_everything(suite, login, viewer):
    text = login(viewer).get(f"/suites/{suite.pk}/").content.decode()

    assert "Keeps every run (the installation&#x27;s default)." in text


@pytest.mark.parametrize("role", ["operator", "manager"])
def test_operators_and_managers_pin_and_unpin_a_run(suite, login, request, role):
    user = request.getfixturevalue(role)
    run = make_run(suite, days_ago=3)
    client = login(user)

    text = client.post(f"/runs/{run.pk}/pin", {"pinned": "1"}, follow=True).content.decode()

    run.refresh_from_db()
    assert (run.pinned, run.pinned_by, run.pinned_at is not None) == (True, user, True)
    assert f"Run #{run.pk} is pinned" in text and 'id="run-pinned"' in text and "Unpin" in text
    client.post(f"/runs/{run.pk}/pin", {"pinned": "0"})
    run.refresh_from_db()
    assert (run.pinned, run.pinned_by, run.pinned_at) == (False, None, None)


def test_a_viewer_may_not_pin_and_sees_no_button(suite, login, viewer):
    run = make_run(suite, days_ago=3)
    client = login(viewer)

    assert client.post(f"/runs/{run.pk}/pin").status_code == 403
    assert not TestRun.objects.get(pk=run.pk).pinned
    assert 'id="pin-run"' not in client.get(f"/runs/{run.pk}/").content.decode()


def test_the_api_reads_and_sets_a_policy_for_managers_only(suite, manager, operator):
    url = "/api/v1/services/shop/suites/e2e/retention"

    read = Client().get(url, **bearer(operator))
    assert read.status_code == 200 and read.json()["own"] is False
    refused = Client().put(
        url, {"keep_days": 14}, content_type="application/json", **bearer(operator)
    )
    assert refused.status_code == 403 and "Manager" in refused.json()["error"]
    done = Client().put(
        url,
        {"keep_days": 14, "keep_runs": None},
        content_type="application/json",
        **bearer(manager),
    )
    assert done.status_code == 200
    assert (done.json()["keep_days"], done.json()["own"]) == (14, True)
    assert RetentionPolicy.objects.get(suite=suite).keep_days == 14


def test_the_api_refuses_a_bad_policy_naming_the_field(suite, manager):
    response = Client().put(
        "/api/v1/services/shop/suites/e2e/retention",
        {"keep_runs": 0},
        content_type="application/json",
        **bearer(manager),
    )

    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == ("invalid", "keep_runs")
    assert not RetentionPolicy.objects.exists()


def test_the_api_answers_404_for_an_unknown_suite_or_run(suite, manager):
    missing = Client().get("/api/v1/services/shop/suites/nope/retention", **bearer(manager))
    assert missing.status_code == 404
    assert Client().put("/api/v1/runs/999999/pin", **bearer(manager)).status_code == 404


def test_the_api_pins_and_unpins_for_operators_not_viewers(suite, operator, viewer):
    run = make_run(suite, days_ago=3)

    refused = Client().put(f"/api/v1/runs/{run.pk}/pin", **bearer(viewer))
    assert refused.status_code == 403
    pinned = Client().put(f"/api/v1/runs/{run.pk}/pin", **bearer(operator))
    assert pinned.status_code == 200
    assert (pinned.json()["pinned"], pinned.json()["pinned_by"]) == (True, "otto-operator")
    unpinned = Client().delete(f"/api/v1/runs/{run.pk}/pin", **bearer(operator))
    assert unpinned.json()["pinned"] is False
    assert not TestRun.objects.get(pk=run.pk).pinned
