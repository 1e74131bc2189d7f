"""A status page over a service whose every internal field holds a planted secret."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from analyses.models import Analysis
from health.models import Incident
from health.services import probe_results_record
from reports.models import StatusPage
from tests.factories import RevisionFactory, ServiceFactory
from tests.health.helpers import make_probe, outcome

SECRET_BASE_URL = "http://internal-base-7f3a.corp.example:8443"
SECRET_PROBE_URL = "http://probe-target-91bc.corp.example/healthz"
SECRET_PROBE_PATH = "/internal-path-44de"
SECRET_PROBE_NAME = "probe-secret-name-5c1e"
SECRET_ERROR = "ConnectionRefused-secret-error-0d9b at 10.1.2.3"
SECRET_REVISION = "rev-secret-00042-x7k"
CAUSE = "The connection pool was too small for the Monday peak"
SECRETS = [
    SECRET_BASE_URL,
    SECRET_PROBE_URL,
    SECRET_PROBE_PATH,
    SECRET_PROBE_NAME,
    SECRET_ERROR,
    SECRET_REVISION,
    "internal-base-7f3a",
    "probe-target-91bc",
]


def planted_status_page(*, public: bool, slug: str = "acme", **switches) -> StatusPage:
    """A page over one service with a day of checks, one closed incident whose analysis names a
    cause, and secrets in every internal field (base URL, probe URL/path/name, error text)."""
    service = ServiceFactory(name="checkout", base_url=SECRET_BASE_URL)
    revision = RevisionFactory(service=service, name=SECRET_REVISION)
    service.current_revision = revision
    service.save()
    probe = make_probe(service, name=SECRET_PROBE_NAME, path=SECRET_PROBE_PATH)
    make_probe(service, name="second", path="", url=SECRET_PROBE_URL)
    now = timezone.now()
    probe_results_record(
        outcomes=[
            outcome(
                probe,
                at=now - timedelta(minutes=m),
                ok=m % 50 != 7,
                error_kind="" if m % 50 != 7 else "refused",
                error="" if m % 50 != 7 else SECRET_ERROR,
                status_code=200 if m % 50 != 7 else None,
            )
            for m in range(1, 400)
        ]
    )
    Incident.objects.create(
        probe=probe,
        service=service,
        revision=revision,
        opened_at=now - timedelta(hours=30),
        closed_at=now - timedelta(hours=29),
        first_error=SECRET_ERROR,
    )
    Analysis.objects.create(
        service=service,
        revision=revision,
        title="Checkout refused connections",
        problem="…",
        root_causes=[CAUSE, "a second cause"],
    )
    page = StatusPage.objects.create(name="Acme status", slug=slug, public=public, **switches)
    page.services.add(service)
    return page
