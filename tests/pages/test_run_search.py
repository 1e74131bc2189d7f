"""The run page's search: a piece of a test's name, class or file, or of its key when the text is
shaped like one; the same rows whether the matched tests are few (read once, by id) or many
(matched inside each query), in as many queries either way."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from runs.selectors import runs as run_selectors
from tests.factories import CaseFactory, SuiteFactory
from tests.pages.conftest import make_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def searched(suite, at):
    """A run of six tests in two files and classes; another suite's test of the same name."""
    cases = [
        CaseFactory(
            suite=suite,
            key=f"tests.test_{area}.Test{area.title()}::test_{area}_{i}",
            name=f"test_{area}_{i}",
            classname=f"tests.test_{area}.Test{area.title()}",
            file=f"tests/test_{area}.py",
        )
        for area in ("login", "billing")
        for i in range(3)
    ]
    outcomes = {case: "failed" if i % 3 == 0 else "passed" for i, case in enumerate(cases)}
    run = make_run(suite, outcomes, at=at(1))
    other = SuiteFactory(name="other")
    make_run(other, {CaseFactory(suite=other, name="test_login_0"): "passed"}, at=at(1))
    return run


def _names(client, run, q: str) -> list[str]:
    page = client.get(reverse("run-detail", args=[run.pk]), {"q": q}).content.decode()
    return sorted(set(re.findall(r"test_(?:login|billing)_\d", page[page.index("<tbody") :])))


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("login_1", ["test_login_1"]),  # the name
        ("TESTBILLING", ["test_billing_0", "test_billing_1", "test_billing_2"]),  # the class
        ("test_login.py", ["test_login_0", "test_login_1", "test_login_2"]),  # the file
        ("TestLogin::test_login_2", ["test_login_2"]),  # key-shaped: the key
        ("nothing-like-it", []),
    ],
)
def test_the_run_page_finds_a_test_by_a_piece_of_its_name_class_file_or_key(
    login, viewer, searched, q, expected
):
    assert _names(login(viewer), searched, q) == expected


@pytest.mark.parametrize("listed", [100, 2])
def test_a_broad_search_lists_the_same_rows_in_as_many_queries(
    login, viewer, searched, monkeypatch, django_assert_max_num_queries, listed
):
    # given the matched ids are read once up to `listed` tests (2: "test_" matches all 6)
    monkeypatch.setattr(run_selectors, "MATCHES_LISTED", listed)
    client = login(viewer)
    url = reverse("run-detail", args=[searched.pk])
    client.get(url, {"q": "login"})  # session and caches warmed
    with CaptureQueriesContext(connection) as narrow:
        client.get(url, {"q": "login"})

    # when the text matches every test
    with django_assert_max_num_queries(len(narrow.captured_queries)):
        names = _names(client, searched, "test_")

    # then every test of the run is listed once, and the counts on the links say six
    assert len(names) == 6
    page = client.get(url, {"q": "test_"}).content.decode()
    assert 'data-outcome="' in page and page.count('data-outcome="') == 6


def test_search_matches_reads_ids_once_and_falls_back_to_the_text_when_broad(searched, monkeypatch):
    few = run_selectors.search_matches(run=searched, search="billing_2")
    assert isinstance(few, run_selectors.Matches) and len(few.case_ids) == 1

    monkeypatch.setattr(run_selectors, "MATCHES_LISTED", 2)
    assert run_selectors.search_matches(run=searched, search="billing") == "billing"
    assert run_selectors.search_matches(run=searched, search="") == ""
