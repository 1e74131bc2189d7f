"""The SLO page in Chromium: a manager creates an SLO through the form (a bad objective first),
and the burn-down chart is drawn."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from health.models import Slo
from tests.factories import ServiceFactory
from tests.health.slo_support import hours, probe_for


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_manager_creates_an_slo_and_sees_its_burn_down(
    browser_login, manager, live_server, js_errors
):
    # given a service with two days of probe checks, 2 of 17,280 failed
    service = ServiceFactory(name="shop")
    probe = probe_for(service)
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    hours(probe, start=now - timedelta(hours=47), count=46, per_hour=360)
    hours(probe, start=now - timedelta(hours=1), count=2, per_hour=360, bad=1)

    # when a manager submits the form with an objective of 100 %
    page = browser_login(manager)
    page.goto(live_server.url + reverse("service-slos", args=[service.name]) + "?range=7d")
    assert page.locator("#no-slos").is_visible()
    page.fill("#id_name", "checkout availability")
    page.fill("#id_objective_percent", "100")
    page.click("#slo-create button[type=submit]")

    # then the form says why and nothing is created
    assert "below 100" in page.locator("#objective-error").inner_text()
    assert not Slo.objects.exists()

    # when they correct it to 99.9 %
    page.fill("#id_objective_percent", "99.9")
    page.click("#slo-create button[type=submit]")

    # then the SLO shows its SLI, its budget left and a drawn burn-down
    slo = Slo.objects.get()
    card = page.locator(f"#slo-{slo.pk}")
    card.wait_for()
    # 17,280 checks, 2 bad: SLI 99.988 %; budget 17.28, 15.28 left (88.4 %)
    assert "99.988 %" in card.locator(".sli").inner_text()
    assert card.locator(".budget-left").inner_text() == "15.3 (88.4 %)"
    page.wait_for_selector(f"#burn-{slo.pk} .main-svg")
    assert page.evaluate(f"document.querySelector('#burn-{slo.pk}').data.length") == 2
    assert js_errors == []
