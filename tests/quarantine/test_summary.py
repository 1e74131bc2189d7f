"""The manager's summary: a "Quarantined tests" figure, and the quarantined tests that cover a
capability, in the page and the Markdown export."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from reports.exports import markdown_lines
from reports.models import Capability
from reports.scope import Scope
from reports.summary import summary_build
from runs.services import states as services
from tests.factories import CaseFactory, SuiteFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    suite = SuiteFactory(name="e2e")
    cases = {
        name: CaseFactory(suite=suite, key=f"tests/test_{name}.py::test_{name}", name=name)
        for name in ("checkout", "refund", "search")
    }
    services.test_state_set(case=cases["checkout"], state="quarantined", reason="races")
    services.test_state_set(case=cases["search"], state="quarantined", reason="slow index")
    services.test_state_set(case=cases["refund"], state="disabled", reason="sandbox down")
    Capability.objects.create(name="Payments", patterns="name:checkout\nname:refund")
    return cases


def summary():
    today = timezone.localdate()
    return summary_build(scope=Scope(start=date(today.year, 1, 1), end=today, services=()))


def test_the_summary_counts_quarantined_tests_and_lists_those_behind_a_capability(shop):
    s = summary()

    figure = s.figure("tests.quarantined")
    assert figure.label == "Quarantined tests"
    assert (figure.value, figure.text) == (2, "2 (1 covering a capability)")
    assert figure.evidence_url.endswith("#section-quarantined")
    assert [(q.key, q.capabilities, q.reason) for q in s.quarantined] == [
        ("tests/test_checkout.py::test_checkout", "Payments", "races")
    ]


def test_the_markdown_export_lists_them(shop):
    text = "".join(markdown_lines(summary()))

    assert "## Quarantined tests that cover a capability" in text
    assert "test_checkout.py::test_checkout" in text and "| Payments | races |" in text


def test_the_summary_page_shows_them(login, manager, shop):
    page = login(manager).get("/reports/summary").content.decode()

    assert 'id="section-quarantined"' in page and "test_checkout" in page
