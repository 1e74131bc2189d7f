"""Editing channels, team rules and subscriptions: checked as when created, the stored URL never
shown (a blank URL keeps it), refused input leaving the row as it was, Managers only for team
channels and rules, one's own subscriptions only."""

from __future__ import annotations

import html

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse

from integrations import events
from integrations.models import Channel, NotificationRule
from integrations.services.notifications import channel_create, rule_create
from tests.factories import ServiceFactory
from tests.integrations.notif_support import json_url

pytestmark = pytest.mark.django_db

SLACK = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#general"
SLACK_SECRETS = ("TIiajkdnlazkcOXrIdevi7FQ", "A1BRTD4JD", "T1JJ3T3L2")


@pytest.fixture
def slack(db) -> Channel:
    return channel_create(name="team", kind="apprise", url=SLACK)


def _edit_channel(client, channel, **fields):
    data = {"name": channel.name, "url": "", "emails": channel.emails, "active": "on"} | fields
    return client.post(reverse("channel-edit", args=[channel.pk]), data)


def _stored(row) -> dict:
    row.refresh_from_db()
    return model_to_dict(row)


def test_the_edit_page_never_shows_the_stored_url_only_its_masked_form(login, manager, slack):
    page = html.unescape(
        login(manager).get(reverse("channel-edit", args=[slack.pk])).content.decode()
    )
    assert slack.url_masked in page
    for secret in SLACK_SECRETS:
        assert secret not in page


def test_a_blank_url_keeps_the_stored_one_and_the_rest_changes(login, manager, slack):
    response = _edit_channel(login(manager), slack, name="release team", active="")
    assert response.status_code == 302
    slack.refresh_from_db()
    assert (slack.name, slack.active, slack.url) == ("release team", False, SLACK)


def test_a_new_url_is_checked_stored_and_masked_again(
    login, manager, slack, allow_private, receiver
):
    url = json_url(receiver, "+X-Api-Key=n3w-s3cr3t")
    _edit_channel(login(manager), slack, url=url)
    slack.refresh_from_db()
    assert slack.url == url
    assert "n3w-s3cr3t" not in slack.url_masked and slack.url_masked.startswith("json://")


@pytest.mark.parametrize(
    ("url", "sentence"),
    [
        ("slackk://a/b/c", "slackk:// is not a service Apprise knows"),
        ("json://127.0.0.1:9000/x", "a loopback address"),
        ("json://169.254.169.254/latest", "a cloud metadata address"),
        ("json://[fe80::1]:9000/x", "a link-local address"),
        ("not a url", "This is not an Apprise URL"),
    ],
)
def test_a_refused_url_leaves_the_channel_as_it_was_and_says_why(
    login, manager, slack, settings, url, sentence
):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    before = _stored(slack)
    response = _edit_channel(login(manager), slack, name="renamed", url=url, active="")
    page = html.unescape(response.content.decode())
    assert response.status_code == 200 and sentence in page
    assert url not in page  # the refused input is not echoed either
    assert _stored(slack) == before


def test_an_admin_switch_lets_an_edit_point_at_the_private_network_but_never_metadata(
    login, manager, slack, settings
):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    _edit_channel(login(manager), slack, url="json://127.0.0.1:9000/x")
    assert _stored(slack)["url"] == "json://127.0.0.1:9000/x"
    page = _edit_channel(login(manager), slack, url="json://169.254.169.254/x").content.decode()
    assert "a cloud metadata address" in html.unescape(page)
    assert _stored(slack)["url"] == "json://127.0.0.1:9000/x"


def test_an_email_channel_changes_its_addresses_and_a_bad_one_is_refused(login, manager):
    channel = channel_create(name="mail", kind="email", emails="ops@example.com")
    client = login(manager)
    _edit_channel(client, channel, emails="ops@example.com; oncall@example.com")
    assert _stored(channel)["emails"] == "ops@example.com, oncall@example.com"
    before = _stored(channel)
    page = _edit_channel(client, channel, emails="ops@example.com, nobody").content.decode()
    assert "“nobody” is not an email address." in html.unescape(page)
    assert _stored(channel) == before
    page = _edit_channel(client, channel, name=" ", emails="x@example.com").content.decode()
    assert _stored(channel) == before


def _edit_rule(client, rule, **fields):
    data = {
        "rule-channel": rule.channel_id,
        "rule-events": rule.events,
        "rule-min_severity": rule.min_severity,
        "rule-digest": rule.digest,
        "rule-active": "on",
    } | fields
    return client.post(reverse("rule-edit", args=[rule.pk]), data)


