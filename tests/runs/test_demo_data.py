"""Seeded demo data is marked, labelled wherever it is counted, and removable in one go, leaving
real data as it was."""

from __future__ import annotations

import csv
import io
import re
from io import StringIO

import pypdf
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from analyses.models import Analysis
from health.models import Probe
from runs.models import (
    Deploy,
    FailureSignature,
    Revision,
    Service,
    Suite,
    TestCase,
    TestResult,
    TestRun,
)
from tests.factories import CaseFactory, ResultFactory, RunFactory, ServiceFactory, SuiteFactory

pytestmark = pytest.mark.django_db


def _seed_history(service: str = "seeded-web") -> None:
    call_command(
        "seed_history", "--runs", "6", "--tests", "8", "--service", service, stdout=StringIO()
    )


@pytest.fixture
def real(db):
    """A real service with a suite, a run with a failing result, an analysis and a probe."""
    service = ServiceFactory(name="real-web")
    suite = SuiteFactory(service=service, name="e2e")
    run = RunFactory(suite=suite, status="failed", total=1, failed=1)
    ResultFactory(run=run, case=CaseFactory(suite=suite), outcome="failed", message="boom")
    Analysis.objects.create(service=service, run=run, title="real problem", problem="p")
    Probe.objects.create(service=service, name="health", path="/healthz")
    return service


def _sizes(service_filter: dict) -> tuple[int, ...]:
    return (
        Service.objects.filter(
            **{k.removeprefix("service__"): v for k, v in service_filter.items()}
        ).count(),
        Suite.objects.filter(**service_filter).count(),
        TestRun.objects.filter(**service_filter).count(),
        TestResult.objects.filter(**{f"run__{k}": v for k, v in service_filter.items()}).count(),
        TestCase.objects.filter(**{f"suite__{k}": v for k, v in service_filter.items()}).count(),
        FailureSignature.objects.filter(
            **{f"suite__{k}": v for k, v in service_filter.items()}
        ).count(),
        Revision.objects.filter(**service_filter).count(),
        Deploy.objects.filter(**service_filter).count(),
        Analysis.objects.filter(**service_filter).count(),
        Probe.objects.filter(**service_filter).count(),
    )


def test_both_seeders_mark_their_services_as_demo_data(real):
    call_command("seed_demo", password="demo-in-tests", stdout=StringIO())
    _seed_history()

    demo = set(Service.objects.filter(is_demo=True).values_list("name", flat=True))

    assert demo == {"demo-chat", "payments-api", "seeded-web"}
    assert Service.objects.get(name="real-web").is_demo is False


def test_seed_history_refuses_to_mix_demo_runs_into_a_real_service(real):
    with pytest.raises(Exception, match="real-web holds real data"):
        _seed_history(service="real-web")

    assert TestRun.objects.filter(service=real).count() == 1


def test_the_overview_and_the_service_page_label_demo_data(real, viewer, login):
    _seed_history()
    client = login(viewer)

    overview = client.get(reverse("overview")).content.decode()
    demo_page = client.get(reverse("service-detail", args=["seeded-web"])).content.decode()
    real_page = client.get(reverse("service-detail", args=["real-web"])).content.decode()

    cards = dict(re.findall(r'data-service="([\w-]+)"(.*?)</section>', overview, re.S))
    assert "demo data" in cards["seeded-web"]
    assert "demo data" not in cards["real-web"]
    assert "demo data" in demo_page
    assert "demo data" not in real_page


def test_the_summary_and_its_exports_say_they_include_demo_data(real, manager, login):
    _seed_history()
    client = login(manager)
    today = timezone.localdate()
    everything = {"start": (today.replace(day=1)).isoformat(), "end": today.isoformat()}
    real_only = {**everything, "services": "real-web"}

    def body(name, query):
        response = client.get(reverse(f"reports:{name}"), query)
        return b"".join(response.streaming_content) if response.streaming else response.content

    page = body("summary", everything).decode()
    markdown = body("summary-markdown", everything).decode()
    rows = list(csv.DictReader(io.StringIO(body("summary-csv", everything).decode())))
    pdf = pypdf.PdfReader(io.BytesIO(body("summary-pdf", everything)))
    pdf_text = " ".join(" ".join(p.extract_text() for p in pdf.pages).split())

    for text in (page, markdown, pdf_text):
        assert "Includes demo data" in text and "seeded-web" in text
    assert [r["text"] for r in rows if r["kind"] == "demo_data"] == [
        "Includes demo data from seeded-web"
    ]
    assert "Includes demo data" not in body("summary", real_only).decode()


def test_remove_demo_deletes_demo_services_and_everything_under_them(real):
    call_command("seed_demo", password="demo-in-tests", stdout=StringIO())
    _seed_history()
    real_before = _sizes({"service__is_demo": False})

    out = StringIO()
    call_command("remove_demo", stdout=out)

    assert _sizes({"service__is_demo": True}) == (0,) * 10
    assert _sizes({"service__is_demo": False}) == real_before
    assert real_before[:4] == (1, 1, 1, 1)
    assert "Removed 3 demo services" in out.getvalue()


def test_the_admin_action_removes_only_demo_services(real, admin_user, login):
    _seed_history()
    demo = Service.objects.get(name="seeded-web")
    client = login(admin_user)

    response = client.post(
        reverse("admin:runs_service_changelist"),
        {"action": "remove_demo_data", "_selected_action": [demo.pk, real.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert not Service.objects.filter(name="seeded-web").exists()
    assert Service.objects.filter(name="real-web").exists()
    assert TestRun.objects.filter(service=real).count() == 1
    page = response.content.decode()
    assert "Removed 1 demo service" in page
    assert "real-web is not demo data and was left as it is" in page
