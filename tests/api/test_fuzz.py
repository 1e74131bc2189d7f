"""The API fuzzed against its own OpenAPI schema (schemathesis): no 500, no schema violation.

Every operation in the schema gets FUZZ_EXAMPLES generated requests that fit the schema and as
many that break it, derandomized so a failure reproduces; STAGELOOP_FUZZ_EXAMPLES raises the
bound for a longer hunt. Requests go in-process through Django's WSGI application, with an
Operator's token, against a service and suite that exist.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from runs.models import Suite
from runs.services.tokens import token_create
from tests.factories import ServiceFactory

# Every check but "schema-valid data is accepted": a request can fit the schema and still be
# refused for what it says (a service that does not exist, a build of a busy service), and
# schemathesis sends binary array items as plain form fields, which are not files.
ACCEPTS_VALID = schemathesis.checks.positive_data_acceptance
FUZZ_EXAMPLES = int(os.environ.get("STAGELOOP_FUZZ_EXAMPLES", "50"))
EXISTING = {"service": "web", "suite": "e2e"}
pytestmark = pytest.mark.django_db


@pytest.fixture
def api_schema(db):
    """The schema, called in-process through Django's WSGI application. As Django's test client
    does, requests must not close the test's database connection when they end."""
    from dashboard.wsgi import application

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def token_headers(operator) -> dict:
    service = ServiceFactory(name="web")
    Suite.objects.create(service=service, name="e2e")
    return {"Authorization": f"Bearer {token_create(user=operator, name='fuzz')[1]}"}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_answers_every_generated_request_within_its_schema(api_schema, token_headers, mode):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.label for op in operations} >= {
        "POST /api/v1/runs",
        "GET /api/v1/runs/{run_id}",
        "POST /api/v1/builds",
        "POST /api/v1/runs/live",
        "POST /api/v1/runs/{run_id}/results",
        "POST /api/v1/runs/{run_id}/finish",
        "GET /api/v1/signatures/{signature_id}/triage",
        "PUT /api/v1/signatures/{signature_id}/triage",
    }
    calls: dict[str, list[int]] = {}
    for operation in operations:
        _fuzz(operation, mode, token_headers, calls.setdefault(operation.label, []))
    total = sum(len(s) for s in calls.values())
    print(f"{mode.value}: {total} requests;", {label: sorted(set(s)) for label, s in calls.items()})
    assert all(statuses for statuses in calls.values())
    assert not [s for statuses in calls.values() for s in statuses if s >= 500]


def _fuzz(operation, mode, headers: dict, statuses: list[int]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case):
        if mode == GenerationMode.POSITIVE and isinstance(case.body, dict):
            # Name the service and suite that exist, so valid requests reach the importer and
            # the build registry instead of stopping at "no such service".
            case.body.update({k: v for k, v in EXISTING.items() if k in case.body})
        response = case.call_and_validate(headers=headers, excluded_checks=[ACCEPTS_VALID])
        statuses.append(response.status_code)

    fuzz()
