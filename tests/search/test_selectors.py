"""runs.selectors.search: each kind found by what people type, case-insensitive, literally."""

from __future__ import annotations

import pytest

from runs.params import BadParam
from runs.selectors.search import (
    COUNT_CAP,
    KINDS,
    search_all,
    search_group,
    search_query_clean,
    signature_latest_result,
)
from tests.factories import CaseFactory, ServiceFactory


def titles(q: str, kind: str) -> list[str]:
    return [h.title for h in search_group(q=q, kind=kind, limit=10).hits]


def test_a_test_is_found_by_its_name_file_and_classname_in_any_case(world):
    for q in ("REDIRECTS_home", "auth/test_login", "test_login.py", "loginflow", "tests.auth.T"):
        assert titles(q, "tests") == ["test_redirects_home"], q


def test_a_service_is_found_by_its_name_or_display_name(world):
    assert titles("CHECKOUT-a", "services") == ["Checkout API"]
    assert titles("kout ap", "services") == ["Checkout API"]


def test_a_suite_is_found_by_its_name(world):
    group = search_group(q="E2E-sm", kind="suites", limit=10)
    assert [(h.title, h.detail) for h in group.hits] == [("e2e-smoke", "checkout-api")]
    assert group.hits[0].url == f"/suites/{world['suite'].pk}/"


def test_a_revision_is_found_by_its_name_or_commit(world):
    assert titles("00042-ABC", "revisions") == ["checkout-api-00042-abc"]
    assert titles("BEEFCAFE", "revisions") == ["checkout-api-00042-abc"]


def test_a_failure_is_found_by_its_normalized_or_example_message(world):
    assert len(titles("expected <n> got", "failures")) == 1
    assert len(titles("got 500", "failures")) == 1  # only the example holds the numbers
    hit = search_group(q="got 500", kind="failures", limit=10).hits[0]
    assert hit.url == f"/search/failures/{world['signature'].pk}"
    assert hit.detail == "checkout-api / e2e-smoke · failure"


def test_percent_underscore_quote_and_backslash_are_searched_literally(world):
    assert titles("100%_off", "tests") == ["test_100%_off"]  # not test_100x_off
    assert titles("100_", "tests") == []
    assert titles("t_100%", "tests") == ["test_100%_off"]
    assert len(titles("O'Brien", "failures")) == 1
    assert len(titles("C:\\shop\\cart", "failures")) == 1
    assert titles("C:\\\\shop", "failures") == []


def test_a_text_without_three_letters_or_digits_in_a_row_searches_only_services_and_suites(
    world,
):
    ServiceFactory(name="db", display_name="")
    groups = {g.kind: g for g in search_all(q="DB", limit=5)}
    assert [h.title for h in groups["services"].hits] == ["db"]
    assert groups["suites"].searched
    assert not any(groups[k].searched for k in ("tests", "revisions", "failures"))
    assert not search_group(q="_%", kind="tests", limit=5).searched


def test_every_kind_is_answered_in_order_even_when_nothing_matches(world):
    groups = search_all(q="no such thing", limit=5)
    assert [g.kind for g in groups] == list(KINDS)
    assert all(g.hits == [] and g.count == 0 for g in groups)


def test_counts_stop_past_the_cap_and_hits_stay_bounded(world):
    CaseFactory.create_batch(COUNT_CAP + 1, suite=world["suite"], name="test_bulk")
    group = search_group(q="test_bulk", kind="tests", limit=10)
    assert len(group.hits) == 10
    assert group.capped and group.shown_count == "1,000+"


def test_each_kind_asks_at_most_two_queries(world, django_assert_max_num_queries):
    with django_assert_max_num_queries(2 * len(KINDS)):
        groups = search_all(q="checkout", limit=10)
    assert [g.count for g in groups] == [1, 0, 0, 1, 0]


def test_tests_are_listed_newest_first_and_services_by_name(world):
    newer = CaseFactory(suite=world["suite"], name="test_redirects_away")
    assert titles("redirects", "tests") == ["test_redirects_away", "test_redirects_home"]
    assert titles("redirects", "tests")[0] == newer.name
    ServiceFactory(name="a-checkout", display_name="")
    assert titles("checkout", "services") == ["a-checkout", "Checkout API"]


def test_a_failure_leads_to_its_newest_result(world):
    assert signature_latest_result(signature_id=world["signature"].pk) == (
        world["new_run"].pk,
        "test_redirects_home",
    )


@pytest.mark.parametrize("raw", ["", " ", "a", " a "])
def test_a_query_shorter_than_two_characters_searches_nothing(raw):
    assert search_query_clean(raw) is None


def test_a_query_is_stripped_and_kept_as_typed():
    assert search_query_clean("  Test_Login  ") == "Test_Login"


def test_a_query_longer_than_200_characters_is_refused_with_a_sentence():
    assert search_query_clean("x" * 200) == "x" * 200
    with pytest.raises(BadParam, match="201 characters long; search for at most 200") as exc:
        search_query_clean("x" * 201)
    assert exc.value.name == "q"
