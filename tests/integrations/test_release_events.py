"""A canary (or gated) release that sends traffic back to the stable revision is a rollback to
receivers: ``rollback.finished``, as a rollback deploy emits, whether the release's own chain
rolled back or the sweeper restored a release whose worker died."""

from __future__ import annotations

import json

import pytest

from integrations import events
from integrations.models import WebhookDelivery
from runs.models import Deploy, Revision
from runs.services.release import release_restore
from tests.gate.test_release_command import (  # noqa: F401 (fixtures)
    _url,
    command_service,
    release,
    servers,
    split_file,
)

# ruff: noqa: F811 (the fixtures imported above are parameters below)
pytestmark = [pytest.mark.django_db(transaction=True)]


def _bodies(hook) -> list[dict]:
    return [json.loads(d.body) for d in WebhookDelivery.objects.filter(webhook=hook)]


@pytest.mark.slow
def test_a_canary_that_rolls_back_emits_rollback_finished(
    servers, split_file, settings, make_webhook
):
    settings.CANARY_PROBE_INTERVAL = 0.1
    service = command_service(servers, split_file, "slow")
    hook, _ = make_webhook(kinds=[events.ROLLBACK_FINISHED])

    deploy = release(service, "canary")

    assert deploy.release == "rolled_back", deploy.release_note
    [body] = _bodies(hook)
    assert body["type"] == "rollback.finished"
    assert body["data"]["deploy"]["id"] == deploy.pk
    assert body["data"]["deploy"]["release"] == "rolled_back"
    # Traffic went from the candidate back to the revision that served before.
    assert body["data"]["to_revision"]["name"] == "cmd-1"
    assert body["data"]["from_revision"]["name"] == deploy.revision.name


def test_a_release_the_sweeper_restores_emits_rollback_finished(servers, split_file, make_webhook):
    service = command_service(servers, split_file, "fast")
    hook, _ = make_webhook(kinds=[events.ROLLBACK_FINISHED])
    stable = service.current_revision
    candidate = Revision.objects.create(
        service=service, name="cmd-2", status="ready", url=_url(servers["fast"])
    )
    split_file.write_text(json.dumps({"cmd-1": 90, "cmd-2": 10}))
    deploy = Deploy.objects.create(
        service=service,
        revision=candidate,
        previous_revision=stable,
        status=Deploy.Status.LOST,
        release=Deploy.Release.CANARY,
        release_policy="canary",
    )

    note = release_restore(deploy.pk)

    assert "rolled back" in note
    assert json.loads(split_file.read_text()) == {"cmd-1": 100}
    [body] = _bodies(hook)
    assert body["type"] == "rollback.finished"
    assert body["data"]["deploy"]["id"] == deploy.pk
    assert body["data"]["to_revision"]["name"] == "cmd-1"
    assert body["data"]["from_revision"]["name"] == "cmd-2"


def test_a_gated_release_refused_before_traffic_moved_emits_nothing(
    servers, split_file, make_webhook
):
    service = command_service(servers, split_file, "fast")
    hook, _ = make_webhook(kinds=[events.ROLLBACK_FINISHED])

    deploy = release(service, "gated", failed=1)

    assert deploy.release == "refused"
    assert _bodies(hook) == []
