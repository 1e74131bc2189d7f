"""Login is throttled: repeated wrong passwords for one user from one address lock that pair out."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LIMIT = 5


def _post(client: Client, username: str, password: str, addr: str = "203.0.113.7"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=addr)


def test_the_right_password_is_refused_after_repeated_failures(viewer):
    client = Client()
    for _ in range(LIMIT - 1):
        response = _post(client, viewer.username, "wrong")
        assert response.status_code == 200  # the form again, with its error
    assert _post(client, viewer.username, "wrong").status_code == 429  # the last one allowed
    response = _post(client, viewer.username, PASSWORD)

    assert response.status_code == 429
    body = response.content.decode()
    assert "Too many failed sign-in attempts" in body
    assert "15 minutes" in body
    assert "_auth_user_id" not in client.session


def test_another_address_and_another_user_are_not_locked_out(viewer, operator):
    client = Client()
    for _ in range(LIMIT):
        _post(client, viewer.username, "wrong")

    assert _post(Client(), viewer.username, PASSWORD, addr="198.51.100.2").status_code == 302
    assert _post(Client(), operator.username, PASSWORD).status_code == 302


def test_an_admin_lifts_a_lockout_with_a_command(viewer):
    for _ in range(LIMIT):
        _post(Client(), viewer.username, "wrong")
    call_command("axes_reset_username", viewer.username)

    assert _post(Client(), viewer.username, PASSWORD).status_code == 302


def test_fewer_failures_than_the_limit_do_not_lock(viewer):
    for _ in range(LIMIT - 1):
        _post(Client(), viewer.username, "wrong")

    assert _post(Client(), viewer.username, PASSWORD).status_code == 302