def test_a_manager_edits_a_rule(login, manager, slack):
    rule = rule_create(kinds=[events.RUN_FAILED], channel=slack)
    mail = channel_create(name="mail", kind="email", emails="ops@example.com")
    payments = ServiceFactory(name="payments")
    client = login(manager)
    assert client.get(reverse("rule-edit", args=[rule.pk])).status_code == 200
    response = _edit_rule(
        client,
        rule,
        **{
            "rule-channel": mail.pk,
            "rule-events": [events.GATE_FAILED, events.INCIDENT_OPENED],
            "rule-service": payments.pk,
            "rule-min_severity": "warning",
            "rule-digest": "daily",
            "rule-active": "",
        },
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.events == [events.GATE_FAILED, events.INCIDENT_OPENED]
    assert (rule.channel, rule.service, rule.min_severity, rule.digest, rule.active) == (
        mail,
        payments,
        "warning",
        "daily",
        False,
    )


@pytest.mark.parametrize(
    "bad",
    [
        {"rule-events": ["run.failed", "no.such.event"]},
        {"rule-min_severity": "apocalyptic"},
        {"rule-digest": "weekly"},
        {"rule-channel": "999999"},
        {"rule-channel": ""},
    ],
)
def test_a_refused_rule_edit_leaves_the_rule_as_it_was(login, manager, slack, bad):
    rule = rule_create(kinds=[events.RUN_FAILED], channel=slack, min_severity="warning")
    before = _stored(rule)
    response = _edit_rule(login(manager), rule, **{"rule-active": ""}, **bad)
    assert response.status_code == 200 and 'role="alert"' in response.content.decode()
    assert _stored(rule) == before


def test_an_inactive_channel_stays_choosable_on_its_own_rules_edit(login, manager, slack):
    rule = rule_create(kinds=[], channel=slack)
    Channel.objects.filter(pk=slack.pk).update(active=False)
    response = _edit_rule(login(manager), rule, **{"rule-min_severity": "critical"})
    assert response.status_code == 302
    assert _stored(rule)["min_severity"] == "critical"


@pytest.mark.parametrize("who", ["viewer", "operator"])
def test_viewers_and_operators_cannot_edit_channels_or_rules(request, login, slack, who):
    client = login(request.getfixturevalue(who))
    rule = rule_create(kinds=[], channel=slack)
    before = (_stored(slack), _stored(rule))
    assert client.get(reverse("channel-edit", args=[slack.pk])).status_code == 403
    assert _edit_channel(client, slack, name="mine now").status_code == 403
    assert client.get(reverse("rule-edit", args=[rule.pk])).status_code == 403
    assert _edit_rule(client, rule, **{"rule-min_severity": "critical"}).status_code == 403
    assert (_stored(slack), _stored(rule)) == before


def test_a_subscription_is_not_edited_as_a_team_rule(login, manager, slack):
    sub = rule_create(kinds=[], channel=slack, subscriber=manager)
    assert login(manager).get(reverse("rule-edit", args=[sub.pk])).status_code == 404


def test_a_person_edits_their_own_subscription_and_not_anothers(login, viewer, operator, slack):
    viewer.email = "vera@example.com"
    viewer.save()
    mine = rule_create(kinds=[events.RUN_FAILED], subscriber=viewer, channel=slack)
    theirs = rule_create(kinds=[], subscriber=operator, channel=slack)
    client = login(viewer)
    assert client.get(reverse("subscription-edit", args=[theirs.pk])).status_code == 404
    before = _stored(theirs)
    data = {"sub-events": [events.TEST_FLAKY], "sub-min_severity": "info", "sub-mine_only": "on"}
    assert client.post(reverse("subscription-edit", args=[theirs.pk]), data).status_code == 404
    assert _stored(theirs) == before

    response = client.post(
        reverse("subscription-edit", args=[mine.pk]), data | {"sub-active": "on"}
    )
    assert response.status_code == 302
    mine.refresh_from_db()
    assert (mine.events, mine.channel, mine.owner_user, mine.active) == (
        [events.TEST_FLAKY],
        None,
        viewer,
        True,
    )


def test_a_subscription_to_my_email_without_an_address_is_refused_and_kept(login, viewer, slack):
    sub = rule_create(kinds=[], subscriber=viewer, channel=slack)
    before = _stored(sub)
    response = login(viewer).post(
        reverse("subscription-edit", args=[sub.pk]),
        {"sub-min_severity": "info", "sub-channel": ""},
    )
    assert "Your account has no email address" in html.unescape(response.content.decode())
    assert _stored(sub) == before
    assert NotificationRule.objects.count() == 1
