"""Capabilities: patterns map tests; status from each test's latest result; risks."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from reports.models import Capability
from reports.patterns import PatternError, glob_to_regex, parse_patterns
from reports.scope import Scope
from reports.summary import summary_build

from .conftest import END, START

pytestmark = pytest.mark.django_db


def _statuses(chat_tests):
    summary = summary_build(scope=Scope(start=START, end=END, services=()))
    return {c.name: c for c in summary.capabilities}, summary


def test_a_failing_test_makes_its_capability_failing_and_is_listed_behind_it(chat_tests):
    Capability.objects.create(name="WebSocket chat", patterns="class:TestWebSocket")

    caps, summary = _statuses(chat_tests)

    chat = caps["WebSocket chat"]
    assert (chat.status, chat.status_text) == ("failing", "1 of 3 tests failing")
    assert (chat.total, chat.passing, chat.failing, chat.flaky) == (3, 1, 1, 1)
    assert {(t.key, t.outcome) for t in chat.behind} == {
        ("tests/test_ws.py::test_reconnect", "failed"),
        ("tests/test_ws.py::test_slow_burst", "flaky"),
    }
    assert {r.key for r in summary.risks} == {
        "tests/test_ws.py::test_reconnect",
        "tests/test_ws.py::test_slow_burst",
    }


def test_a_capability_is_green_from_the_latest_result_of_each_test(chat_tests):
    # test_logout did not run in the newer run: its latest result (older run) passed.
    Capability.objects.create(name="Authentication", patterns="file:tests/test_auth.py")

    caps, _ = _statuses(chat_tests)

    assert (caps["Authentication"].status, caps["Authentication"].status_text) == (
        "green",
        "all 2 tests passing",
    )


def test_globs_match_any_field_case_insensitively_and_exclusions_apply(chat_tests):
    Capability.objects.create(name="Chat minus slow", patterns="*WS*\n!name:*slow*")
    Capability.objects.create(name="Nothing", patterns="name:test_payment_*")

    caps, _ = _statuses(chat_tests)

    assert caps["Chat minus slow"].total == 2
    assert (caps["Nothing"].status, caps["Nothing"].status_text) == ("no_tests", "no tests mapped")


def test_a_capability_limited_to_services_ignores_other_services(chat_tests):
    from tests.factories import ServiceFactory

    cap = Capability.objects.create(name="Elsewhere", patterns="*")
    cap.services.add(ServiceFactory())

    caps, _ = _statuses(chat_tests)

    assert caps["Elsewhere"].total == 0


def test_glob_special_characters_are_literal():
    assert glob_to_regex("a.b(c)*?") == r"^a\.b\(c\).*.$"


@pytest.mark.parametrize(
    ("text", "message"),
    [("!*slow*", "at least one pattern that includes"), ("name:", "Line 1 has no pattern")],
)
def test_bad_patterns_are_refused_with_a_sentence(text, message):
    with pytest.raises(PatternError, match=message):
        parse_patterns(text)
    with pytest.raises(ValidationError):
        Capability(name="x", patterns=text).full_clean()


def test_a_manager_creates_a_capability_in_the_ui(manager, login, chat_tests):
    client = login(manager)

    response = client.post(
        reverse("reports:capability-create"),
        {"name": "Authentication", "patterns": "class:TestAuth", "position": "1"},
    )

    cap = Capability.objects.get()
    assert response.status_code == 302
    page = client.get(cap.get_absolute_url(), {"start": START, "end": END}).content.decode()
    assert "tests/test_auth.py::test_login" in page and "all 2 tests passing" in page


def test_a_bad_pattern_in_the_ui_saves_nothing(manager, login):
    response = login(manager).post(
        reverse("reports:capability-create"),
        {"name": "x", "patterns": "!only-excludes", "position": "0"},
    )

    assert response.status_code == 400
    assert "at least one pattern that includes" in response.content.decode()
    assert Capability.objects.count() == 0


def test_operators_and_viewers_cannot_edit_capabilities(operator, viewer, login):
    for user in (operator, viewer):
        response = login(user).post(
            reverse("reports:capability-create"), {"name": "x", "patterns": "*", "position": "0"}
        )
        assert response.status_code == 403
    assert Capability.objects.count() == 0


def test_a_capability_stored_with_unreadable_patterns_is_shown_as_such_not_a_500(
    chat_tests, login, manager
):
    # Stored without the form's validation (a shell, a data migration, an older version).
    broken = Capability.objects.create(name="Broken", patterns="class:" + "x" * 400)
    Capability.objects.create(name="WebSocket chat", patterns="class:TestWebSocket")

    caps, _ = _statuses(chat_tests)
    client = login(manager)
    summary = client.get(reverse("reports:summary"))
    detail = client.get(reverse("reports:capability-detail", args=[broken.pk]))

    assert caps["Broken"].status == "invalid"
    assert "longer than 300 characters" in caps["Broken"].status_text
    assert caps["WebSocket chat"].status == "failing"  # the others are still judged
    assert summary.status_code == 200
    assert "longer than 300 characters" in summary.content.decode()
    assert detail.status_code == 200
    assert "longer than 300 characters" in detail.content.decode()
