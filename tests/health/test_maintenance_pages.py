"""The maintenance windows page: anyone signed in reads it; admins (or holders of
health.manage_maintenance) create, edit and delete windows; bad input is a 400 with a sentence."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from health.models import MaintenanceWindow
from health.services.maintenance import maintenance_window_create
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def service():
    return ServiceFactory(name="shop")


def _new(service) -> str:
    return reverse("maintenance-create", args=[service.name])


WEEKLY = {
    "kind": "weekly",
    "weekdays": ["2", "4"],
    "local_start": "03:00",
    "duration_minutes": "45",
    "reason": "patching",
}


def test_an_admin_creates_a_weekly_window(service, login, admin_user):
    client = login(admin_user)

    response = client.post(_new(service), WEEKLY)

    assert response.status_code == 302
    window = MaintenanceWindow.objects.get()
    assert (window.weekdays, window.local_start, window.duration_minutes) == (
        [2, 4],
        time(3, 0),
        45,
    )
    listing = client.get(reverse("maintenance-list", args=[service.name])).content.decode()
    assert "Weekly on Tue, Thu at 03:00 for 45 min" in listing


def test_an_end_before_the_start_is_refused_with_a_sentence(service, login, admin_user):
    response = login(admin_user).post(
        _new(service),
        {"kind": "once", "starts_at": "2026-12-02T10:00", "ends_at": "2026-12-02T09:00"},
    )

    assert response.status_code == 400
    assert "The end must come after the start" in response.content.decode()
    assert not MaintenanceWindow.objects.exists()


def test_a_zero_duration_is_refused(service, login, admin_user):
    response = login(admin_user).post(_new(service), {**WEEKLY, "duration_minutes": "0"})
    assert response.status_code == 400
    assert "greater than or equal to 1" in response.content.decode()
    assert not MaintenanceWindow.objects.exists()


def test_a_viewer_reads_the_windows_but_may_not_change_them(service, login, viewer):
    client = login(viewer)

    assert client.get(reverse("maintenance-list", args=[service.name])).status_code == 200
    assert client.post(_new(service), WEEKLY).status_code == 403
    assert not MaintenanceWindow.objects.exists()


def test_the_named_permission_is_enough(service, login, operator):
    operator.user_permissions.add(Permission.objects.get(codename="manage_maintenance"))
    client = login(operator)
    assert client.post(_new(service), WEEKLY).status_code == 302
    window = MaintenanceWindow.objects.get()

    edit = reverse("maintenance-edit", args=[service.name, window.pk])
    assert client.get(edit).status_code == 200
    response = client.post(
        edit, {"kind": "once", "starts_at": "2026-12-02T10:00", "ends_at": "2026-12-02T11:00"}
    )
    assert response.status_code == 302
    window.refresh_from_db()
    assert (window.kind, window.weekdays, window.local_start) == ("once", [], None)

    client.post(reverse("maintenance-delete", args=[service.name, window.pk]))
    assert not MaintenanceWindow.objects.exists()


def test_the_health_page_names_the_next_window_and_says_uptime_leaves_maintenance_out(
    service, login, viewer
):
    soon = timezone.now() + timedelta(days=2)
    maintenance_window_create(
        service_id=service.pk, kind="once", starts_at=soon, ends_at=soon + timedelta(hours=1)
    )

    html = login(viewer).get(reverse("service-health", args=[service.name])).content.decode()

    assert "Next maintenance window: " + timezone.localtime(soon).strftime("%Y-%m-%d %H:%M") in html
    assert html.count("(maintenance excluded)") == 3
