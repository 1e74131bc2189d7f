"""Fixtures for signing in: the real OpenID provider (one process for the session) and
Stageloop configured for it."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.test import Client

from tests.accounts.provider import Provider, ProviderBrowser


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    provider = Provider.start(tmp_path_factory.mktemp("oidc-provider"))
    yield provider
    provider.stop()


@pytest.fixture
def sso(oidc_provider, settings):
    """Stageloop with single sign-on on, pointing at the test provider (well-behaved)."""
    oidc_provider.client_put(["http://testserver/oidc/callback/"])
    oidc_provider.misbehave()
    for name, value in oidc_provider.settings().items():
        setattr(settings, name, value)
    return oidc_provider


@pytest.fixture
def local_off(sso, settings):
    """Single sign-on on and password sign-in off (STAGELOOP_LOCAL_LOGIN=0)."""
    settings.LOCAL_LOGIN_ENABLED = False
    return sso


@pytest.fixture
def op_browser(oidc_provider):
    browser = ProviderBrowser(oidc_provider)
    yield browser
    browser.http.close()


def sso_login(client: Client, op_browser: ProviderBrowser, username: str, *, next_url: str = ""):
    """Sign `client` in through the provider as `username`; the callback's response."""
    start = client.get("/oidc/authenticate/" + (f"?next={next_url}" if next_url else ""))
    assert start.status_code == 302, start
    return callback(client, op_browser.authorize(start["Location"], username))


def callback(client: Client, url: str):
    """Hand the provider's redirect back to Stageloop (the test client plays the browser)."""
    parts = urlsplit(url)
    assert parts.path == "/oidc/callback/", url
    return client.get(f"{parts.path}?{parts.query}")
