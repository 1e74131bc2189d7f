"""The break-glass path: `manage.py breakglass_login USERNAME` prints a one-time, short-lived
link that signs an admin in while password sign-in is off."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from accounts import breakglass as breakglass_module

pytestmark = pytest.mark.django_db


def _link(username: str, **options) -> str:
    out = io.StringIO()
    call_command(
        "breakglass_login",
        username,
        base_url="http://testserver",
        stdout=out,
        stderr=io.StringIO(),
        **options,
    )
    link = out.getvalue().strip()
    assert link.startswith("http://testserver/login/breakglass/")
    return urlsplit(link).path


def test_it_signs_an_admin_in_once_while_local_login_is_off(local_off, client, admin_user):
    path = _link(admin_user.username)

    confirm = client.get(path)  # a link preview or a scanner opening it does not use it up
    assert confirm.status_code == 200
    assert f"Sign in as {admin_user.username}" in confirm.content.decode()
    assert client.get("/").status_code == 302

    signed_in = client.post(path)
    assert signed_in.status_code == 302 and signed_in["Location"] == "/"
    assert client.get("/admin/").status_code == 200

    again = Client().post(path)
    assert again.status_code == 403
    assert "This break-glass link was already used" in again.content.decode()


def test_it_is_not_sent_to_the_provider_for_a_session_check(local_off, client, admin_user):
    client.post(_link(admin_user.username))
    session = client.session
    session["oidc_id_token_expiration"] = 0
    session.save()
    assert client.get("/").status_code == 200


def test_it_refuses_an_expired_link(local_off, client, admin_user, monkeypatch):
    path = _link(admin_user.username, minutes=5)
    real_time = breakglass_module.time.time
    monkeypatch.setattr(breakglass_module.time, "time", lambda: real_time() + 5 * 60 + 1)

    response = client.post(path)

    assert response.status_code == 403
    assert "This break-glass link has expired" in response.content.decode()
    assert client.get("/admin/").status_code == 302


def test_it_refuses_a_changed_link(local_off, client, admin_user):
    path = _link(admin_user.username)
    response = client.post(path[:-3] + "xyz/")
    assert response.status_code == 403
    assert "This break-glass link is not valid" in response.content.decode()


def test_it_refuses_a_link_for_a_user_who_is_not_an_admin(local_off, operator):
    with pytest.raises(CommandError, match="is not an active admin"):
        _link(operator.username)


def test_it_refuses_an_unknown_user(local_off):
    with pytest.raises(CommandError, match="There is no user named 'nobody'"):
        _link("nobody")


def test_it_refuses_a_lifetime_over_an_hour(local_off, admin_user):
    with pytest.raises(CommandError, match="A link lives 1 to 60 minutes, not 240"):
        _link(admin_user.username, minutes=240)


def test_it_refuses_the_link_once_the_admin_role_is_taken_away(local_off, client, admin_user):
    path = _link(admin_user.username)
    admin_user.is_superuser = False
    admin_user.save()
    assert client.post(path).status_code == 403
