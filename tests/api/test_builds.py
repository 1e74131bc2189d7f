"""POST /api/v1/builds: a build is never lost, even when the loop it is for cannot deploy it yet."""

from __future__ import annotations

import pytest

from runs.models import Build, Deploy, Loop
from runs.services.tokens import token_create
from tests.api.test_errors import SHAPE
from tests.loop.conftest import waiting_loop_behind_a_deploy

pytestmark = pytest.mark.django_db


@pytest.fixture
def auth(operator) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token_create(user=operator, name='ci')[1]}"}


def _register(client, auth, **fields):
    return client.post(
        "/api/v1/builds",
        {"service": "web", "image": "web:1.1", "commit_sha": "bbb222", **fields},
        content_type="application/json",
        **auth,
    )


def test_a_build_for_a_waiting_loop_while_another_deploy_runs_is_kept_and_answered_409(
    client, auth
):
    loop, active = waiting_loop_behind_a_deploy()

    response = _register(client, auth)

    assert response.status_code == 409
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) >= SHAPE
    assert body["code"] == "deploy_in_progress"
    build = Build.objects.get(commit_sha="bbb222")
    assert body["build"] == build.pk
    assert body["deploy"] == active.pk
    assert body["loops_waiting"] == [loop.pk]
    assert body["url"] == f"http://testserver/deploys/{active.pk}/"
    assert f"deploy #{active.pk}" in body["error"]
    assert body["url"] in body["error"]
    assert f"loop #{loop.pk}" in body["error"]
    assert body["error"].endswith(".")
    loop.refresh_from_db()
    assert loop.status == Loop.Status.WAITING
    assert Deploy.objects.filter(build=build).count() == 0


def test_a_build_for_a_waiting_loop_on_a_free_service_is_deployed_at_once(client, auth):
    loop, active = waiting_loop_behind_a_deploy()
    Deploy.objects.filter(pk=active.pk).update(status="succeeded")

    response = _register(client, auth)

    assert response.status_code == 201
    assert response.json()["loops_resumed"] == [loop.pk]
    assert loop.iterations.get(number=2).build.commit_sha == "bbb222"


def test_the_schema_documents_the_409_of_register_build(client):
    schema = client.get("/api/v1/openapi.json").json()

    responses = schema["paths"]["/api/v1/builds"]["post"]["responses"]
    ref = responses["409"]["content"]["application/json"]["schema"]["$ref"]
    conflict = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert set(conflict["properties"]) >= SHAPE | {"url", "build", "deploy", "loops_waiting"}
    assert all(prop.get("description") for prop in conflict["properties"].values())
    assert "409" in schema["info"]["description"]
