"""GET /search, the typeahead partial and a failure's link: grouping, links, bad input, login."""

from __future__ import annotations

import re

from django.urls import reverse

from tests.factories import CaseFactory


def test_the_results_page_groups_hits_by_kind_with_counts_and_links(world, login, viewer):
    client = login(viewer)
    response = client.get("/search", {"q": "checkout"})
    assert response.status_code == 200
    html = response.content.decode()
    kinds = re.findall(r'<section class="card search-group[ \w]*" id="results-(\w+)"', html)
    assert kinds == ["services", "suites", "tests", "revisions", "failures"]
    assert 'href="/services/checkout-api/"' in html
    assert f'href="/revisions/{world["revision"].pk}/"' in html
    assert "No tests match." in html  # no test name, file or classname says checkout

    response = client.get("/search", {"q": "login"})
    html = response.content.decode()
    assert f'href="/tests/{world["login"].pk}/">test_redirects_home</a>' in html
    assert 'search-count">1</span>' in html


def test_a_kind_with_more_hits_than_shown_links_to_its_own_pages(world, login, viewer):
    CaseFactory.create_batch(60, suite=world["suite"], name="test_many")
    client = login(viewer)

    html = client.get("/search", {"q": "test_many"}).content.decode()
    assert html.count('<li><a href="/tests/') == 10
    assert 'href="?q=test_many&amp;kind=tests">All 60 tests →' in html

    page1 = client.get("/search", {"q": "test_many", "kind": "tests"}).content.decode()
    assert page1.count('<li><a href="/tests/') == 50
    assert 'rel="next" href="?q=test_many&amp;kind=tests&amp;page=2"' in page1
    page2 = client.get("/search", {"q": "test_many", "kind": "tests", "page": "2"})
    assert page2.content.decode().count('<li><a href="/tests/') == 10
    assert 'rel="next"' not in page2.content.decode()


def test_a_short_query_is_answered_with_a_sentence_and_no_search(world, login, viewer):
    response = login(viewer).get("/search", {"q": "x"})
    assert response.status_code == 200
    assert "“x” is too short to search: type at least 2 characters." in response.content.decode()
    assert "search-group" not in response.content.decode()


def test_a_too_long_query_is_a_400_with_a_sentence(world, login, viewer):
    response = login(viewer).get("/search", {"q": "y" * 300})
    assert response.status_code == 400
    assert "search for at most 200 characters" in response.content.decode()

    partial = login(viewer).get("/search/typeahead", {"q": "y" * 300})
    assert partial.status_code == 400
    assert "search for at most 200 characters" in partial.content.decode()


def test_bad_kind_or_page_is_a_400(world, login, viewer):
    client = login(viewer)
    assert client.get("/search", {"q": "login", "kind": "users"}).status_code == 400
    assert client.get("/search", {"q": "login", "kind": "tests", "page": "0"}).status_code == 400


def test_the_typeahead_shows_a_few_hits_per_kind_and_a_link_to_all(world, login, viewer):
    CaseFactory.create_batch(5, suite=world["suite"], name="test_checkout_step")
    html = login(viewer).get("/search/typeahead", {"q": "checkout"}).content.decode()
    assert html.count('data-kind="tests"') == 3
    assert 'data-kind="services"' in html and 'data-kind="failures"' not in html
    assert 'href="/search?q=checkout">All results for “checkout”' in html


def test_the_typeahead_is_empty_for_a_short_query_and_says_when_nothing_matches(
    world, login, viewer
):
    client = login(viewer)
    assert client.get("/search/typeahead", {"q": "c"}).content.decode().strip() == ""
    html = client.get("/search/typeahead", {"q": "zzz"}).content.decode()
    assert "Nothing matches “zzz”." in html


def test_a_failure_hit_opens_its_newest_run_filtered_to_the_test(world, login, viewer):
    response = login(viewer).get(reverse("search-failure", args=[world["signature"].pk]))
    assert response.status_code == 302
    assert response["Location"] == f"/runs/{world['new_run'].pk}/?q=test_redirects_home"


def test_search_needs_a_login(world, client):
    response = client.get("/search", {"q": "login"})
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_header_holds_a_search_form_that_works_without_javascript(world, login, viewer):
    html = login(viewer).get("/").content.decode()
    assert 'role="search" method="get" action="/search"' in html
    assert '<label for="search-q"' in html


def test_a_text_without_a_trigram_says_which_kinds_it_did_not_search(world, login, viewer):
    client = login(viewer)
    html = client.get("/search", {"q": "e2"}).content.decode()
    assert f'href="/suites/{world["suite"].pk}/">e2e-smoke</a>' in html
    assert "Type three letters or digits in a row to search tests." in html
    partial = client.get("/search/typeahead", {"q": "_%"}).content.decode()
    assert (
        "Nothing matches “_%”. Type three letters or digits in a row to search tests, " in partial
    )
