"""Shared fixtures: users per role, a CSRF-enforcing client, the browser on system Chromium."""

from __future__ import annotations

import os
import shutil

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from runs.roles import MANAGER, OPERATOR, VIEWER
from runs.services.roles import roles_ensure

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# around it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "correct horse battery staple"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under CI, refuse to run on the wrong mode instead of falling back silently:
    STAGELOOP_REQUIRE_SERVICES=1 needs PostgreSQL + Redis, STAGELOOP_REQUIRE_EMBEDDED=1 needs
    SQLite + the filesystem broker (what `make run` uses)."""
    engine = settings.DATABASES["default"]["ENGINE"]
    broker = settings.CELERY_BROKER_URL
    if os.environ.get("STAGELOOP_REQUIRE_SERVICES") == "1":
        if "postgresql" not in engine:
            pytest.exit(f"CI requires PostgreSQL but DATABASE_URL gives {engine}.", returncode=3)
        if not broker.startswith("redis"):
            pytest.exit("CI requires Redis but CELERY_BROKER_URL is not redis://.", returncode=3)
    if os.environ.get("STAGELOOP_REQUIRE_EMBEDDED") == "1":
        if "sqlite" not in engine:
            pytest.exit(f"The embedded pass requires SQLite but got {engine}.", returncode=3)
        if not broker.startswith("filesystem"):
            pytest.exit(f"The embedded pass requires the filesystem broker, not {broker}.", 3)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: page fragments must not leak between tests."""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    cache = caches["default"]

    if isinstance(cache, RedisCache):
        # Only our keys: with no CACHE_URL the tests share the broker's db (tests/settings.py).
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{settings.CACHES['default']['KEY_PREFIX']}:*"))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()


def _user(username: str, role: str | None, **extra):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD, **extra)
    if role:
        # Transactional tests flush the groups the data migration made; make them again.
        user.groups.add(roles_ensure()[role])
    return user


@pytest.fixture
def viewer(db):
    return _user("vera-viewer", VIEWER)


@pytest.fixture
def operator(db):
    return _user("otto-operator", OPERATOR)


@pytest.fixture
def manager(db):
    return _user("mona-manager", MANAGER)


@pytest.fixture
def admin_user(db):
    return _user("ada-admin", None, is_staff=True, is_superuser=True)


@pytest.fixture
def csrf_client() -> Client:
    """A client that enforces CSRF like a browser would meet it."""
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def login(client):
    """Log the test client in as the given user and return the client."""

    def _login(user) -> Client:
        client.force_login(user)
        return client

    return _login


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Drive the system Chromium; never a downloaded browser."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def browser_login(live_server, page):
    """Log in through the real login form in Chromium; returns the page."""

    def _login(user):
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", user.get_username())
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        return page

    return _login


@pytest.fixture
def js_errors(page):
    """Collects JavaScript errors and console errors of the page; tests assert it stays empty."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return errors
