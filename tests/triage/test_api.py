"""PUT and GET /api/v1/signatures/{id}/triage: Operators triage, everyone reads, bad input is a
400 with a sentence and writes nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from runs.models import TriageChange
from runs.services.tokens import token_create

pytestmark = pytest.mark.django_db


def bearer(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token_create(user=user, name='ci')[1]}"}


def put(signature_id: int, body: dict, headers: dict):
    return Client().put(
        f"/api/v1/signatures/{signature_id}/triage",
        body,
        content_type="application/json",
        **headers,
    )


def test_an_operator_marks_a_known_issue_and_reads_it_back(signature, analysis, operator):
    response = put(
        signature.pk,
        {"category": "known_issue", "analysis": analysis.pk, "comment": "gateway"},
        bearer(operator),
    )

    body = response.json()
    assert response.status_code == 200
    assert (body["category"], body["analysis"], body["by"]) == (
        "known_issue",
        analysis.pk,
        "otto-operator",
    )
    assert body["analysis_url"] == f"http://testserver/analyses/{analysis.pk}/"
    assert body["service"] == "shop" and body["suite"] == "e2e"
    assert [(c["previous"], c["category"]) for c in body["history"]] == [
        ("untriaged", "known_issue")
    ]


def test_a_viewer_reads_the_triage_but_may_not_set_it(signature, viewer):
    headers = bearer(viewer)

    refused = put(signature.pk, {"category": "test_bug"}, headers)
    read = Client().get(f"/api/v1/signatures/{signature.pk}/triage", **headers)

    assert refused.status_code == 403
    assert "vera-viewer (Viewer) may not triage failure signatures" in refused.json()["error"]
    assert read.status_code == 200 and read.json()["category"] == "untriaged"
    assert not TriageChange.objects.exists()


@pytest.mark.parametrize(
    ("body", "message", "field"),
    [
        (
            {"category": "wontfix"},
            "(category: Input should be",
            "category",
        ),
        ({"category": "known_issue"}, "A known issue names the analysis", "analysis"),
        (
            {"category": "known_issue", "analysis": 999999},
            "There is no analysis #999999",
            "analysis",
        ),
        ({"category": "known_issue", "analysis": "foreign"}, "about service billing", "analysis"),
        ({"category": "environment", "analysis": "own"}, "Only a known issue links", "analysis"),
        ({"category": "test_bug", "comment": "x" * 2001}, "comment", "comment"),
    ],
)
def test_bad_input_is_a_400_with_a_sentence_and_nothing_written(
    signature, analysis, foreign_analysis, operator, body, message, field
):
    ids = {"own": analysis.pk, "foreign": foreign_analysis.pk}
    body = {k: ids.get(v, v) if k == "analysis" else v for k, v in body.items()}

    response = put(signature.pk, body, bearer(operator))

    answer = response.json()
    assert response.status_code == 400
    assert message in answer["error"]
    assert answer["field"] == field
    assert not TriageChange.objects.exists()
    signature.refresh_from_db()
    assert signature.triage == "untriaged"


def test_an_unknown_signature_is_a_404_with_a_sentence(db, operator):
    response = put(424242, {"category": "test_bug"}, bearer(operator))

    assert response.status_code == 404
    assert "There is no failure signature with id 424242" in response.json()["error"]


def test_the_schema_documents_both_operations(db):
    schema = Client().get("/api/v1/openapi.json").json()

    operations = schema["paths"]["/api/v1/signatures/{signature_id}/triage"]
    assert set(operations) == {"get", "put"}
    assert "Needs the Operator role" in operations["put"]["description"]
    body = operations["put"]["requestBody"]["content"]["application/json"]["schema"]
    triage_in = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]
    assert triage_in["properties"]["category"]["enum"] == [
        "untriaged",
        "product_bug",
        "test_bug",
        "environment",
        "known_issue",
    ]
    assert {"400", "403", "404"} <= set(operations["put"]["responses"])
