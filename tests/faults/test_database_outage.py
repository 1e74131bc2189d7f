"""PostgreSQL stops under a running web server: requests fail fast, recovery needs no restart.

gunicorn serves a Stageloop on the test's private PostgreSQL. The test stops the database, makes
requests (an error answer, not a hang; the page itself is not asserted here), starts it again,
and the next requests succeed without restarting gunicorn; an upload made during the outage left
no run, result or test case behind.
"""

from __future__ import annotations

import threading
import time

import httpx
import psycopg
import pytest

from tests.faults.conftest import Stageloop, wait_for
from tests.junit_reports import EXPECTED, JUNIT

# These tests run their own PostgreSQL whatever the pass's mode: the same test in both passes.
pytestmark = [pytest.mark.slow, pytest.mark.mode_free]

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


def _big_report(path, tests: int) -> None:
    """A JUnit report of `tests` test cases, some failing: a import that takes seconds."""
    cases = "".join(
        f'<testcase classname="tests.big_{i // 100}" name="test_{i}" time="0.01">'
        + ('<failure message="boom">AssertionError: boom</failure>' if i % 97 == 0 else "")
        + "</testcase>"
        for i in range(tests)
    )
    path.write_text(f'<testsuite name="big" tests="{tests}">{cases}</testsuite>')


def _importing(database_url: str) -> bool:
    """Whether a backend is inside a transaction writing an import (results or cases)."""
    with psycopg.connect(database_url, autocommit=True) as db:
        return bool(
            db.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
                "AND datname = current_database() AND xact_start IS NOT NULL "
                "AND (query ILIKE 'COPY%' OR query ILIKE 'INSERT INTO \"runs_test%')"
            ).fetchone()[0]
        )


def test_postgres_stopping_in_the_middle_of_an_upload_leaves_no_partial_run(
    tmp_path, private_postgres, private_redis
):
    database_url = private_postgres.createdb("stageloop")
    app = Stageloop(tmp_path / "var", database_url, private_redis.url())
    assert app.manage("migrate", "--no-input", "-v0").returncode == 0
    token = app.shell(SETUP).split("TOKEN", 1)[1].split()[0]
    report = tmp_path / "big.xml"
    _big_report(report, 40_000)
    before = _rows(database_url)
    answers: list[httpx.Response | BaseException] = []

    def upload(client: httpx.Client, url: str) -> None:
        try:
            with report.open("rb") as f:
                answers.append(
                    client.post(
                        f"{url}/api/v1/runs",
                        data={"service": "web", "suite": "e2e"},
                        files=[("files", ("big.xml", f, "application/xml"))],
                        headers={"Authorization": f"Bearer {token}"},
                    )
                )
        except BaseException as exc:  # reported below
            answers.append(exc)

    with app.gunicorn() as url, httpx.Client(timeout=60) as client:
        request = threading.Thread(target=upload, args=(client, url))
        request.start()
        caught = wait_for(lambda: answers or _importing(database_url), timeout=60, interval=0.02)
        assert caught and not answers, f"the upload ended before it could be interrupted: {answers}"
        private_postgres.stop("immediate")  # a crash, in the middle of the import's transaction
        request.join(timeout=60)
        assert not request.is_alive(), "the request hung after PostgreSQL stopped"
        (answer,) = answers
        assert isinstance(answer, httpx.Response) and answer.status_code >= 500, answer

        private_postgres.start()
        assert _rows(database_url) == before, "the interrupted upload left rows behind"
        again = client.get(f"{url}/api/v1/runs/1", headers={"Authorization": f"Bearer {token}"})
        assert again.status_code == 404, again.text  # the database answers again, no run 1
        upload(client, url)
    assert isinstance(answers[-1], httpx.Response) and answers[-1].status_code == 201, answers[-1]
    after = _rows(database_url)
    assert after["runs_testrun"] == before["runs_testrun"] + 1
    assert after["runs_testresult"] == 40_000
    # the analyze message and the new tests' search indexing, written with the run
    assert after["runs_outbox"] == 2
