"""Setting a suite's schedule: on the suite page (Operators and admins), bad input refused with a
sentence and nothing changed."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from runs.models import Suite
from runs.services.schedules import ScheduleError, schedules_tick, suite_schedule_set
from tests.schedules.conftest import Monitor

pytestmark = pytest.mark.django_db


def schedule_of(monitor: Monitor) -> tuple:
    suite = Suite.objects.get(pk=monitor.suite.pk)
    return suite.schedule_minutes, suite.schedule_enabled, suite.schedule_next_at


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "between 1 and 10,080 minutes (a week); got 0"),
        ("10081", "got 10,081"),
        ("abc", "a whole number of minutes, not 'abc'"),
        ("-5", "not '-5'"),
        ("1.5", "not '1.5'"),
        ("٣", "not '٣'"),
        ("", "Give an interval in minutes"),
    ],
)
def test_a_bad_interval_is_refused_and_nothing_changes(monitor, value, message):
    with pytest.raises(ScheduleError) as refused:
        suite_schedule_set(suite_id=monitor.suite.pk, every_minutes=value, enabled=True)

    assert message in str(refused.value)
    assert schedule_of(monitor) == (None, False, None)


def test_a_suite_without_a_command_cannot_be_scheduled(monitor):
    Suite.objects.filter(pk=monitor.suite.pk).update(command=[])

    with pytest.raises(ScheduleError, match="has no command, so Stageloop cannot run it"):
        suite_schedule_set(suite_id=monitor.suite.pk, every_minutes="5", enabled=True)
    assert schedule_of(monitor) == (None, False, None)


def test_an_operator_schedules_the_suite_from_its_page(monitor, operator, login):
    client = login(operator)

    response = client.post(
        reverse("suite-schedule", args=[monitor.suite.pk]),
        {"every_minutes": "15", "enabled": "on"},
        follow=True,
    )

    minutes, enabled, next_at = schedule_of(monitor)
    assert (minutes, enabled) == (15, True) and next_at is not None
    page = response.content.decode()
    assert "Scheduled every 15 minutes against the current revision" in page
    assert "every 15 minutes against the current revision; next due" in page


def test_a_bad_interval_on_the_page_says_why_and_changes_nothing(monitor, admin_user, login):
    client = login(admin_user)

    response = client.post(
        reverse("suite-schedule", args=[monitor.suite.pk]),
        {"every_minutes": "0", "enabled": "on"},
        follow=True,
    )

    assert "The schedule was not changed: The interval must be between 1 and 10,080" in (
        response.content.decode()
    )
    assert schedule_of(monitor) == (None, False, None)


def test_unticking_on_pauses_the_schedule_and_keeps_its_interval(monitor, operator, login):
    client = login(operator)
    url = reverse("suite-schedule", args=[monitor.suite.pk])
    client.post(url, {"every_minutes": "15", "enabled": "on"})

    response = client.post(url, {"every_minutes": "15"}, follow=True)

    assert schedule_of(monitor)[:2] == (15, False)
    page = response.content.decode()
    assert "The schedule is paused" in page and "paused (every 15 minutes when on)" in page


def test_a_viewer_sees_the_schedule_but_may_not_change_it(monitor, viewer, login):
    client = login(viewer)

    page = client.get(monitor.suite.get_absolute_url()).content.decode()
    refused = client.post(
        reverse("suite-schedule", args=[monitor.suite.pk]), {"every_minutes": "5", "enabled": "on"}
    )

    assert "not scheduled" in page and 'id="schedule-form"' not in page
    assert refused.status_code == 403
    assert schedule_of(monitor) == (None, False, None)


def test_the_suite_page_lists_skipped_occurrences_and_marks_scheduled_runs(monitor, viewer, login):
    suite_schedule_set(suite_id=monitor.suite.pk, every_minutes="5", enabled=True)
    [going] = schedules_tick().started
    Suite.objects.filter(pk=monitor.suite.pk).update(schedule_next_at=timezone.now())
    schedules_tick()

    client = login(viewer)
    page = client.get(monitor.suite.get_absolute_url()).content.decode()
    run_page = client.get(f"/runs/{going}/").content.decode()

    assert 'id="schedule-skips"' in page
    assert f"Skipped 1 occurrence: run #{going} (scheduled," in page
    assert f'<a href="/runs/{going}/">#{going}</a>' in page
    assert 'class="badge scheduled"' in page
    assert 'id="run-scheduled"' in run_page


def test_the_admin_lists_skips_and_refuses_a_schedule_without_an_interval(
    monitor, admin_user, login
):
    client = login(admin_user)
    suite_schedule_set(suite_id=monitor.suite.pk, every_minutes="5", enabled=True)
    schedules_tick()
    Suite.objects.filter(pk=monitor.suite.pk).update(schedule_next_at=timezone.now())
    schedules_tick()

    listing = client.get(reverse("admin:runs_scheduleskip_changelist"))
    refused = Suite(service=monitor.suite.service, name="other", schedule_enabled=True)

    assert listing.status_code == 200 and "A run of the suite was still going" in (
        listing.content.decode()
    )
    with pytest.raises(ValidationError, match="needs an interval in minutes"):
        refused.full_clean()
