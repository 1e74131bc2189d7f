"""The summary page and its exports: one source, each opens and says the same figures."""

from __future__ import annotations

import csv
import io

import markdown
import pypdf
import pytest
from django.urls import reverse

from reports.models import Capability

pytestmark = pytest.mark.django_db

QUERY = {"start": "2030-03-01", "end": "2030-03-28", "services": "web"}


@pytest.fixture
def client_m(manager, login, known):
    Capability.objects.create(name="Everything web", patterns="*")
    return login(manager)


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_page_shows_each_figure_with_its_evidence_link(client_m):
    response = client_m.get(reverse("reports:summary"), QUERY)

    page = response.content.decode()
    assert response.status_code == 200
    assert "93.6 %" in page and "66.6 % (4 of 6)" in page and "99.6 %" in page
    assert "<svg" in page
    assert reverse("reports:evidence", args=["deploys"]) in page


@pytest.mark.parametrize("kind", ["runs", "deploys", "restores", "incidents"])
def test_each_evidence_page_lists_its_rows(client_m, kind, known):
    response = client_m.get(reverse("reports:evidence", args=[kind]), QUERY)

    assert response.status_code == 200
    assert "No rows." not in response.content.decode()


def test_the_markdown_export_streams_and_renders_with_headings_and_tables(client_m):
    response = client_m.get(reverse("reports:summary-markdown"), QUERY)

    assert response.streaming
    assert response["Content-Disposition"].endswith('.md"')
    text = _body(response).decode()
    html = markdown.markdown(text, extensions=["tables"])
    assert "<h1>Business-value summary</h1>" in html
    for heading in ("Tests", "Delivery", "Reliability", "Learning", "Capabilities", "Risks"):
        assert f"<h2>{heading}</h2>" in html
    assert html.count("<table>") == 5  # four sections and capabilities; no risks here
    assert "No failing or flaky test behind a capability." in html
    assert "93.6 %</a>" in html and "5.5 days</a>" in html


def test_the_csv_export_has_one_row_per_figure_and_per_capability(client_m):
    response = client_m.get(reverse("reports:summary-csv"), QUERY)

    assert response.streaming
    rows = list(csv.DictReader(io.StringIO(_body(response).decode())))
    figures = {r["key"]: r for r in rows if r["kind"] == "figure"}
    capabilities = [r for r in rows if r["kind"] == "capability"]
    assert figures["tests.pass_rate"]["text"] == "93.6 %"
    assert figures["delivery.change_failure_rate"]["band"] == "Low"
    assert figures["delivery.lead_time"]["enough_data"] == "yes"
    assert figures["reliability.uptime"]["evidence_url"].startswith("http://testserver/reports/")
    assert [c["label"] for c in capabilities] == ["Everything web"]
    # 23 pooled figures (failures by triage category among them), plus suites green and the one
    # suite's own rate now and over the period
    assert len(figures) == 28


def test_the_pdf_export_opens_and_holds_the_figures_and_charts(client_m):
    response = client_m.get(reverse("reports:summary-pdf"), QUERY)

    assert response["Content-Type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert "Business-value summary" in text
    assert "93.6 %" in text and "66.6 % (4 of 6)" in text and "Everything web" in text
    # The SVG charts' axis labels made it into the PDF: the charts were drawn.
    assert "0 % 50 % 100 % Mar 2 " in text and "pass rate per day" in text
    # deploys per day over the whole period (28 days), succeeded and failed stacked
    assert "Mar 1 Mar 5 Mar 9" in text and "succeeded failed" in text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2030-13-01"}, "is not a date"),
        ({"start": "2030-03-10", "end": "2030-03-01"}, "start date is after the end date"),
        ({"services": "web,nope"}, "No service is named nope"),
        ({"start": "2020-01-01", "end": "2030-01-01"}, "longer than"),
    ],
)
def test_a_bad_period_or_service_gets_a_sentence_and_a_400(client_m, query, message):
    for name in ("summary", "summary-csv", "summary-markdown", "summary-pdf"):
        response = client_m.get(reverse(f"reports:{name}"), query)
        assert response.status_code == 400
        assert message in response.content.decode()


@pytest.mark.parametrize("name", ["summary", "summary-csv", "summary-markdown", "summary-pdf"])
def test_only_managers_see_the_summary(operator, viewer, login, name, db):
    for user in (operator, viewer):
        assert login(user).get(reverse(f"reports:{name}")).status_code == 403
