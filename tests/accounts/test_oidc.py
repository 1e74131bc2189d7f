"""Sign-in with OpenID Connect against a real provider (django-oidc-provider in a second
process): new users, group → role mapping, roles taken away at the next login and at the
session check (and the API tokens' rights with them), and each refused token on a clear page."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from runs.services.tokens import token_create
from tests.accounts.conftest import callback, sso_login
from tests.accounts.provider import PROVIDER_NAME, ProviderBrowser
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

RUN_URL = "/api/v1/runs/999999"  # reading a run needs a role; a run that is not there is a 404


def _roles(username: str) -> set[str]:
    user = get_user_model().objects.get(username=username)
    names = set(user.groups.values_list("name", flat=True))
    return names | {"admin"} if user.is_superuser else names


def _api_read(raw_token: str):
    return Client().get(RUN_URL, HTTP_AUTHORIZATION=f"Bearer {raw_token}")


def _signed_in(client: Client) -> bool:
    return client.get("/").status_code == 200


def test_it_shows_a_sign_in_button_for_the_provider(sso, client):
    page = client.get("/login/").content.decode()
    assert f"Sign in with {PROVIDER_NAME}" in page
    assert 'id="id_password"' in page  # password sign-in stays beside it


def test_it_shows_no_button_when_single_sign_on_is_off(client, db):
    assert "Sign in with" not in client.get("/login/").content.decode()
    assert client.get("/oidc/authenticate/").status_code == 404


def test_it_signs_a_new_user_in_with_the_roles_of_their_groups(sso, client, op_browser):
    sso.user_put("alice", ["engineering", "deployers", "unrelated"])

    response = sso_login(client, op_browser, "alice")

    assert response.status_code == 302, response.content.decode()
    assert response["Location"] == "/"
    assert _signed_in(client)
    user = get_user_model().objects.get(username="alice")
    assert user.email == "alice@example.com"
    assert not user.has_usable_password()  # this account signs in through the provider only
    assert _roles("alice") == {"Viewer", "Operator"}


def test_it_makes_a_member_of_the_admin_group_an_admin(sso, client, op_browser):
    sso.user_put("root", ["stageloop-admins"])
    sso_login(client, op_browser, "root")
    user = get_user_model().objects.get(username="root")
    assert user.is_superuser and user.is_staff
    assert client.get("/admin/").status_code == 200


def test_it_signs_a_user_in_with_no_role_when_no_group_maps(sso, client, op_browser):
    sso.user_put("guest", ["marketing"])
    sso_login(client, op_browser, "guest")
    assert _roles("guest") == set()


def test_it_takes_a_role_away_at_the_next_login_and_the_api_tokens_lose_it(sso, client, op_browser):
    sso.user_put("bea", ["engineering"])
    sso_login(client, op_browser, "bea")
    _, raw = token_create(user=get_user_model().objects.get(username="bea"), name="ci")
    assert _api_read(raw).status_code == 404  # may read: the run is just not there

    sso.user_put("bea", [])  # removed from the group at the provider
    sso_login(Client(), ProviderBrowser(sso), "bea")

    assert _roles("bea") == set()
    refused = _api_read(raw)
    assert refused.status_code == 403
    assert "bea (no role) may not read runs" in refused.json()["error"]


def test_it_gives_a_role_back_when_the_group_is_given_back(sso, client, op_browser):
    sso.user_put("cy", [])
    sso_login(client, op_browser, "cy")
    sso.user_put("cy", ["leads"])
    sso_login(Client(), ProviderBrowser(sso), "cy")
    assert _roles("cy") == {"Manager"}


def test_it_takes_an_admin_role_away_at_the_next_login(sso, client, op_browser):
    sso.user_put("dee", ["stageloop-admins"])
    sso_login(client, op_browser, "dee")
    sso.user_put("dee", ["engineering"])
    sso_login(Client(), ProviderBrowser(sso), "dee")
    user = get_user_model().objects.get(username="dee")
    assert not user.is_superuser and not user.is_staff
    assert _roles("dee") == {"Viewer"}


def _expire_session_check(client: Client) -> None:
    """What STAGELOOP_OIDC_SESSION_CHECK_SECONDS passing does to the session."""
    session = client.session
    session["oidc_id_token_expiration"] = 0
    session.save()


def test_it_takes_a_role_away_at_the_session_check_and_the_api_tokens_lose_it(
    sso, client, op_browser
):
    sso.user_put("eve", ["engineering", "deployers"])
    sso_login(client, op_browser, "eve")
    _, raw = token_create(user=get_user_model().objects.get(username="eve"), name="ci")
    assert _api_read(raw).status_code == 404

    sso.user_put("eve", [])
    _expire_session_check(client)
    check = client.get("/")
    assert check.status_code == 302
    assert check["Location"].startswith(sso.settings()["OIDC_OP_AUTHORIZATION_ENDPOINT"])
    assert "prompt=none" in check["Location"]
    back = op_browser.follow(check["Location"])  # still signed in at the provider: no form
    assert isinstance(back, str) and "error" not in back, back
    response = callback(client, back)

    assert response.status_code == 302 and response["Location"] == "/"
    assert _roles("eve") == set()
    assert _api_read(raw).status_code == 403


def test_it_does_not_check_the_session_before_it_is_due(sso, client, op_browser):
    sso.user_put("fay", ["engineering"])
    sso_login(client, op_browser, "fay")
    assert client.get("/").status_code == 200


def test_it_leaves_the_session_check_to_page_loads_not_fragments(sso, client, op_browser):
    sso.user_put("ned", ["engineering"])
    sso_login(client, op_browser, "ned")
    _expire_session_check(client)
    assert client.get("/worker-status", HTTP_HX_REQUEST="true").status_code == 200
    assert client.get("/").status_code == 302  # the page load goes to the provider


def test_it_returns_to_the_page_asked_for_and_only_on_this_site(sso, client, op_browser):
    sso.user_put("oli", ["engineering"])
    assert sso_login(client, op_browser, "oli", next_url="/admin/")["Location"] == "/admin/"
    elsewhere = sso_login(Client(), op_browser, "oli", next_url="https://evil.example/")
    assert elsewhere["Location"] == "/"


def test_it_signs_the_user_out_when_the_provider_does_not_confirm_the_session(
    sso, client, op_browser
):
    sso.user_put("gus", ["engineering"])
    sso_login(client, op_browser, "gus")
    _expire_session_check(client)
    check = client.get("/")

    # A browser whose provider session ended: the provider answers login_required.
    back = ProviderBrowser(sso).follow(check["Location"])
    assert isinstance(back, str) and "error=login_required" in back
    page = callback(client, back)

    assert page.status_code == 401
    assert "did not confirm it (login_required), so you are signed out" in page.content.decode()
    assert not _signed_in(client)


def _refusal(client: Client, op_browser, username: str) -> str:
    response = sso_login(client, op_browser, username)
    assert response.status_code == 403
    assert not _signed_in(client)
    page = response.content.decode()
    assert "Traceback" not in page
    return page


def test_it_refuses_a_token_whose_signature_does_not_match_the_trusted_keys(
    sso, client, op_browser, settings
):
    sso.user_put("hal", ["engineering"])
    settings.OIDC_OP_JWKS_ENDPOINT = f"{sso.url}/test/impostor-jwks"
    page = _refusal(client, op_browser, "hal")
    assert "has a signature that does not match the provider&#x27;s keys" in page
    assert "Tell an admin" in page
    assert not get_user_model().objects.filter(username="hal").exists()


def test_it_refuses_a_token_issued_for_another_audience(sso, client, op_browser):
    sso.user_put("ida", ["engineering"])
    sso.misbehave(aud="another-application")
    page = _refusal(client, op_browser, "ida")
    assert "was issued for another application" in page
    assert "STAGELOOP_OIDC_CLIENT_ID" in page


def test_it_refuses_an_expired_token(sso, client, op_browser):
    sso.user_put("jon", ["engineering"])
    sso.misbehave(expired=True)
    page = _refusal(client, op_browser, "jon")
    assert "had already expired, so it was refused" in page
    assert "Start again from the sign-in page" in page


def test_it_refuses_a_token_from_another_issuer(sso, client, op_browser, settings):
    sso.user_put("kim", ["engineering"])
    settings.OIDC_ISSUER = "https://idp.example.com"
    page = _refusal(client, op_browser, "kim")
    assert "was issued by another provider" in page


def test_it_refuses_a_callback_used_twice(sso, client, op_browser):
    sso.user_put("lea", ["engineering"])
    start = client.get("/oidc/authenticate/")
    back = op_browser.authorize(start["Location"], "lea")
    assert callback(client, back).status_code == 302

    again = callback(Client(), back)  # replayed, from another browser
    assert again.status_code == 403
    assert "its link was already used" in again.content.decode()


def test_it_does_not_take_over_an_account_that_signs_in_with_a_password(
    sso, client, op_browser, operator
):
    sso.user_put(operator.username, ["stageloop-admins"])
    page = _refusal(client, op_browser, operator.username)
    assert f"An account named {operator.username} already signs in with a password" in page
    operator.refresh_from_db()
    assert not operator.is_superuser
    password_login = Client().post("/login/", {"username": operator.username, "password": PASSWORD})
    assert password_login.status_code == 302


def test_it_says_so_when_the_provider_cannot_be_reached(sso, client, op_browser, settings):
    sso.user_put("max", ["engineering"])
    settings.OIDC_OP_TOKEN_ENDPOINT = "http://127.0.0.1:9/token"  # nothing listens there
    page = _refusal(client, op_browser, "max")
    assert f"{PROVIDER_NAME} did not answer the sign-in as expected" in page
