"""The test-state API the stageloop client relies on: lookup, list, change, history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from runs.models import OwnerRule, TestStateChange
from runs.services import states as services
from runs.services.tokens import token_create
from tests.factories import CaseFactory, ServiceFactory, SuiteFactory

pytestmark = pytest.mark.django_db

BASE = "/api/v1/services/web/suites/e2e/tests"


@pytest.fixture
def e2e():
    return SuiteFactory(service=ServiceFactory(name="web"), name="e2e")


@pytest.fixture
def shop(e2e):
    made = {
        name: CaseFactory(
            suite=e2e,
            key=f"e2e::tests.test_shop::{name}",
            classname="tests.test_shop",
            name=name,
            file="tests/test_shop.py",
        )
        for name in ("test_cart", "test_pay", "test_slow")
    }
    services.test_state_set(case=made["test_pay"], state="quarantined", reason="flaky pay")
    services.test_state_set(case=made["test_slow"], state="disabled", reason="takes 10 min")
    return made


def bearer(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token_create(user=user, name='ci')[1]}"}


def ref(name: str, classname: str = "tests.test_shop") -> dict:
    return {"classname": classname, "name": name, "file": "tests/test_shop.py"}


def test_lookup_answers_each_test_in_the_order_asked(client, viewer, shop):
    asked = [ref("test_slow"), ref("test_new"), ref("test_cart"), ref("test_pay")]

    response = client.post(
        f"{BASE}/lookup", {"tests": asked}, content_type="application/json", **bearer(viewer)
    )

    assert response.status_code == 200
    body = response.json()
    assert body["suite"] == "e2e"
    assert [(t["name"], t["state"]) for t in body["tests"]] == [
        ("test_slow", "disabled"),
        ("test_new", "new"),
        ("test_cart", "active"),
        ("test_pay", "quarantined"),
    ]
    pay = body["tests"][3]
    assert pay["reason"] == "flaky pay" and pay["since"] and pay["expires_at"] is None
    assert set(pay) == {
        "classname",
        "name",
        "state",
        "reason",
        "since",
        "expires_at",
        "owner",
        "owner_kind",
    }


def test_lookup_matches_on_classname_too(client, viewer, shop):
    body = client.post(
        f"{BASE}/lookup",
        {"tests": [ref("test_pay", classname="tests.other")]},
        content_type="application/json",
        **bearer(viewer),
    ).json()
    assert body["tests"][0]["state"] == "new"


def test_lookup_refuses_more_than_20000_tests(client, viewer, shop):
    asked = [ref(f"t{i}") for i in range(20_001)]
    response = client.post(
        f"{BASE}/lookup", {"tests": asked}, content_type="application/json", **bearer(viewer)
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


@pytest.mark.parametrize(
    "path", ["/api/v1/services/nope/suites/e2e", "/api/v1/services/web/suites/nope"]
)
def test_an_unknown_service_or_suite_is_a_404(client, viewer, shop, path):
    response = client.post(
        f"{path}/tests/lookup", {"tests": []}, content_type="application/json", **bearer(viewer)
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert client.get(f"{path}/tests/states", **bearer(viewer)).status_code == 404


def test_the_list_holds_the_non_active_tests(client, viewer, shop):
    body = client.get(f"{BASE}/states", **bearer(viewer)).json()

    assert [(t["name"], t["state"]) for t in body["tests"]] == [
        ("test_pay", "quarantined"),
        ("test_slow", "disabled"),
    ]
    pay = body["tests"][0]
    assert pay["id"] == shop["test_pay"].pk
    assert pay["file"] == "tests/test_shop.py"
    assert pay["by"] is None and pay["automatic"] is False
    assert pay["url"].endswith(f"/tests/{shop['test_pay'].pk}/")
    only = client.get(f"{BASE}/states?state=disabled", **bearer(viewer)).json()
    assert [t["name"] for t in only["tests"]] == ["test_slow"]


def test_an_operator_quarantines_a_test_with_an_expiry(client, operator, shop):
    expires = (timezone.now() + timedelta(days=7)).isoformat()
    response = client.put(
        f"{BASE}/state",
        {**ref("test_cart"), "state": "quarantined", "reason": "race", "expires_at": expires},
        content_type="application/json",
        **bearer(operator),
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["state"], body["reason"], body["by"]) == ("quarantined", "race", operator.username)
    assert body["expires_at"] is not None
    assert body["id"] == shop["test_cart"].pk


def test_a_change_without_a_reason_is_a_400_on_the_reason(client, operator, shop):
    response = client.put(
        f"{BASE}/state",
        {**ref("test_cart"), "state": "disabled"},
        content_type="application/json",
        **bearer(operator),
    )
    assert response.status_code == 400
    assert response.json()["field"] == "reason"


def test_an_unknown_test_is_a_404(client, operator, shop):
    response = client.put(
        f"{BASE}/state",
        {**ref("test_gone"), "state": "active"},
        content_type="application/json",
        **bearer(operator),
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_viewer_may_not_change_a_state(client, viewer, shop):
    response = client.put(
        f"{BASE}/state",
        {**ref("test_pay"), "state": "active"},
        content_type="application/json",
        **bearer(viewer),
    )
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert TestStateChange.objects.filter(case=shop["test_pay"]).count() == 1


def test_making_a_test_active_again(client, operator, shop):
    body = client.put(
        f"{BASE}/state",
        {**ref("test_pay"), "state": "active"},
        content_type="application/json",
        **bearer(operator),
    ).json()
    assert body["state"] == "active" and body["reason"] == ""
    assert [
        t["name"] for t in client.get(f"{BASE}/states", **bearer(operator)).json()["tests"]
    ] == ["test_slow"]


def test_the_history_is_newest_first(client, viewer, operator, shop):
    case = shop["test_pay"]
    services.test_state_set(case=case, state="active", user=operator)

    body = client.get(f"/api/v1/tests/{case.pk}/states", **bearer(viewer)).json()

    assert body["test"] == case.pk
    assert [(h["state"], h["by"]) for h in body["history"]] == [
        ("active", operator.username),
        ("quarantined", None),
    ]
    assert set(body["history"][0]) == {"state", "reason", "by", "at", "automatic", "evidence"}
    assert client.get("/api/v1/tests/987654/states", **bearer(viewer)).status_code == 404


@pytest.fixture
def owned(e2e, operator):
    """test_pay is the payments team's (a later rule than the operator's, which owns the rest)."""
    payments = Group.objects.create(name="payments")
    OwnerRule.objects.create(suite=e2e, position=1, field="file", pattern="tests/*", user=operator)
    OwnerRule.objects.create(
        suite=e2e, position=2, field="name", pattern="test_pay*", team=payments
    )
    return payments


def test_the_list_names_each_tests_owner_and_its_kind(client, viewer, shop, owned):
    body = client.get(f"{BASE}/states", **bearer(viewer)).json()

    assert [(t["name"], t["owner"], t["owner_kind"]) for t in body["tests"]] == [
        ("test_pay", "payments", "team"),
        ("test_slow", "otto-operator", "user"),
    ]


def test_the_lookup_names_each_tests_owner_from_its_file_or_the_known_one(
    client, viewer, shop, owned
):
    asked = [
        ref("test_pay"),
        {"classname": "tests.test_shop", "name": "test_cart"},  # no file: the known test's
        {"classname": "x", "name": "test_new", "file": "elsewhere/test_x.py"},
    ]

    body = client.post(
        f"{BASE}/lookup", {"tests": asked}, content_type="application/json", **bearer(viewer)
    ).json()

    assert [(t["owner"], t["owner_kind"]) for t in body["tests"]] == [
        ("payments", "team"),
        ("otto-operator", "user"),
        (None, None),
    ]


def test_without_owner_rules_every_owner_is_null(client, viewer, shop):
    body = client.post(
        f"{BASE}/lookup",
        {"tests": [ref("test_pay")]},
        content_type="application/json",
        **bearer(viewer),
    ).json()
    listed = client.get(f"{BASE}/states", **bearer(viewer)).json()

    assert body["tests"][0]["owner"] is None and body["tests"][0]["owner_kind"] is None
    assert all(t["owner"] is None and t["owner_kind"] is None for t in listed["tests"])


def test_the_schema_documents_the_owner(client):
    schemas = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    for name in ("LookedUpOut", "TestStateOut"):
        fields = schemas[name]["properties"]
        assert fields["owner"]["description"] and fields["owner_kind"]["description"]


def test_the_schema_documents_the_state_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/services/{service}/suites/{suite}/tests/lookup",
        "/api/v1/services/{service}/suites/{suite}/tests/states",
        "/api/v1/services/{service}/suites/{suite}/tests/state",
        "/api/v1/tests/{test_id}/states",
    ):
        operation = next(iter(paths[path].values()))
        assert operation["summary"] and operation["description"]


def test_a_lookup_of_20000_tests_with_long_names_fits_in_one_request(client, viewer, shop):
    long = "tests.integration.payments.refunds.test_partial_refunds.TestPartialRefunds"
    asked = [
        {"classname": long, "name": f"test_refund_{i}[card-eur-3ds]", "file": f"{long}.py"}
        for i in range(20_000)
    ]
    response = client.post(
        f"{BASE}/lookup", {"tests": asked}, content_type="application/json", **bearer(viewer)
    )
    assert response.status_code == 200
    assert len(response.json()["tests"]) == 20_000
