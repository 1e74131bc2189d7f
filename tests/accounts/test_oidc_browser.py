"""Single sign-on in a real browser: the button on Stageloop's login page, the provider's own
login form, and back to the overview with the role the groups give."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from tests.accounts.provider import OP_PASSWORD, PROVIDER_NAME

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_sso(sso, live_server):
    sso.client_put([f"{live_server.url}/oidc/callback/"])
    return sso


def _sign_in_at_provider(page, username: str) -> None:
    page.fill("#op-username", username)
    page.fill("#op-password", OP_PASSWORD)
    page.click("#op-submit")


def test_it_signs_in_through_the_provider_login_form(browser_sso, live_server, page):
    browser_sso.user_put("olga", ["deployers"])
    # Script errors only: the test provider's pages have no favicon (a 404 that is not ours).
    script_errors: list[str] = []
    page.on("pageerror", lambda exc: script_errors.append(str(exc)))

    page.goto(f"{live_server.url}/login/")
    page.click("#sso-login")
    page.wait_for_url(f"{browser_sso.url}/accounts/login/**")
    _sign_in_at_provider(page, "olga")
    page.wait_for_url(f"{live_server.url}/")

    assert "olga" in page.content()
    user = get_user_model().objects.get(username="olga")
    assert set(user.groups.values_list("name", flat=True)) == {"Operator"}
    assert script_errors == []


def test_it_shows_a_clear_page_for_a_refused_token(browser_sso, live_server, page):
    browser_sso.user_put("pia", ["engineering"])
    browser_sso.misbehave(expired=True)

    page.goto(f"{live_server.url}/login/")
    page.click("#sso-login")
    _sign_in_at_provider(page, "pia")
    page.wait_for_selector("#sign-in-refused")

    text = page.inner_text("#sign-in-refused")
    assert "had already expired, so it was refused" in text
    assert "Traceback" not in page.content()


def test_it_offers_only_the_provider_when_local_login_is_off(local_off, live_server, page):
    page.goto(f"{live_server.url}/login/")
    assert page.locator("#id_password").count() == 0
    assert "Password sign-in is switched off" in page.inner_text("#local-login-off")
    assert page.inner_text("#sso-login") == f"Sign in with {PROVIDER_NAME}"


def test_it_signs_an_admin_in_with_a_break_glass_link(local_off, live_server, page, admin_user):
    out = io.StringIO()
    call_command(
        "breakglass_login",
        admin_user.username,
        base_url=live_server.url,
        stdout=out,
        stderr=io.StringIO(),
    )

    page.goto(out.getvalue().strip())
    page.click(f"text=Sign in as {admin_user.username}")  # a real form post, CSRF and all
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/admin/")
    assert "Site administration" in page.content()
