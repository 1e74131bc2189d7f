"""A Cloud Run service behind the fake Admin API, and probes whose answer the test sets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from health.services.waiting import Stability
from runs.models import Deploy, Revision, Service
from runs.services.deploys import deploy_and_test_create
from runs.services.pipeline import deploy_and_test_execute
from tests.fakes.cloudrun_api import FakeCloudRun

SERVICE = "projects/p/locations/europe-west1/services/web"
FIRST = "web-00001-abc"


@pytest.fixture
def api() -> Iterator[FakeCloudRun]:
    fake = FakeCloudRun()
    fake.add_service("p", "europe-west1", "web", "registry/web:1")
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def stable(monkeypatch: pytest.MonkeyPatch) -> list:
    """Whether the new revision answers its probes: set the answer, no real probing. A callable
    as the second item runs when the answer is no (to break the API before the rollback)."""
    answer: list = [True, None]

    def wait(*, service: Service, **kwargs) -> Stability:
        if answer[0]:
            return Stability(True, 2, "")
        if answer[1]:
            answer[1]()
        return Stability(False, 5, "HTTP 503 from /healthz")

    monkeypatch.setattr("runs.services.deploy_step.revision_wait_stable", wait)
    return answer


def cloudrun_service(api: FakeCloudRun, **config) -> Service:
    service = Service.objects.create(
        name="web",
        target_kind=Service.TargetKind.CLOUDRUN,
        target_config={
            "project": "p",
            "region": "europe-west1",
            "service": "web",
            "endpoint": api.url,
            "timeout": 5,
            "poll_interval": 0.02,
            **config,
        },
    )
    first = Revision.objects.create(
        service=service, name=FIRST, status="ready", traffic_percent=100, url="https://x"
    )
    Service.objects.filter(pk=service.pk).update(current_revision=first)
    service.refresh_from_db()
    return service


def run_deploy(service: Service, image: str = "registry/web:2") -> Deploy:
    deploy, _ = deploy_and_test_create(service=service, image=image)
    deploy_and_test_execute(deploy_id=deploy.pk)
    deploy.refresh_from_db()
    return deploy
