"""Failures by triage category: the summary's figure over its period, its evidence page, and the
same figure in the Markdown, CSV and PDF exports."""

from __future__ import annotations

import csv
import io

import pypdf
import pytest
from django.db.models import Count, Q
from django.urls import reverse

from analyses.models import Analysis
from reports.scope import scope_from_query
from reports.selectors.triage import ORDER, _failing_results, triage_counts
from runs.models import FailureSignature
from runs.services.triage import signature_triage_set
from tests.factories import CaseFactory, ResultFactory
from tests.reports.conftest import make_run

pytestmark = pytest.mark.django_db

QUERY = {"start": "2030-03-01", "end": "2030-03-28", "services": "web"}


@pytest.fixture
def triaged(known, operator):
    """In web/e2e during the period: 4 failures of a product bug (one on the first day, at
    midnight), 1 of a known issue, 1 of an untriaged signature and 1 error without a signature;
    a product-bug failure before the period and one of another service, neither counted."""
    suite = known["suite"]
    signature = {
        name: FailureSignature.objects.create(
            suite=suite, kind="failed", hash=name, normalized=name
        )
        for name in ("gateway 502", "stale cache", "flaky dns")
    }
    analysis = Analysis.objects.create(
        service=known["web"], title="Cache never expires", problem="-"
    )
    signature_triage_set(signature=signature["gateway 502"], triage="product_bug", user=operator)
    signature_triage_set(
        signature=signature["stale cache"],
        triage="known_issue",
        analysis_id=analysis.pk,
        user=operator,
    )

    def fail(run, sig):
        ResultFactory(run=run, case=CaseFactory(suite=run.suite), outcome="failed", signature=sig)

    first, second = known["runs"][1], known["runs"][3]
    for run in (first, second, known["runs"][5]):
        fail(run, signature["gateway 502"])
    fail(second, signature["stale cache"])
    fail(second, signature["flaky dns"])
    ResultFactory(run=second, case=CaseFactory(suite=suite), outcome="error")
    ResultFactory(run=second, case=CaseFactory(suite=suite), outcome="passed")
    fail(make_run(suite, 1, 0, 1, hour=0), signature["gateway 502"])  # counted: day 1 is in
    before = make_run(suite, 1, 0, 1, hour=0)
    type(before).objects.filter(pk=before.pk).update(created_at="2030-02-20T12:00:00Z")
    fail(before, signature["gateway 502"])
    fail(make_run(known["other"].suites.get(), 4, 0, 1), None)
    return {"signature": signature, "analysis": analysis}


def test_it_counts_the_periods_failures_by_their_signatures_triage(triaged):
    counts = triage_counts(scope_from_query(QUERY))

    assert counts == {
        "total": 7,
        "product_bug": 4,
        "test_bug": 0,
        "environment": 0,
        "known_issue": 1,
        "untriaged": 2,
    }


def test_it_counts_in_one_query_as_counting_each_result_by_id_did(
    triaged, django_assert_num_queries
):
    scope = scope_from_query(QUERY)
    by_id = _failing_results(scope).aggregate(
        total=Count("pk"),
        **{c.value: Count("pk", filter=Q(signature__triage=c.value)) for c in ORDER},
    )

    with django_assert_num_queries(1):
        counts = triage_counts(scope)

    assert {k: v for k, v in counts.items() if k != "untriaged"} == by_id


def test_the_figure_follows_a_new_triage_at_once(triaged, operator):
    signature_triage_set(
        signature=triaged["signature"]["flaky dns"], triage="environment", user=operator
    )

    assert triage_counts(scope_from_query(QUERY))["environment"] == 1


@pytest.fixture
def client_m(manager, login):
    return login(manager)


def test_the_summary_page_shows_the_figure_with_its_evidence_link(client_m, triaged):
    page = client_m.get(reverse("reports:summary"), QUERY).content.decode()

    assert "Failures by triage category" in page
    assert (
        "7 failures: 4 product bug, 0 test bug, 0 environment, 1 known issue, 2 untriaged" in page
    )
    assert f"{reverse('reports:evidence', args=['triage'])}?" in page


def test_the_evidence_page_lists_each_signature_with_its_category(client_m, triaged):
    response = client_m.get(reverse("reports:evidence", args=["triage"]), QUERY)

    page = response.content.decode()
    assert response.status_code == 200
    assert "3 row(s)" in page
    rows = page[page.index("<tbody>") :]
    # By category (known issue, product bug, untriaged), the product bug's 4 failures counted.
    assert rows.index("stale cache") < rows.index("gateway 502") < rows.index("flaky dns")
    assert f'href="/analyses/{triaged["analysis"].pk}/">#{triaged["analysis"].pk} Cache' in rows
    assert '<td class="num">4</td>' in rows
    assert "by otto-operator" in rows


def _body(response) -> str:
    return b"".join(response.streaming_content).decode()


def test_the_markdown_and_csv_exports_hold_the_figure(client_m, triaged):
    markdown = _body(client_m.get(reverse("reports:summary-markdown"), QUERY))
    rows = list(
        csv.DictReader(io.StringIO(_body(client_m.get(reverse("reports:summary-csv"), QUERY))))
    )

    text = "7 failures: 4 product bug, 0 test bug, 0 environment, 1 known issue, 2 untriaged"
    assert (
        f"| Failures by triage category | [{text}](http://testserver/reports/evidence/triage?"
        in (markdown)
    )
    [figure] = [r for r in rows if r["key"] == "tests.failures_by_triage"]
    assert (figure["text"], figure["value"], figure["unit"]) == (text, "7", "failures")
    assert figure["evidence_url"].startswith("http://testserver/reports/evidence/triage?")


def test_the_pdf_export_holds_the_figure(client_m, triaged):
    response = client_m.get(reverse("reports:summary-pdf"), QUERY)

    reader = pypdf.PdfReader(io.BytesIO(response.content))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert "Failures by triage category" in text
    assert "7 failures: 4 product bug" in text


def test_a_period_without_failures_says_so(client_m, known):
    page = client_m.get(reverse("reports:summary"), QUERY).content.decode()

    assert "no failures in the period" in page
