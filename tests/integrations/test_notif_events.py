"""The new events come from the services that do the thing, in their transaction: a new
failure signature and tests becoming flaky from the import, quarantine and release from the
test-state writes, a loop's end, an overdue action item (announced once), a verified analysis;
routed to owners where the event has them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from analyses.models import ActionItem
from analyses.services.analyses import (
    action_items_overdue_notify,
    analyses_verify_for_run,
    analysis_drafts_for_run,
)
from integrations import events
from integrations.models import NotificationDelivery
from integrations.services.notifications import rule_create
from runs.models import Loop, OwnerRule, State
from runs.services import states
from runs.services.ingest import ReportFile, run_import
from runs.services.loops import _finish
from tests.analyses.conftest import History
from tests.factories import CaseFactory, SuiteFactory
from tests.integrations.notif_support import route

pytestmark = pytest.mark.django_db

FAIL = b"""<testsuite name="e2e" tests="2"><testcase classname="a" name="ok"/>
<testcase classname="a" name="bad"><failure message="boom">boom</failure></testcase></testsuite>"""
FLAKY = b"""<testsuite name="e2e" tests="2"><testcase classname="a" name="ok"/>
<testcase classname="a" name="wobbly"><flakyFailure message="once">once</flakyFailure>
</testcase></testsuite>"""


@pytest.fixture
def everything(json_channel):
    """A rule that takes every event, to a json:// channel."""
    return route(json_channel())


def _lines(kind: str) -> list[str]:
    return list(NotificationDelivery.objects.filter(kind=kind).values_list("text", flat=True))


def test_a_new_failure_signature_is_announced_once(everything):
    suite = SuiteFactory(name="e2e")
    run = run_import(suite=suite, files=[ReportFile(name="a.xml", data=FAIL)]).run
    [line] = _lines(events.SIGNATURE_NEW)
    assert line == f"{suite.service.name}: 1 new failure signature in e2e (run #{run.pk}): boom"

    run_import(suite=suite, files=[ReportFile(name="b.xml", data=FAIL)])
    assert len(_lines(events.SIGNATURE_NEW)) == 1  # the same failure again: nothing new


def test_a_test_that_becomes_flaky_is_announced_to_its_owner(json_channel, viewer):
    suite = SuiteFactory(name="e2e")
    OwnerRule.objects.create(suite=suite, field="name", pattern="wobbly", user=viewer)
    mine = route(json_channel("vera"), owner_user=viewer)

    run = run_import(suite=suite, files=[ReportFile(name="a.xml", data=FLAKY)]).run
    [delivery] = NotificationDelivery.objects.filter(kind=events.TEST_FLAKY)
    assert delivery.rule == mine
    assert delivery.text.endswith(f"1 test became flaky in e2e (run #{run.pk}): wobbly")
    assert delivery.link.endswith("/tests/{}/".format(run.results.get(case__name="wobbly").case_id))

    run_import(suite=suite, files=[ReportFile(name="b.xml", data=FLAKY)])
    assert NotificationDelivery.objects.filter(kind=events.TEST_FLAKY).count() == 1


def test_quarantine_and_release_are_announced_release_by_expiry_too(everything):
    case = CaseFactory(name="test_checkout")
    states.test_state_set(case=case, state=State.QUARANTINED, reason="Flaky on CI")
    [line] = _lines(events.TEST_QUARANTINED)
    assert line.endswith("test_checkout quarantined (Flaky on CI)")

    states.test_state_set(case=case, state=State.ACTIVE)
    assert len(_lines(events.TEST_RELEASED)) == 1

    soon = timezone.now() + timedelta(hours=1)
    states.test_state_set(case=case, state=State.QUARANTINED, reason="again", expires_at=soon)
    assert states.test_states_expire(now=soon + timedelta(minutes=1)) == 1
    assert len(_lines(events.TEST_RELEASED)) == 2
    assert len(_lines(events.TEST_QUARANTINED)) == 2


def test_a_state_change_that_rolls_back_announces_nothing(everything):
    case = CaseFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        states.test_state_set(case=case, state=State.QUARANTINED, reason="Flaky")
        raise RuntimeError("the request failed later")
    assert not NotificationDelivery.objects.exists()


@pytest.mark.parametrize(
    ("status", "kind", "says"),
    [
        ("succeeded", events.LOOP_FINISHED, "reached its goal"),
        ("exhausted", events.LOOP_GAVE_UP, "gave up after 0 iterations"),
    ],
)
def test_a_loop_that_ends_is_announced(everything, status, kind, says):
    suite = SuiteFactory(name="e2e")
    loop = Loop.objects.create(service=suite.service, suite=suite)
    with transaction.atomic():
        _finish(loop, status)
    [line] = _lines(kind)
    assert f"loop #{loop.pk} on e2e {says}" in line


def test_an_overdue_action_item_is_announced_once_to_its_owner(json_channel, viewer, operator):
    history = History()
    (analysis,) = analysis_drafts_for_run(run=history.run({0: "failed"}))
    item = ActionItem.objects.create(
        analysis=analysis,
        what="Add a timeout to the provider client",
        owner=viewer,
        due_date=timezone.localdate() - timedelta(days=2),
    )
    ActionItem.objects.create(analysis=analysis, what="not due", due_date=timezone.localdate())
    vera = route(json_channel("vera"), owner_user=viewer)
    route(json_channel("otto"), owner_user=operator)

    assert action_items_overdue_notify() == 1
    assert action_items_overdue_notify() == 0  # once

    [delivery] = NotificationDelivery.objects.all()
    assert delivery.rule == vera and delivery.kind == events.ACTION_ITEM_OVERDUE
    assert f"overdue since {item.due_date.isoformat()} (owner vera-viewer)" in delivery.text
    assert delivery.link.endswith(f"/analyses/{analysis.pk}/")


def test_a_verified_analysis_is_announced(everything, viewer):
    history = History()
    (analysis,) = analysis_drafts_for_run(run=history.run({0: "failed"}))
    type(analysis).objects.filter(pk=analysis.pk).update(status="done")
    green = history.run({})

    analyses_verify_for_run(run=green)

    [delivery] = NotificationDelivery.objects.filter(kind=events.ANALYSIS_VERIFIED)
    assert f"analysis verified by run #{green.pk}" in delivery.text
    assert delivery.link.endswith(f"/analyses/{analysis.pk}/")


def test_a_subscription_only_to_what_i_own_skips_others_events(db, viewer, operator):
    viewer.email = "vera@example.com"
    viewer.save()
    rule_create(kinds=[events.TEST_QUARANTINED], subscriber=viewer, owner_user=viewer)
    mine, theirs = CaseFactory(name="mine"), CaseFactory(name="theirs")
    OwnerRule.objects.create(suite=mine.suite, field="name", pattern="mine", user=viewer)
    OwnerRule.objects.create(suite=theirs.suite, field="name", pattern="theirs", user=operator)

    states.test_state_set(case=theirs, state=State.QUARANTINED, reason="Flaky")
    assert not NotificationDelivery.objects.exists()
    states.test_state_set(case=mine, state=State.QUARANTINED, reason="Flaky")
    [delivery] = NotificationDelivery.objects.all()
    assert delivery.email == "vera@example.com" and "mine quarantined" in delivery.text
