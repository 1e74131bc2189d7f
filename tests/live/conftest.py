"""A live run streamed through the API, as the stageloop pytest plugin streams one."""

from __future__ import annotations

import pytest
from django.test import Client

from runs.models import Suite
from runs.services.tokens import token_create
from tests.factories import ServiceFactory


def result(name: str, outcome: str = "passed", **extra) -> dict:
    """One streamed result of a test in tests/test_checkout.py."""
    return {
        "classname": "tests.test_checkout",
        "name": name,
        "outcome": outcome,
        "duration": 0.25,
        **extra,
    }


class LiveApi:
    """The three live-run calls, with one user's token."""

    def __init__(self, client: Client, token: str) -> None:
        self.client = client
        self.auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def start(self, **fields):
        body = {"service": "shop", "suite": "e2e", **fields}
        return self.client.post(
            "/api/v1/runs/live", body, content_type="application/json", **self.auth
        )

    def results(self, run_id: int, results: list[dict], **extra):
        return self.client.post(
            f"/api/v1/runs/{run_id}/results",
            {"results": results, **extra},
            content_type="application/json",
            **self.auth,
        )

    def finish(self, run_id: int, **data):
        return self.client.post(f"/api/v1/runs/{run_id}/finish", data, **self.auth)

    def started(self, **fields) -> int:
        response = self.start(**fields)
        assert response.status_code == 201, response.content
        return response.json()["id"]


@pytest.fixture
def suite(db) -> Suite:
    return Suite.objects.create(service=ServiceFactory(name="shop"), name="e2e")


@pytest.fixture
def live(operator, suite) -> LiveApi:
    return LiveApi(Client(), token_create(user=operator, name="ci")[1])


@pytest.fixture
def live_as(suite):
    def _as(user) -> LiveApi:
        return LiveApi(Client(), token_create(user=user, name="ci")[1])

    return _as


def checkout_report(*tests: tuple[str, str]) -> bytes:
    """A JUnit report as pytest writes it (its <testsuite> is named "pytest") of
    tests/test_checkout.py, with (name, outcome) per test."""
    cases = []
    for name, outcome in tests:
        inner = {
            "passed": "",
            "failed": '<failure message="AssertionError: total">assert 3 == 4</failure>',
            "error": '<error message="fixture failed">setup broke</error>',
            "skipped": '<skipped message="not today" />',
        }[outcome]
        cases.append(
            f'<testcase classname="tests.test_checkout" name="{name}" time="0.5">{inner}</testcase>'
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" '
        f'tests="{len(tests)}" time="1.5" timestamp="2026-11-30T09:00:00">'
        f"{''.join(cases)}</testsuite></testsuites>"
    ).encode()
