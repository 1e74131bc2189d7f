"""PostgreSQL stops under a running web server: requests fail fast, recovery needs no restart.

gunicorn serves a Stageloop on the test's private PostgreSQL. The test stops the database, makes
requests (an error answer, not a hang; the page itself is not asserted here), starts it again,
and the next requests succeed without restarting gunicorn; an upload made during the outage left
no run, result or test case behind.
"""

from __future__ import annotations

import time

import httpx
import psycopg
import pytest

from tests.faults.conftest import Stageloop
from tests.junit_reports import EXPECTED, JUNIT

pytestmark = pytest.mark.slow

SETUP = """
from django.contrib.auth.models import User
from runs.models import Service, Suite
from runs.services.roles import roles_ensure
from runs.services.tokens import token_create

operator = User.objects.create_user("op", password="pw")
operator.groups.add(roles_ensure()["Operator"])
service = Service.objects.create(name="web", default_image="web:1")
Suite.objects.create(service=service, name="e2e", command=["true"])
print("TOKEN", token_create(user=operator, name="ci")[1])
"""


def _upload(client: httpx.Client, url: str, token: str, name: str) -> httpx.Response:
    with (JUNIT / name).open("rb") as report:
        return client.post(
            f"{url}/api/v1/runs",
            data={"service": "web", "suite": "e2e"},
            files=[("files", (name, report, "application/xml"))],
            headers={"Authorization": f"Bearer {token}"},
        )


def _rows(database_url: str) -> dict[str, int]:
    with psycopg.connect(database_url) as db:
        return {
            table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            for table in ("runs_testrun", "runs_testresult", "runs_testcase", "runs_outbox")
        }


def test_a_request_while_postgres_is_down_fails_fast_and_the_next_one_succeeds(
    tmp_path, private_postgres, private_redis
):
    database_url = private_postgres.createdb("stageloop")
    app = Stageloop(tmp_path / "var", database_url, private_redis.url())
    assert app.manage("migrate", "--no-input", "-v0").returncode == 0
    token = app.shell(SETUP).split("TOKEN", 1)[1].split()[0]

    with app.gunicorn() as url, httpx.Client(timeout=30) as client:
        first = _upload(client, url, token, "mocha.xml")
        assert first.status_code == 201, first.text
        before = _rows(database_url)

        private_postgres.stop()
        started = time.monotonic()
        during_upload = _upload(client, url, token, "pytest-fail.xml")
        during_page = client.get(
            f"{url}/api/v1/runs/{first.json()['id']}", headers={"Authorization": f"Bearer {token}"}
        )
        elapsed = time.monotonic() - started
        assert during_upload.status_code >= 500, during_upload.text
        assert during_page.status_code >= 500, during_page.text
        assert elapsed < 20, f"requests during the outage took {elapsed:.1f} s"

        private_postgres.start()
        page = client.get(
            f"{url}/api/v1/runs/{first.json()['id']}", headers={"Authorization": f"Bearer {token}"}
        )
        assert page.status_code == 200, page.text
        assert _rows(database_url) == before, "the upload during the outage left rows behind"

        again = _upload(client, url, token, "pytest-fail.xml")
        assert again.status_code == 201, again.text
        assert again.json()["total"] == EXPECTED["pytest-fail.xml"][0]
    after = _rows(database_url)
    assert after["runs_testrun"] == before["runs_testrun"] + 1
    assert after["runs_testresult"] == before["runs_testresult"] + EXPECTED["pytest-fail.xml"][0]
