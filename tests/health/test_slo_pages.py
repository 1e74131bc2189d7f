"""The SLO page and its forms; the SLOs and SLO alerts on the health page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from health.models import ProbeRollupHour, Slo, SloAlert
from health.services.rollups import day_rollups_refresh
from tests.factories import ServiceFactory
from tests.health.slo_support import hours, probe_for, slo_for

pytestmark = pytest.mark.django_db

GOOD = {
    "name": "availability",
    "kind": "availability",
    "objective_percent": "99.9",
    "latency_threshold_ms": "",
    "window_days": "28",
}


def _url(service) -> str:
    return reverse("service-slos", args=[service.name]) + "?range=7d"


def test_a_manager_creates_an_slo(login, manager):
    service = ServiceFactory(name="shop")

    response = login(manager).post(_url(service), GOOD)

    assert response.status_code == 302
    slo = Slo.objects.get(service=service)
    assert (slo.name, slo.kind, slo.objective_percent, slo.window_days) == (
        "availability",
        "availability",
        99.9,
        28,
    )


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"objective_percent": "100"}, "objective_percent", "below 100"),
        ({"objective_percent": "100.5"}, "objective_percent", "below 100"),
        ({"objective_percent": "0"}, "objective_percent", "above 0"),
        ({"objective_percent": "abc"}, "objective_percent", "as a number"),
        ({"kind": "latency"}, "latency_threshold_ms", "needs a threshold"),
        (
            {"kind": "latency", "latency_threshold_ms": "-5"},
            "latency_threshold_ms",
            "at least 1 ms",
        ),
        ({"window_days": "12"}, "window_days", "Select a valid choice"),
        ({"name": ""}, "name", "required"),
    ],
)
def test_bad_input_is_refused_with_a_sentence_and_nothing_is_written(
    login, manager, change, field, message
):
    service = ServiceFactory(name="shop")

    response = login(manager).post(_url(service), {**GOOD, **change})

    assert response.status_code == 200
    errors = response.context["form"].errors[field]
    assert any(message in e for e in errors), errors
    assert message in response.content.decode()
    assert not Slo.objects.exists()


def test_a_duplicate_name_is_refused(login, manager):
    service = ServiceFactory(name="shop")
    slo_for(service, name="availability")

    response = login(manager).post(_url(service), GOOD)

    assert response.status_code == 200
    assert "already has an SLO named" in response.content.decode()
    assert Slo.objects.count() == 1


def test_a_viewer_sees_slos_but_may_not_change_them(login, viewer):
    service = ServiceFactory(name="shop")
    slo = slo_for(service, name="availability")
    client = login(viewer)

    page = client.get(_url(service))
    assert page.status_code == 200 and "slo-create" not in page.content.decode()
    assert client.post(_url(service), {**GOOD, "name": "other"}).status_code == 403
    edit = reverse("slo-edit", args=[service.name, slo.pk])
    assert client.get(edit).status_code == 403
    assert client.post(reverse("slo-delete", args=[service.name, slo.pk])).status_code == 403
    assert Slo.objects.count() == 1


def test_a_manager_edits_and_deletes_an_slo(login, manager):
    service = ServiceFactory(name="shop")
    slo = slo_for(service, name="availability")
    client = login(manager)
    edit = reverse("slo-edit", args=[service.name, slo.pk])

    bad = client.post(edit, {**GOOD, "objective_percent": "100"})
    assert bad.status_code == 200
    slo.refresh_from_db()
    assert slo.objective_percent == 99.9

    changed = {**GOOD, "kind": "latency", "latency_threshold_ms": "250", "objective_percent": "99"}
    assert client.post(edit, changed).status_code == 302
    slo.refresh_from_db()
    assert (slo.kind, slo.latency_threshold_ms, slo.objective_percent) == ("latency", 250, 99.0)

    assert client.post(reverse("slo-delete", args=[service.name, slo.pk])).status_code == 302
    assert not Slo.objects.exists()


def test_the_pages_show_sli_budget_and_open_alerts_in_few_queries(
    login, viewer, django_assert_max_num_queries
):
    # given an SLO with a day of data (1 bad check of 8,640) and an open critical alert
    service = ServiceFactory(name="shop")
    probe = probe_for(service)
    slo = slo_for(service, objective=99.9, name="checkout")
    now = timezone.now()
    hours(probe, start=now - timedelta(hours=24), count=24, per_hour=360)
    first = ProbeRollupHour.objects.filter(probe=probe).earliest("bucket_start")
    ProbeRollupHour.objects.filter(pk=first.pk).update(ok_count=359)
    day_rollups_refresh(since=None)
    SloAlert.objects.create(
        slo=slo,
        service=service,
        severity="critical",
        threshold=14.4,
        long_burn=20,
        short_burn=30,
        opened_at=now - timedelta(minutes=3),
    )
    client = login(viewer)

    with django_assert_max_num_queries(20):
        page = client.get(_url(service)).content.decode()
    # SLI 1 - 1/8,640; budget 8.64, 7.64 left (88.4 %)
    assert "99.988 %" in page and "7.6 (88.4 %)" in page
    assert "burning fast" in page and "Critical (fast burn)" in page
    assert 'id="burn-' in page

    health = client.get(reverse("service-health", args=[service.name]) + "?range=24h")
    text = health.content.decode()
    assert health.status_code == 200
    assert 'id="slos"' in text and "checkout" in text and "88.4 %" in text
    assert 'id="slo-alerts"' in text and "Critical (fast burn)" in text
