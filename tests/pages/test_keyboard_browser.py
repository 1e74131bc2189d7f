"""In Chromium, with the keyboard only: log in, reach every header link on a phone, deploy and
test a service, and save an analysis. Every stop shows a visible focus ring."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from analyses.models import Analysis
from analyses.services.analyses import analysis_start_from_run
from runs.models import Deploy, TestRun
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

_FOCUSED = """() => {
  const el = document.activeElement;
  // null on the body, and inside a browser's own control (a date field's picker button), which
  // the browser draws itself: there the field does not match :focus.
  if (!el || el === document.body || !el.matches(":focus")) return null;
  const style = getComputedStyle(el);
  return {id: el.id, tag: el.tagName.toLowerCase(), text: (el.innerText || el.value || "").trim(),
          ring: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0};
}"""


def tab_to(page, selector: str, limit: int = 120) -> None:
    """Press Tab until `selector` has the focus; every element passed on the way shows a ring."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED)
        assert focused is None or focused["ring"], f"no visible focus ring on {focused}"
        if page.evaluate("sel => document.activeElement.matches(sel)", selector):
            return
    raise AssertionError(f"{selector} is not reachable with Tab within {limit} presses")


@pytest.fixture
def seeded(db):
    call_command("seed_demo", password=PASSWORD, stdout=open("/dev/null", "w"))  # noqa: SIM115
    return get_user_model().objects.get(username="admin")


def test_a_keyboard_user_logs_in_deploys_and_saves_an_analysis(
    seeded, live_server, page, js_errors
):
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{live_server.url}/login/")
    tab_to(page, "#id_username")
    page.keyboard.type("admin")
    tab_to(page, "#id_password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/")

    # On a phone every header link and the log-out button are reachable, in reading order.
    for link in page.locator("header.top nav a").all():
        tab_to(page, f'header.top nav a[href="{link.get_attribute("href")}"]')
    tab_to(page, "header.top .account button")

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/services/demo-chat/")
    tab_to(page, "button.deploy-and-test")
    page.keyboard.press("Enter")
    page.wait_for_url("**/deploys/*/")
    deploy = Deploy.objects.filter(service__name="demo-chat").latest("pk")
    assert page.url.endswith(f"/deploys/{deploy.pk}/")

    run = TestRun.objects.filter(failed__gt=0).order_by("-pk").first()
    analysis = analysis_start_from_run(run=run, user=seeded)
    page.goto(f"{live_server.url}/analyses/{analysis.pk}/edit")
    tab_to(page, "#id_analysis-title")
    page.keyboard.press("Control+A")
    page.keyboard.type("Typed without a mouse")
    tab_to(page, "#save-analysis", limit=300)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/analyses/{analysis.pk}/")
    assert Analysis.objects.get(pk=analysis.pk).title == "Typed without a mouse"
    assert js_errors == []
