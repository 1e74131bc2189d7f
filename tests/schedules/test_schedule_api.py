"""A suite's schedule over the JSON API: read by every role, set or paused by Operators (token or
session with CSRF), validated as the suite page's form is (a sentence, nothing changed), and in
the OpenAPI schema."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from runs.models import Suite
from runs.services.schedules import schedules_tick, suite_schedule_set
from runs.services.tokens import token_create
from tests.schedules.conftest import Monitor

pytestmark = pytest.mark.django_db

URL = "/api/v1/services/checkout/suites/e2e/schedule"


def bearer(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token_create(user=user, name='ci')[1]}"}


def put(user, body: object) -> tuple[int, dict]:
    response = Client().put(URL, body, content_type="application/json", **bearer(user))
    return response.status_code, response.json()


def schedule_of(monitor: Monitor) -> tuple:
    suite = Suite.objects.get(pk=monitor.suite.pk)
    return suite.schedule_minutes, suite.schedule_enabled, suite.schedule_next_at


def test_an_operator_schedules_a_suite_and_every_role_reads_it(monitor, operator, viewer, manager):
    before = timezone.now()

    status, body = put(operator, {"enabled": True, "every_minutes": 15})

    assert status == 200, body
    assert (body["service"], body["suite"], body["state"], body["every_minutes"]) == (
        "checkout",
        "e2e",
        "on",
        15,
    )
    minutes, enabled, next_at = schedule_of(monitor)
    assert (minutes, enabled) == (15, True) and next_at >= before
    for reader in (viewer, manager):
        read = Client().get(URL, **bearer(reader))
        assert read.status_code == 200
        assert read.json() == body


def test_pausing_keeps_the_interval_and_has_no_next_run(monitor, operator):
    put(operator, {"enabled": True, "every_minutes": 30})

    status, body = put(operator, {"enabled": False})

    assert status == 200
    assert (body["state"], body["every_minutes"], body["next_run_at"]) == ("paused", 30, None)
    assert schedule_of(monitor)[:2] == (30, False)
    # and enabling again without an interval takes the kept one
    status, body = put(operator, {"enabled": True})
    assert (status, body["state"], body["every_minutes"]) == (200, "on", 30)


def test_a_suite_never_scheduled_reads_as_off(monitor, viewer):
    body = Client().get(URL, **bearer(viewer)).json()

    assert (body["state"], body["every_minutes"], body["next_run_at"], body["skips"]) == (
        "off",
        None,
        None,
        [],
    )


@pytest.mark.parametrize(
    ("payload", "field", "says"),
    [
        ({"enabled": True, "every_minutes": 0}, "every_minutes", "between 1 and 10,080 minutes"),
        ({"enabled": True, "every_minutes": 10081}, "every_minutes", "got 10,081"),
        ({"enabled": True, "every_minutes": -5}, "every_minutes", "got -5"),
        ({"enabled": True, "every_minutes": 10**40}, "every_minutes", "a far larger number"),
        ({"enabled": True}, "every_minutes", "Give an interval in minutes"),
        ({"enabled": True, "every_minutes": 1.5}, "every_minutes", "valid integer"),
        ({"enabled": True, "every_minutes": "15"}, "every_minutes", "valid integer"),
        ({"enabled": True, "every_minutes": True}, "every_minutes", "valid integer"),
        ({"enabled": "yes", "every_minutes": 5}, "enabled", "valid boolean"),
        ({"every_minutes": 5}, "enabled", "Field required"),
    ],
)
def test_bad_input_is_a_400_sentence_naming_the_field_and_changes_nothing(
    monitor, operator, payload, field, says
):
    status, body = put(operator, payload)

    assert status == 400
    assert (body["code"], body["field"]) == ("invalid", field)
    assert says in body["error"] and body["error"].endswith(".")
    assert schedule_of(monitor) == (None, False, None)


def test_the_same_bad_interval_says_the_same_on_the_page_and_the_api(monitor, operator, login):
    _, body = put(operator, {"enabled": True, "every_minutes": 0})
    page = login(operator).post(
        f"/suites/{monitor.suite.pk}/schedule", {"every_minutes": "0", "enabled": "on"}, follow=True
    )

    assert body["error"] in page.content.decode()


def test_a_suite_without_a_command_is_refused_with_nothing_written(monitor, operator):
    Suite.objects.filter(pk=monitor.suite.pk).update(command=[])

    status, body = put(operator, {"enabled": True, "every_minutes": 5})

    assert (status, body["code"], body["field"]) == (400, "invalid", "")
    assert "has no command, so Stageloop cannot run it" in body["error"]
    assert schedule_of(monitor) == (None, False, None)


def test_an_unknown_service_or_suite_is_a_404(monitor, operator):
    for url in (
        "/api/v1/services/nope/suites/e2e/schedule",
        "/api/v1/services/checkout/suites/nope/schedule",
    ):
        read = Client().get(url, **bearer(operator))
        written = Client().put(
            url, {"enabled": False}, content_type="application/json", **bearer(operator)
        )
        assert (read.status_code, written.status_code) == (404, 404)
        assert "There is no suite named" in read.json()["error"]


@pytest.mark.parametrize("role", ["viewer", "manager"])
def test_viewers_and_managers_may_not_schedule_through_the_api(monitor, request, role):
    status, body = put(request.getfixturevalue(role), {"enabled": True, "every_minutes": 5})

    assert status == 403
    assert "may not set or pause suite schedules" in body["error"]
    assert "that needs the Operator role" in body["error"]
    assert schedule_of(monitor) == (None, False, None)


@pytest.mark.parametrize("role", ["viewer", "manager"])
def test_viewers_and_managers_may_not_schedule_on_the_page(monitor, login, request, role):
    client = login(request.getfixturevalue(role))

    page = client.get(monitor.suite.get_absolute_url()).content.decode()
    refused = client.post(
        f"/suites/{monitor.suite.pk}/schedule", {"every_minutes": "5", "enabled": "on"}
    )

    assert 'id="suite-schedule"' in page and 'id="schedule-form"' not in page
    assert refused.status_code == 403
    assert schedule_of(monitor) == (None, False, None)


def test_a_browser_session_sets_the_schedule_with_its_csrf_token(monitor, operator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    client.get(monitor.suite.get_absolute_url())  # sets the csrftoken cookie
    body = {"enabled": True, "every_minutes": 10}

    refused = client.put(URL, body, content_type="application/json")
    done = client.put(
        URL,
        body,
        content_type="application/json",
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )

    assert (refused.status_code, refused.json()["code"]) == (403, "csrf_failed")
    assert (done.status_code, done.json()["state"]) == (200, "on")
    assert schedule_of(monitor)[:2] == (10, True)


def test_the_schedule_lists_the_latest_skips_with_the_run_still_going(monitor, viewer):
    suite_schedule_set(suite_id=monitor.suite.pk, every_minutes="5", enabled=True)
    [going] = schedules_tick().started
    Suite.objects.filter(pk=monitor.suite.pk).update(schedule_next_at=timezone.now())
    schedules_tick()

    body = Client().get(URL, **bearer(viewer)).json()

    [skip] = body["skips"]
    assert (skip["reason"], skip["missed"], skip["active_run"]) == ("overlap", 1, going)
    assert f"Skipped 1 occurrence: run #{going} (scheduled," in skip["detail"]
    assert body["next_run_at"] is not None


def test_the_openapi_schema_documents_reading_and_setting_a_schedule(client):
    schema = client.get("/api/v1/openapi.json").json()

    operations = schema["paths"]["/api/v1/services/{service}/suites/{suite}/schedule"]
    assert set(operations) == {"get", "put"}
    assert "Operator role" in operations["put"]["description"]
    for status in ("400", "403", "404"):
        ref = operations["put"]["responses"][status]["content"]["application/json"]["schema"]
        assert ref == {"$ref": "#/components/schemas/ErrorOut"}
    fields = schema["components"]["schemas"]["ScheduleIn"]["properties"]
    assert set(fields) == {"enabled", "every_minutes"}
    assert "10,080" in fields["every_minutes"]["description"]
