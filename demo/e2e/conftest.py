"""Fixtures for the demo service's e2e suite.

Environment:
- ``STAGELOOP_BASE_URL``: the service's origin (default ``http://127.0.0.1:8080``).
- ``STAGELOOP_REVISION``: when set, every response must carry it in ``X-Stageloop-Revision``.
- ``STAGELOOP_E2E_USER`` / ``STAGELOOP_E2E_PASSWORD`` and ``STAGELOOP_E2E_OTHER_USER`` /
  ``STAGELOOP_E2E_OTHER_PASSWORD``: two accounts (defaults: the demo's ``demo`` and ``qa``).
- ``STAGELOOP_STREAM_TIMEOUT``: seconds the stream may stay silent (default 3).

Tests are ``async def`` and talk to the service through aiohttp's client; the
``pytest_pyfunc_call`` hook below runs each one in a fresh event loop, so the suite needs no
asyncio plugin. Fixtures are plain functions that do their setup calls with ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
import inspect
import os
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

BASE_URL = os.environ.get("STAGELOOP_BASE_URL", "http://127.0.0.1:8080").rstrip("/")
REVISION = os.environ.get("STAGELOOP_REVISION")
USER = os.environ.get("STAGELOOP_E2E_USER", "demo")
PASSWORD = os.environ.get("STAGELOOP_E2E_PASSWORD", "demo-password")
OTHER_USER = os.environ.get("STAGELOOP_E2E_OTHER_USER", "qa")
OTHER_PASSWORD = os.environ.get("STAGELOOP_E2E_OTHER_PASSWORD", "qa-password")
STREAM_TIMEOUT = float(os.environ.get("STAGELOOP_STREAM_TIMEOUT", "3"))
# every request is bounded, so a hung service fails a test instead of stalling the suite
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=10)

_AS_USER = object()

ApiFactory = Callable[..., aiohttp.ClientSession]


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run ``async def`` tests to completion in their own event loop."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = inspect.signature(pyfuncitem.obj).parameters
    asyncio.run(pyfuncitem.obj(**{name: pyfuncitem.funcargs[name] for name in names}))
    return True


def open_session(token: str | None) -> aiohttp.ClientSession:
    """A client session on the service, sending ``token`` as a bearer token when given."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return aiohttp.ClientSession(base_url=BASE_URL, headers=headers, timeout=REQUEST_TIMEOUT)


async def _login(username: str, password: str) -> str:
    async with (
        open_session(None) as http,
        http.post("/auth/token", json={"username": username, "password": password}) as resp,
    ):
        assert resp.status == 200, f"login as {username} failed: {resp.status} {await resp.text()}"
        return (await resp.json())["access_token"]


@pytest.fixture(scope="session")
def token() -> str:
    """A bearer token for the main test account."""
    return asyncio.run(_login(USER, PASSWORD))


@pytest.fixture(scope="session")
def other_token() -> str:
    """A bearer token for a second account, to check that users cannot see each other's data."""
    return asyncio.run(_login(OTHER_USER, OTHER_PASSWORD))


@pytest.fixture
def api(token: str) -> ApiFactory:
    """``api()`` opens a session as the main user; ``api(token=None)`` opens an anonymous one."""

    user_token = token

    def factory(token: Any = _AS_USER) -> aiohttp.ClientSession:
        return open_session(user_token if token is _AS_USER else token)

    return factory


@pytest.fixture
def new_thread(token: str) -> dict[str, Any]:
    """A fresh, empty thread owned by the main user."""

    async def create() -> dict[str, Any]:
        async with (
            open_session(token) as http,
            http.post("/threads", json={"title": "e2e thread"}) as resp,
        ):
            assert resp.status == 201, await resp.text()
            return await resp.json()

    return asyncio.run(create())
