"""The health page of a service: renders for any logged-in user, in a bounded number of queries."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from health.models import Incident
from health.services import probe_results_record
from runs.models import Deploy
from tests.factories import RevisionFactory, ServiceFactory
from tests.health.helpers import make_probe, outcome

pytestmark = pytest.mark.django_db


@pytest.fixture
def service():
    service = ServiceFactory(base_url="http://127.0.0.1:9")
    old = RevisionFactory(service=service, name="web-00001-old")
    service.current_revision = RevisionFactory(service=service, name="web-00002-new")
    service.save()
    probe = make_probe(service, name="healthz")
    now = timezone.now()
    probe_results_record(
        outcomes=[
            outcome(
                probe,
                at=now - timedelta(minutes=m),
                ok=m % 17 != 0,
                latency_ms=10 + m % 7,
                revision=old.name if m > 30 else "",
            )
            for m in range(1, 120)
        ]
    )
    Deploy.objects.create(
        service=service,
        revision=service.current_revision,
        status=Deploy.Status.SUCCEEDED,
        finished_at=now - timedelta(minutes=30),
    )
    Incident.objects.create(
        probe=probe,
        service=service,
        revision=old,
        opened_at=now - timedelta(hours=2),
        closed_at=now - timedelta(hours=1, minutes=55),
        first_error="connection to 127.0.0.1:9 was refused; is the service running on that port?",
    )
    return service


def url(service, **query):
    base = reverse("service-health", args=[service.name])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.mark.parametrize("range_key", ["1h", "6h", "24h", "7d", "30d", "90d"])
def test_it_renders_every_range_for_a_viewer_in_bounded_queries(
    service, viewer, login, django_assert_max_num_queries, range_key
):
    client = login(viewer)

    # 24: the 20 it took before, one read of the service's maintenance windows, two more for
    # the latency chart (its seal and sealed points, beside the open steps and the names), and
    # one for the SLOs section (issue 19; no SLOs here, so no alerts to read)
    with django_assert_max_num_queries(24):
        response = client.get(url(service, range=range_key))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="latency-chart"' in html
    figure = json.loads(response.context["latency_json"])
    legend = [t["name"] for t in figure["data"] if t.get("showlegend", True)]
    assert legend == ["00001-old", "00002-new"]  # one entry per revision, shared prefix dropped
    assert "web-00002-new" in [t["customdata"][0][1] for t in figure["data"][:6]][3]
    deploys = [t for t in figure["data"] if t["name"] == "deploys"]
    assert "web-00002-new" in deploys[0]["text"][-1]
    assert "How the state is decided" in html
    assert 'data-health-state="' in html


def test_it_shows_incidents_with_durations_and_uptime(service, viewer, login):
    response = login(viewer).get(url(service, range="24h"))

    html = response.content.decode()
    assert "5 min 0 s" in html
    assert "connection to 127.0.0.1:9 was refused" in html
    assert response.context["uptime"].day.share == pytest.approx(112 / 119)


def test_a_bad_range_is_a_400_with_a_sentence(service, viewer, login):
    response = login(viewer).get(url(service, range="2w"))

    assert response.status_code == 400
    assert (
        "“2w” is not a time range: range takes one of 1h, 6h, 24h, 7d, 30d, 90d, "
        "or give from and to as ISO 8601 dates." in response.content.decode()
    )


def test_an_unknown_service_is_a_404(viewer, login):
    response = login(viewer).get(reverse("service-health", args=["no-such-service"]))

    assert response.status_code == 404


def test_it_needs_a_login(service, client):
    response = client.get(url(service))

    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_it_renders_with_no_data_at_all(viewer, login):
    service = ServiceFactory()

    response = login(viewer).get(url(service))

    assert response.status_code == 200
    assert "No probe answered in this range yet." in response.content.decode()
    assert "This service has no probes yet" in response.content.decode()
