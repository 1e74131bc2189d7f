"""A build's commit_time out of range is a 400 naming the field: stored, it used to make every
page showing the build a 500 on PostgreSQL (years past 9999 or before 1 in UTC) (issue 13)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from runs.models import Build
from runs.services.tokens import token_create
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(operator) -> Client:
    ServiceFactory(name="web")
    return Client(HTTP_AUTHORIZATION=f"Bearer {token_create(user=operator, name='ci')[1]}")


def _register(api: Client, commit_time: str):
    body = {"service": "web", "image": "web:1", "commit_time": commit_time}
    return api.post("/api/v1/builds", json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(
    "commit_time",
    [
        "9999-12-31T23:59:59-14:00",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59",
        "2101-01-01T00:00:00Z",
        "1969-12-31T23:59:59Z",
    ],
)
def test_a_commit_time_out_of_range_is_a_400_naming_it(api, commit_time):
    response = _register(api, commit_time)

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["field"] == "commit_time"
    assert "1970 to 2100" in body["error"]
    assert Build.objects.count() == 0


def test_a_commit_time_in_range_is_kept(api, viewer):
    response = _register(api, "2026-11-30T10:00:00+01:00")

    assert response.status_code == 201, response.content
    assert Build.objects.get().commit_time.isoformat() == "2026-11-30T09:00:00+00:00"
