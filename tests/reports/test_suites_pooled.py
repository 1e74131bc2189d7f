"""One big green suite must not hide small red ones: beside every pooled pass rate the summary
says how many suites are green and gives each suite's own figure, on the page and in the exports.
"""

from __future__ import annotations

import csv
import io

import pypdf
import pytest
from django.urls import reverse

from reports.scope import Scope
from reports.summary import summary_build
from tests.factories import ServiceFactory, SuiteFactory

from .conftest import END, START, make_run

pytestmark = pytest.mark.django_db

QUERY = {"start": START.isoformat(), "end": END.isoformat(), "services": "monorepo"}


@pytest.fixture
def suites(db):
    """One 4,209-test suite, green, and three 10-test suites, red in their latest run."""
    service = ServiceFactory(name="monorepo")
    big = SuiteFactory(service=service, name="all-jest")
    make_run(big, 10, 4200, 9)
    make_run(big, 20, 4209, 0)
    red = []
    for name, passed in (("checkout", 8), ("search", 7), ("login", 9)):
        suite = SuiteFactory(service=service, name=name)
        make_run(suite, 10, 10, 0)
        make_run(suite, 20, passed, 10 - passed)
        red.append(suite)
    return {"service": service, "big": big, "red": red}


def _body(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode()


def test_the_summary_counts_green_suites_beside_the_pooled_pass_rate(suites):
    s = summary_build(scope=Scope(start=START, end=END, services=(suites["service"],)))

    assert s.figure("tests.pass_rate_now").text == "99.8 %"  # 4233 / 4239, pooled
    assert s.figure("tests.suites_green").text == "1 of 4"
    big, (checkout, search, login) = suites["big"], suites["red"]
    assert s.figure(f"tests.pass_rate_now.{big.pk}").text == "100.0 %"
    assert s.figure(f"tests.pass_rate_now.{checkout.pk}").text == "80.0 %"
    assert s.figure(f"tests.pass_rate_now.{search.pk}").text == "70.0 %"
    assert s.figure(f"tests.pass_rate_now.{login.pk}").text == "90.0 %"
    assert s.figure(f"tests.pass_rate.{checkout.pk}").text == "not enough data (2 runs, needs 3)"


def test_the_page_and_every_export_say_how_many_suites_are_green(suites, manager, login):
    client = login(manager)

    page = _body(client.get(reverse("reports:summary"), QUERY))
    markdown = _body(client.get(reverse("reports:summary-markdown"), QUERY))
    rows = list(
        csv.DictReader(io.StringIO(_body(client.get(reverse("reports:summary-csv"), QUERY))))
    )
    pdf = pypdf.PdfReader(io.BytesIO(client.get(reverse("reports:summary-pdf"), QUERY).content))
    pdf_text = " ".join(" ".join(p.extract_text() for p in pdf.pages).split())

    for text in (page, markdown):
        assert "Suites green now" in text and "1 of 4" in text
        for name in ("all-jest", "checkout", "search", "login"):
            assert f"Pass rate now: monorepo / {name}" in text
    assert "Suites green now 1 of 4" in pdf_text
    assert "Pass rate now: monorepo / checkout 80.0 %" in pdf_text
    figures = {r["key"]: r["text"] for r in rows if r["kind"] == "figure"}
    assert figures["tests.suites_green"] == "1 of 4"
    assert figures[f"tests.pass_rate_now.{suites['red'][1].pk}"] == "70.0 %"
