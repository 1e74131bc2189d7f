"""A Cloud Run deploy records what the target says, through the real client and the fake API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from health.services.waiting import Stability
from runs.models import Deploy, Revision, Service
from runs.services.deploys import deploy_and_test_create
from runs.services.pipeline import deploy_and_test_execute
from tests.fakes.cloudrun_api import FakeCloudRun

pytestmark = pytest.mark.django_db

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
def stable(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether the new revision answers its probes: set the answer, no real probing."""
    answer = [True]

    def wait(*, service: Service, **kwargs) -> Stability:
        if answer[0]:
            return Stability(True, 2, "")
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


def test_an_unhealthy_new_revision_sends_cloud_run_traffic_back_and_is_deleted(
    api: FakeCloudRun, stable: list[bool]
) -> None:
    service = cloudrun_service(api)
    stable[0] = False

    deploy = run_deploy(service)

    assert deploy.status == "failed"
    bad = deploy.revision
    assert api.split(SERVICE) == {FIRST: 100}  # the target, not only our record
    assert f"{SERVICE}/revisions/{bad.name}" not in api.revisions
    assert f"traffic is back on {FIRST} (100 %)" in deploy.error
    assert deploy.traffic_before == [{"revision": FIRST, "percent": 100}]
    assert deploy.traffic_after == [{"revision": FIRST, "percent": 100}]
    bad.refresh_from_db()
    assert (bad.status, bad.traffic_percent) == ("failed", 0)
    service.refresh_from_db()
    assert service.current_revision.name == FIRST
    assert service.current_revision.traffic_percent == 100


def test_traffic_before_and_after_are_read_from_cloud_run_not_written_by_hand(
    api: FakeCloudRun, stable: list[bool]
) -> None:
    # Like `gcloud run deploy --no-traffic`: the new revision is ready and serves nothing yet.
    service = cloudrun_service(api, no_traffic=True)

    deploy = run_deploy(service)

    assert deploy.status == "succeeded", deploy.error
    assert deploy.traffic_before == [{"revision": FIRST, "percent": 100}]
    assert deploy.traffic_after == [{"revision": FIRST, "percent": 100}]
    assert api.split(SERVICE) == {FIRST: 100}
    deploy.revision.refresh_from_db()
    assert deploy.revision.traffic_percent == 0
    assert Revision.objects.get(name=FIRST).traffic_percent == 100
