"""Release gates on Cloud Run: a candidate with no traffic on its own tagged URL, then a split.

The real run_v2 client over REST against the fake Admin API, as in test_cloudrun.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from engine.deploy import DeployError, DeployRequest, RevisionInfo
from engine.deploy.cloudrun import CloudRunTarget
from tests.engine.deploy.test_cloudrun import FIRST, SERVICE, cloudrun
from tests.fakes.cloudrun_api import FakeCloudRun

PATCH = f"PATCH /v2/{SERVICE}"


def candidate(target: CloudRunTarget, image: str = "registry/web:2", **kw: Any) -> RevisionInfo:
    req = DeployRequest(service="web", image=image, no_traffic=True, **kw)
    return target.deploy(req, log=lambda line: None)


def tagged_urls(api: FakeCloudRun) -> dict[str, str]:
    """{tag: uri} as the fake reports them in the service's traffic statuses."""
    statuses = api.services[SERVICE]["trafficStatuses"]
    return {s["tag"]: s["uri"] for s in statuses if s.get("tag")}


# -- a candidate with no traffic -------------------------------------------------------------


def test_a_no_traffic_deploy_keeps_everything_on_the_old_revision(
    cloudrun_api: FakeCloudRun,
) -> None:
    target = cloudrun(cloudrun_api)

    info = candidate(target, tag="green")

    assert info.status == "ready"
    assert info.url == "https://green---web-xyz-uc.a.run.app"
    assert info.url == tagged_urls(cloudrun_api)["green"]
    assert info.extra == {"tag": "green", "traffic": {FIRST: 100}}
    assert target.traffic() == {FIRST: 100}
    assert cloudrun_api.tags(SERVICE) == {"green": info.name}
    # The old share was pinned: a share that follows LATEST would have moved to the candidate.
    assert cloudrun_api.services[SERVICE]["latestReadyRevision"].endswith(info.name)


def test_without_a_tag_each_candidate_gets_its_own_from_its_revision_name(
    cloudrun_api: FakeCloudRun,
) -> None:
    target = cloudrun(cloudrun_api)

    one, two = candidate(target), candidate(target, image="registry/web:3")

    assert one.extra["tag"] == "c-" + one.name.rsplit("-", 1)[1]
    assert two.extra["tag"] == "c-" + two.name.rsplit("-", 1)[1]
    assert cloudrun_api.tags(SERVICE) == {one.extra["tag"]: one.name, two.extra["tag"]: two.name}
    assert tagged_urls(cloudrun_api)[two.extra["tag"]] == two.url
    assert target.traffic() == {FIRST: 100}


def test_a_tag_already_on_an_older_candidate_moves_to_the_new_one(
    cloudrun_api: FakeCloudRun,
) -> None:
    target = cloudrun(cloudrun_api)
    old = candidate(target, tag="green")

    new = candidate(target, image="registry/web:3", tag="green")

    assert cloudrun_api.tags(SERVICE) == {"green": new.name}
    assert new.url == "https://green---web-xyz-uc.a.run.app"
    assert target.status(old.name).status == "ready"  # kept; only its URL went to the new one


def test_the_config_no_traffic_setting_also_deploys_a_tagged_candidate(
    cloudrun_api: FakeCloudRun,
) -> None:
    target = cloudrun(cloudrun_api, no_traffic=True)

    info = target.deploy(DeployRequest(service="web", image="registry/web:2"), log=lambda _: None)

    assert info.url == tagged_urls(cloudrun_api)[info.extra["tag"]]
    assert target.traffic() == {FIRST: 100}


def test_a_candidate_without_a_tagged_url_cannot_be_tested_and_says_so(
    cloudrun_api: FakeCloudRun,
) -> None:
    cloudrun_api.tag_urls = False
    target = cloudrun(cloudrun_api)

    with pytest.raises(DeployError, match="reports no URL for tag green"):
        candidate(target, tag="green")

    assert target.traffic() == {FIRST: 100}


@pytest.mark.parametrize("tag", ["Green", "-green", "green-", "gr_een", "x" * 44])
def test_an_invalid_tag_is_refused_before_calling_cloud_run(
    cloudrun_api: FakeCloudRun, tag: str
) -> None:
    with pytest.raises(DeployError, match="tag"):
        candidate(cloudrun(cloudrun_api), tag=tag)

    assert cloudrun_api.requests == []


def test_a_service_with_no_serving_revision_cannot_take_a_candidate_without_traffic(
    cloudrun_api: FakeCloudRun,
) -> None:
    # A service whose only revision never became ready: its LATEST share reaches nothing.
    del cloudrun_api.services[SERVICE]["latestReadyRevision"]
    target = cloudrun(cloudrun_api)

    with pytest.raises(DeployError, match="no ready revision to keep the traffic on"):
        candidate(target, tag="green")

    assert cloudrun_api.calls("PATCH") == []
