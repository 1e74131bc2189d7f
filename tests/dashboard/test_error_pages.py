"""404, 403, 400 and 500 are Stageloop pages: styled, one sentence, a way back, an honest log."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from tests.factories import ServiceFactory, SuiteFactory

ROOT = Path(__file__).resolve().parents[2]
# What Django's technical pages (DEBUG=True) say; none of our pages may.
TECHNICAL = ("seeing this error because", "Traceback", "DEBUG = True")


def assert_our_page(response, status: int) -> str:
    page = response.content.decode()
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    assert "css/stageloop.css" in page  # the look of templates/base.html
    assert f'id="error-page" data-status="{status}"' in page
    assert 'id="error-overview" href="/"' in page
    assert not any(marker in page for marker in TECHNICAL)
    return page


def request_log(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "django.request"]


@pytest.mark.django_db
def test_an_unknown_address_is_a_styled_404_with_a_link_back(login, viewer):
    response = login(viewer).get("/no-such-page/", HTTP_REFERER="http://testserver/services/chat/")

    page = assert_our_page(response, 404)
    assert "There is no page at /no-such-page/" in page
    assert 'id="error-back" href="http://testserver/services/chat/"' in page


@pytest.mark.django_db
def test_a_missing_row_is_the_same_styled_404(login, viewer):
    page = assert_our_page(login(viewer).get("/runs/987654/"), 404)

    assert "There is no page at /runs/987654/" in page


@pytest.mark.django_db
def test_a_link_back_never_points_to_another_site(login, viewer):
    response = login(viewer).get("/no-such-page/", HTTP_REFERER="https://evil.example/phish")

    page = assert_our_page(response, 404)
    assert "evil.example" not in page


@pytest.mark.django_db
def test_a_permission_denial_is_a_styled_403_logged_as_one_line(login, viewer, caplog):
    suite = SuiteFactory(service=ServiceFactory(name="web"))

    with caplog.at_level(logging.INFO):
        response = login(viewer).post(f"/suites/{suite.pk}/upload")

    page = assert_our_page(response, 403)
    assert "vera-viewer" in page
    assert "Viewer" in page
    records = request_log(caplog)
    assert len(records) == 1
    assert records[0].levelname == "WARNING"
    assert records[0].exc_info is None
    assert "vera-viewer" in records[0].getMessage()
    assert f"/suites/{suite.pk}/upload" in records[0].getMessage()


@pytest.mark.django_db
def test_a_refused_csrf_token_is_a_styled_403_that_says_to_reload(csrf_client, operator):
    ServiceFactory(name="chat")
    csrf_client.force_login(operator)

    response = csrf_client.post(reverse("deploy-and-test", args=["chat"]))

    page = assert_our_page(response, 403)
    assert "reload the page" in page


@pytest.mark.django_db
def test_a_bad_request_is_a_styled_400(client):
    response = client.get("/", HTTP_HOST="not-allowed.example")

    page = assert_our_page(response, 400)
    assert "could not be understood" in page


@pytest.mark.django_db
def test_an_unexpected_error_is_a_styled_500_and_its_traceback_is_logged_once(
    login, viewer, monkeypatch, caplog
):
    def broken(**_):
        raise RuntimeError("secret detail of the failure")

    monkeypatch.setattr("dashboard.views.service_cards", broken)
    client = login(viewer)
    client.raise_request_exception = False

    with caplog.at_level(logging.INFO):
        response = client.get("/")

    page = assert_our_page(response, 500)
    assert "secret detail" not in page
    records = request_log(caplog)
    assert len(records) == 1
    assert records[0].levelname == "ERROR"
    assert records[0].exc_info is not None
    reference = re.search(r"reference ([0-9a-f]{8})", page).group(1)
    assert f"reference {reference}" in records[0].getMessage()


# `make run` sets DEBUG=1. A separate process loads the real settings that way (pytest-django
# would force DEBUG off in this one), migrates a fresh SQLite file and makes each error happen.
MAKE_RUN_SCRIPT = """
import json, sys
import django
django.setup()
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
call_command("migrate", verbosity=0)
from runs.services.roles import roles_ensure
viewer = User.objects.create_user("vera-viewer")
viewer.groups.add(roles_ensure()["Viewer"])
import dashboard.views
def broken(**_):
    raise RuntimeError("boom")
dashboard.views.service_cards = broken
client = Client(HTTP_HOST="localhost")
client.raise_request_exception = False
client.force_login(viewer)
answers = {}
for case, method, path in [
    ("404", "get", "/no-such-page/"),
    ("403", "post", "/services/chat/deploy"),
    ("500", "get", "/"),
]:
    print(f"=== {case}", file=sys.stderr, flush=True)
    response = getattr(client, method)(path)
    answers[case] = [response.status_code, response.content.decode()]
print(f"=== end", file=sys.stderr, flush=True)
print(json.dumps(answers))
"""


@pytest.fixture(scope="module")
def make_run_mode(tmp_path_factory):
    """Status, page and stderr of each error, in a process set up like `make run`."""
    var = tmp_path_factory.mktemp("make-run-var")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    env.update(DEBUG="1", STAGELOOP_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="dashboard.settings")
    env.pop("SECRET_KEY", None)
    result = subprocess.run(
        [sys.executable, "-c", MAKE_RUN_SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    logs = {}
    for chunk in result.stderr.split("=== ")[1:]:
        case, _, text = chunk.partition("\n")
        logs[case] = text
    return {case: (status, page, logs[case]) for case, (status, page) in answers.items()}


@pytest.mark.parametrize("status", ["404", "403", "500"])
def test_make_run_mode_never_shows_the_debug_page(make_run_mode, status):
    answered, page, _log = make_run_mode[status]

    assert answered == int(status)
    assert "css/stageloop.css" in page
    assert f'data-status="{status}"' in page
    assert not any(marker in page for marker in TECHNICAL)


def test_make_run_mode_logs_a_403_as_one_line_without_a_traceback(make_run_mode):
    _status, _page, log = make_run_mode["403"]

    forbidden = [line for line in log.splitlines() if "Forbidden" in line]

    assert "Traceback" not in log
    assert len(forbidden) == 1
    assert "vera-viewer" in forbidden[0]


def test_make_run_mode_logs_a_500_with_its_traceback_once(make_run_mode):
    _status, _page, log = make_run_mode["500"]

    assert log.count("Traceback") == 1
    assert "RuntimeError: boom" in log


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_in_the_browser_a_404_says_what_happened_and_leads_back(
    browser_login, viewer, live_server, js_errors
):
    page = browser_login(viewer)

    page.goto(f"{live_server.url}/runs/987654/")

    assert page.locator("#error-page h1").inner_text() == "Page not found"
    assert "There is no page at /runs/987654/" in page.locator("#error-sentence").inner_text()
    assert page.locator("header.top nav").is_visible()
    page.click("#error-overview")
    page.wait_for_url(f"{live_server.url}/")
    # Chromium reports the document's own 404 status on the console; nothing else may fail.
    assert [e for e in js_errors if "status of 404" not in e] == []
