"""GET the verdict with a token, by revision id and by service and revision name."""

from __future__ import annotations

import pytest

from runs.services.gates import gate_evaluate
from runs.services.tokens import token_create
from tests.api.test_errors import SHAPE
from tests.pages.conftest import make_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def auth(viewer) -> dict:  # any role may read
    return {"HTTP_AUTHORIZATION": f"Bearer {token_create(user=viewer, name='ci')[1]}"}


def test_both_paths_return_the_latest_verdict_and_its_rules(client, auth, suite, cases, revisions):
    revision = revisions[0]
    make_run(suite, dict.fromkeys(cases, "passed"), revision=revision)
    run = make_run(suite, {cases[0]: "failed", cases[1]: "passed"}, revision=revision)
    verdict = gate_evaluate(run=run)
    assert verdict is not None

    by_id = client.get(f"/api/v1/revisions/{revision.pk}/verdict", **auth)
    by_name = client.get(
        f"/api/v1/services/{suite.service.name}/revisions/{revision.name}/verdict", **auth
    )

    assert by_id.status_code == 200, by_id.content
    assert by_id.json() == by_name.json()
    body = by_id.json()
    assert body["id"] == verdict.pk and body["outcome"] == "fail"
    assert body["revision"] == revision.name and body["service"] == suite.service.name
    assert body["run"] == run.pk
    assert body["run_url"] == f"http://testserver{run.get_absolute_url()}"
    goal = next(r for r in body["rules"] if r["key"] == "goal")
    assert goal["outcome"] == "fail" and goal["threshold"] == "0 failed or errored"
    assert goal["evidence"] == [
        {"label": f"run #{run.pk}", "url": f"http://testserver{run.get_absolute_url()}"}
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/revisions/{rev}/verdict",  # no verdict yet
        "/api/v1/revisions/999999/verdict",
        "/api/v1/services/{svc}/revisions/{name}/verdict",
        "/api/v1/services/nope/revisions/{name}/verdict",
        "/api/v1/services/{svc}/revisions/nope/verdict",
    ],
)
def test_404_in_the_error_shape(client, auth, revisions, path):
    revision = revisions[0]
    response = client.get(
        path.format(rev=revision.pk, svc=revision.service.name, name=revision.name), **auth
    )
    assert response.status_code == 404
    assert set(response.json()) == SHAPE
    assert response.json()["code"] == "not_found"


def test_without_a_token_401(client, revisions):
    assert client.get(f"/api/v1/revisions/{revisions[0].pk}/verdict").status_code == 401


def test_the_schema_documents_both_operations(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/revisions/{revision_id}/verdict",
        "/api/v1/services/{name}/revisions/{revision_name}/verdict",
    ):
        operation = paths[path]["get"]
        assert "verdict" in operation["summary"]
        assert "VerdictOut" in str(operation["responses"]["200"])
        assert "ErrorOut" in str(operation["responses"]["404"])
