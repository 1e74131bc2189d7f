"""Release gates on Cloud Run: a candidate with no traffic on its own tagged URL, then a split.

The real run_v2 client over REST against the fake Admin API, as in test_cloudrun.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from google.api_core import exceptions as gexc

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


def test_the_default_tag_is_shortened_to_fit_beside_a_long_service_name(
    cloudrun_api: FakeCloudRun,
) -> None:
    long_name = "payments-reconciliation-worker-eu"  # 33 characters: 13 are left for the tag
    cloudrun_api.add_service("p", "europe-west1", long_name, "registry/pay:1")
    target = cloudrun(cloudrun_api, service=long_name)

    info = target.deploy(
        DeployRequest(service=long_name, image="registry/pay:2", no_traffic=True),
        log=lambda _: None,
    )

    assert info.extra["tag"] == "c-" + info.name.rsplit("-", 1)[1]  # 10 characters fit
    very_long = "payments-reconciliation-worker-europe-w"  # 39: only 7 left
    cloudrun_api.add_service("p", "europe-west1", very_long, "registry/pay:1")
    target = cloudrun(cloudrun_api, service=very_long)

    info = target.deploy(
        DeployRequest(service=very_long, image="registry/pay:2", no_traffic=True),
        log=lambda _: None,
    )

    assert info.extra["tag"] == "c-" + info.name.rsplit("-", 1)[1][:5]
    assert info.url == f"https://{info.extra['tag']}---{very_long}-xyz-uc.a.run.app"


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


# -- split: the candidate's share and the rest on the stable revision, in one update -----------


def test_a_canary_moves_in_steps_and_each_split_is_what_cloud_run_reads_back(
    cloudrun_api: FakeCloudRun,
) -> None:
    target = cloudrun(cloudrun_api)
    new = candidate(target, tag="green")
    patches = len(cloudrun_api.calls("PATCH"))

    assert target.split(FIRST, new.name, 10) == {FIRST: 90, new.name: 10}
    assert target.traffic() == {FIRST: 90, new.name: 10}
    assert target.split(FIRST, new.name, 50) == {FIRST: 50, new.name: 50}
    assert target.traffic() == {FIRST: 50, new.name: 50}
    assert target.split(FIRST, new.name, 100) == {new.name: 100}
    assert target.traffic() == {new.name: 100}

    assert len(cloudrun_api.calls("PATCH")) == patches + 3  # one update per step
    # The candidate keeps its tag (and URL) throughout, without being told it again.
    assert cloudrun_api.tags(SERVICE) == {"green": new.name}
    assert tagged_urls(cloudrun_api) == {"green": new.url}


def test_a_split_to_zero_sends_everything_back_and_keeps_the_candidate_reachable(
    cloudrun_api: FakeCloudRun,
) -> None:
    target = cloudrun(cloudrun_api)
    new = candidate(target, tag="green")
    target.split(FIRST, new.name, 50)

    assert target.split(FIRST, new.name, 0) == {FIRST: 100}

    assert target.traffic() == {FIRST: 100}
    assert cloudrun_api.tags(SERVICE) == {"green": new.name}  # until retire removes it


def test_a_split_may_add_a_tag_and_the_candidate_keeps_the_one_it_was_tested_on(
    cloudrun_api: FakeCloudRun,
) -> None:
    target = cloudrun(cloudrun_api)
    new = candidate(target, tag="green")

    assert target.split(FIRST, new.name, 10, tag="canary") == {FIRST: 90, new.name: 10}

    assert cloudrun_api.tags(SERVICE) == {"canary": new.name, "green": new.name}
    assert tagged_urls(cloudrun_api)["canary"] == "https://canary---web-xyz-uc.a.run.app"


def test_a_split_keeps_other_tags_and_takes_traffic_off_other_revisions(
    cloudrun_api: FakeCloudRun,
) -> None:
    target = cloudrun(cloudrun_api)
    old = candidate(target, tag="blue")
    target.split(FIRST, old.name, 30)
    new = candidate(target, image="registry/web:3", tag="green")
    assert target.traffic() == {FIRST: 70, old.name: 30}

    assert target.split(FIRST, new.name, 10) == {FIRST: 90, new.name: 10}

    assert cloudrun_api.tags(SERVICE) == {"blue": old.name, "green": new.name}


@pytest.mark.parametrize("percent", [-1, 101])
def test_a_share_out_of_range_is_refused(cloudrun_api: FakeCloudRun, percent: int) -> None:
    target = cloudrun(cloudrun_api)
    new = candidate(target, tag="green")
    patches = len(cloudrun_api.calls("PATCH"))

    with pytest.raises(DeployError, match=rf"between 0 and 100 %, not {percent}"):
        target.split(FIRST, new.name, percent)

    assert len(cloudrun_api.calls("PATCH")) == patches


def test_a_split_between_a_revision_and_itself_is_refused(cloudrun_api: FakeCloudRun) -> None:
    with pytest.raises(DeployError, match="two different revisions"):
        cloudrun(cloudrun_api).split(FIRST, FIRST, 10)

    assert cloudrun_api.requests == []


# -- a split that fails leaves the traffic where it was ----------------------------------------


def at_ten_percent(api: FakeCloudRun, **config: Any) -> tuple[CloudRunTarget, RevisionInfo]:
    """A candidate deployed without traffic, then given 10 % (two updates of the service)."""
    target = cloudrun(api, **config)
    new = candidate(target, tag="green")
    target.split(FIRST, new.name, 10)
    return target, new


def test_a_split_whose_update_is_refused_raises_and_moves_nothing(
    cloudrun_api: FakeCloudRun,
) -> None:
    target, new = at_ten_percent(cloudrun_api)
    cloudrun_api.fail_calls[PATCH] = {3: 503}

    with pytest.raises(DeployError, match=f"Cloud Run failed moving traffic of {SERVICE}"):
        target.split(FIRST, new.name, 50)

    assert target.traffic() == {FIRST: 90, new.name: 10}
    assert cloudrun_api.tags(SERVICE) == {"green": new.name}


def test_a_split_whose_operation_fails_raises_and_moves_nothing(
    cloudrun_api: FakeCloudRun,
) -> None:
    target, new = at_ten_percent(cloudrun_api)
    cloudrun_api.fail_operation = "internal error while routing traffic"

    with pytest.raises(DeployError, match="internal error while routing traffic"):
        target.split(FIRST, new.name, 50)

    assert target.traffic() == {FIRST: 90, new.name: 10}


def test_a_split_whose_operation_never_finishes_times_out_and_moves_nothing(
    cloudrun_api: FakeCloudRun,
) -> None:
    target, new = at_ten_percent(cloudrun_api, timeout=0.3)
    cloudrun_api.never_done = True

    with pytest.raises(DeployError, match=r"timed out after 0\.3 s waiting for operation"):
        target.split(FIRST, new.name, 100)

    assert target.traffic() == {FIRST: 90, new.name: 10}


def test_a_split_naming_a_revision_cloud_run_does_not_have_raises(
    cloudrun_api: FakeCloudRun,
) -> None:
    target, new = at_ten_percent(cloudrun_api)

    with pytest.raises(DeployError, match="Revision 'web-gone' named in traffic does not exist"):
        target.split("web-gone", new.name, 50)

    assert target.traffic() == {FIRST: 90, new.name: 10}


# -- retire: a refused candidate is kept without its URL, a failed one is deleted --------------


def test_retiring_a_refused_candidate_removes_its_tag_and_keeps_the_revision(
    cloudrun_api: FakeCloudRun,
) -> None:
    target, new = at_ten_percent(cloudrun_api)
    target.split(FIRST, new.name, 0)  # the canary step failed: traffic back at once

    target.retire(RevisionInfo(name=new.name, url=new.url, status="refused"))

    assert cloudrun_api.tags(SERVICE) == {}
    assert f"{SERVICE}/revisions/{new.name}" in cloudrun_api.revisions
    assert target.traffic() == {FIRST: 100}
    assert cloudrun_api.calls("DELETE") == []


def test_retiring_a_failed_candidate_removes_its_tag_and_deletes_it(
    cloudrun_api: FakeCloudRun,
) -> None:
    target = cloudrun(cloudrun_api)
    new = candidate(target, tag="green")  # failed its gate at 0 %: traffic never moved

    target.retire(RevisionInfo(name=new.name, url=new.url, status="failed"))

    assert cloudrun_api.tags(SERVICE) == {}
    assert f"{SERVICE}/revisions/{new.name}" not in cloudrun_api.revisions
    assert target.traffic() == {FIRST: 100}


def test_a_candidate_still_serving_is_neither_retired_nor_deleted(
    cloudrun_api: FakeCloudRun,
) -> None:
    target, new = at_ten_percent(cloudrun_api)

    with pytest.raises(DeployError, match=rf"{new.name} still serves 10 %"):
        target.retire(RevisionInfo(name=new.name, url=new.url, status="failed"))
    # Cloud Run itself refuses too, should anything call it directly.
    with pytest.raises(gexc.BadRequest, match="is serving traffic and cannot be deleted"):
        target.revisions.delete_revision(name=f"{SERVICE}/revisions/{new.name}")

    assert cloudrun_api.tags(SERVICE) == {"green": new.name}
    assert target.traffic() == {FIRST: 90, new.name: 10}
