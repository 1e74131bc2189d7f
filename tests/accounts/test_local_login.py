"""Password sign-in switched off (STAGELOOP_LOCAL_LOGIN=0): refused with a sentence on the login
page and in the admin, while single sign-on still works."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.test import RequestFactory

from tests.accounts.conftest import sso_login
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_it_signs_in_with_a_password_while_local_login_is_on(sso, client, operator):
    response = client.post("/login/", {"username": operator.username, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_it_shows_no_password_form_when_local_login_is_off(local_off, client):
    page = client.get("/login/").content.decode()
    assert 'id="id_password"' not in page
    assert "Password sign-in is switched off on this server: sign in with Test IdP" in page
    assert "Sign in with Test IdP" in page


def test_it_refuses_a_password_when_local_login_is_off(local_off, client, operator):
    response = client.post("/login/", {"username": operator.username, "password": PASSWORD})

    assert response.status_code == 403
    assert "Password sign-in is switched off on this server" in response.content.decode()
    assert "manage.py breakglass_login" in response.content.decode()
    assert client.get("/").status_code == 302  # not signed in


def test_it_refuses_a_password_in_any_form_when_local_login_is_off(local_off, operator):
    request = RequestFactory().post("/admin/login/")
    assert authenticate(request, username=operator.username, password=PASSWORD) is None


def test_it_sends_the_admin_login_to_the_login_page_when_local_login_is_off(
    local_off, client, admin_user
):
    response = client.post(
        "/admin/login/?next=/admin/", {"username": admin_user.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=%2Fadmin%2F"
    assert client.get("/admin/").status_code == 302


def test_it_keeps_the_admin_login_form_while_local_login_is_on(client, admin_user):
    response = client.post(
        "/admin/login/?next=/admin/", {"username": admin_user.username, "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_it_signs_in_with_the_provider_when_local_login_is_off(local_off, client, op_browser):
    local_off.user_put("nia", ["engineering"])
    assert sso_login(client, op_browser, "nia").status_code == 302
    assert client.get("/").status_code == 200
