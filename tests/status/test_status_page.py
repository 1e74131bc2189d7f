"""Status pages: public ones open without a login, private ones only with one, unknown and
private slugs answer 404 to anonymous visitors; nothing internal is shown unless allowed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from health.models import ProbeRollupHour, Slo
from health.services import probe_results_record
from health.services.maintenance import maintenance_window_create
from health.services.rollups import day_rollups_refresh
from reports.models import StatusPage
from reports.selectors.status_pages import DAYS, status_page_data
from runs.models import Service
from tests.factories import ServiceFactory
from tests.health.helpers import make_probe, outcome
from tests.status.helpers import (
    CAUSE,
    SECRET_ERROR,
    SECRET_PROBE_NAME,
    SECRETS,
    planted_status_page,
)

pytestmark = pytest.mark.django_db


def record_checks(probe, *, at: datetime, ok: list[bool]) -> None:
    probe_results_record(
        outcomes=[
            outcome(probe, at=at + timedelta(seconds=i), ok=good) for i, good in enumerate(ok)
        ]
    )


def _url(slug: str) -> str:
    return reverse("status-page", args=[slug])


def test_a_public_page_opens_without_a_login_and_shows_state_bars_and_causes(client):
    planted_status_page(public=True)

    response = client.get(_url("acme"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Acme status" in html
    assert "checkout" in html
    assert CAUSE in html
    assert (
        html.count('class="up"') + html.count('class="partial"') + html.count('class="downish"')
        >= 1
    )
    assert "maintenance excluded" in html


def test_a_public_page_leaks_no_internal_url_test_name_or_error(client):
    planted_status_page(public=True)

    html = client.get(_url("acme")).content.decode()

    for secret in SECRETS:
        assert secret not in html, secret


def test_the_switches_show_test_names_and_errors_and_still_no_urls(client):
    planted_status_page(public=True, show_test_names=True, show_errors=True)

    html = client.get(_url("acme")).content.decode()

    assert SECRET_PROBE_NAME in html
    assert SECRET_ERROR in html
    for secret in SECRETS:
        if secret not in (SECRET_PROBE_NAME, SECRET_ERROR):
            assert secret not in html, secret


def test_a_private_page_is_a_404_for_an_anonymous_visitor_like_a_missing_one(client):
    planted_status_page(public=False)

    private = client.get(_url("acme"))
    missing = client.get(_url("no-such-page"))

    # no redirect to the login page, which would tell the page exists
    assert private.status_code == missing.status_code == 404
    for secret in [*SECRETS, "Acme status", "checkout"]:
        assert secret not in private.content.decode()


def test_a_private_page_opens_for_a_signed_in_user(login, viewer):
    planted_status_page(public=False)

    response = login(viewer).get(_url("acme"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Acme status" in html
    for secret in SECRETS:
        assert secret not in html, secret


def test_every_other_page_still_needs_a_login(client):
    planted_status_page(public=True)
    response = client.get(reverse("service-health", args=["checkout"]))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_the_page_is_read_in_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    page = planted_status_page(public=True)
    for n in range(5):
        service = ServiceFactory(name=f"extra-{n}")
        make_probe(service)
        page.services.add(service)

    # 14, and one for the services' SLOs (none here; with SLOs, one per kind and one for alerts)
    with django_assert_max_num_queries(15):
        response = client.get(_url("acme"))

    assert response.status_code == 200


@override_settings(TIME_ZONE="Europe/Berlin")
def test_daily_bars_are_days_in_the_site_time_zone_and_leave_maintenance_out():
    service = ServiceFactory()
    probe = make_probe(service)
    page = StatusPage.objects.create(name="P", slug="p", public=True)
    page.services.add(service)
    now = datetime(2026, 3, 30, 12, 0, tzinfo=UTC)
    # 23:00 UTC on 28 March is 00:00 on 29 March in Berlin (CET): a day of its own there
    ProbeRollupHour.objects.bulk_create(
        [
            ProbeRollupHour(
                probe=probe,
                bucket_start=datetime(2026, 3, 28, 23, 0, tzinfo=UTC),
                count=100,
                ok_count=90,
                maintenance_count=500,
            ),
            ProbeRollupHour(
                probe=probe,
                bucket_start=datetime(2026, 3, 28, 22, 0, tzinfo=UTC),
                count=200,
                ok_count=200,
            ),
        ]
    )
    with timezone.override("Europe/Berlin"):
        day_rollups_refresh(since=None)
        data = status_page_data(page=page, now=now)

    days = {d.day.isoformat(): d for d in data.services[0].days}
    assert len(data.services[0].days) == DAYS
    assert (days["2026-03-29"].figure.ok, days["2026-03-29"].checks) == (90, 100)
    assert (days["2026-03-28"].figure.ok, days["2026-03-28"].checks) == (200, 200)
    assert days["2026-03-30"].checks == 0


def test_a_service_in_a_window_shows_under_maintenance(client):
    page = planted_status_page(public=True)
    service = page.services.get()
    now = timezone.now()
    maintenance_window_create(
        service_id=service.pk,
        kind="once",
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(minutes=55),
    )

    html = client.get(_url("acme")).content.decode()

    assert 'data-state="maintenance"' in html
    assert "under maintenance" in html


def test_a_late_result_of_yesterday_shows_at_once():
    service = ServiceFactory()
    probe = make_probe(service)
    page = StatusPage.objects.create(name="P", slug="p", public=True)
    page.services.add(service)
    now = timezone.now()
    yesterday = now - timedelta(days=1)
    record_checks(probe, at=yesterday, ok=[True] * 3)
    first = status_page_data(page=page, now=now).services[0].days
    assert (first[-2].checks, first[-1].checks) == (3, 0)

    record_checks(probe, at=yesterday + timedelta(seconds=1), ok=[False] * 2)
    record_checks(probe, at=now - timedelta(seconds=5), ok=[True])
    again = status_page_data(page=page, now=now).services[0].days
    assert (again[-2].checks, again[-2].figure.ok, again[-1].checks) == (5, 3, 1)


def test_the_page_shows_each_slo_with_its_budget_and_no_link_to_it(client):
    # given a public page whose service has a 99 % SLO: 10 hours of 1,000 checks, 50 failed
    planted_status_page(public=True)
    service = Service.objects.get(name="checkout")
    ProbeRollupHour.objects.all().delete()
    probe = make_probe(service, name="slo-probe")
    start = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=10)
    ProbeRollupHour.objects.bulk_create(
        ProbeRollupHour(
            probe=probe, bucket_start=start + timedelta(hours=h), count=1000, ok_count=995
        )
        for h in range(10)
    )
    # The window reads whole past days from day rollups: before 10:00 some (after midnight all)
    # of these hours lie in such a day, so the days are remade from the hours, as beat does.
    day_rollups_refresh(since=None)
    Slo.objects.create(
        service=service, name="checkout availability", kind="availability", objective_percent=99
    )

    # when an anonymous visitor opens it
    html = client.get(_url("acme")).content.decode()

    # then the SLO shows: SLI 99.5 %, half its budget (100 failures) left, within budget
    assert "checkout availability" in html
    assert "99.500 %" in html and "50.0 %" in html
    assert 'data-slo-state="ok"' in html and "within budget" in html
    assert "/slos/" not in html


@pytest.mark.parametrize("value", [0.0, -0.04, 2.675, 99.5, 99.9995, 100.0, -250.0, 12.3456])
def test_slo_figures_are_written_as_the_floatformat_filter_writes_them(value):
    # the SLO rows are built in Python (one pass for 150 SLOs), with the template's rounding
    from django.template.defaultfilters import floatformat

    from reports.templatetags.status_page import _decimals, _objective

    assert _decimals(value, 3) == floatformat(value, 3)
    assert _decimals(value, 1) == floatformat(value, 1)
    assert _objective(value) == floatformat(value, "-3")
