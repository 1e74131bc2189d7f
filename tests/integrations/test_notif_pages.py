"""The notifications pages: Managers add channels and rules (others get 403), bad URLs are
refused with a sentence, secrets stay masked, and every signed-in user manages their own
subscriptions and only theirs."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from integrations import events
from integrations.models import Channel, NotificationDelivery, NotificationRule
from integrations.services.notifications import channel_create, rule_create

pytestmark = pytest.mark.django_db

SLACK = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#general"


def _add_channel(client, url: str, kind: str = "apprise", emails: str = ""):
    return client.post(
        reverse("notification-list"),
        {
            "form": "channel",
            "channel-name": "team",
            "channel-kind": kind,
            "channel-url": url,
            "channel-emails": emails,
        },
    )


@pytest.mark.parametrize("who", ["viewer", "operator"])
def test_viewers_and_operators_cannot_add_channels_or_rules(request, login, who):
    client = login(request.getfixturevalue(who))
    channel = channel_create(name="mail", kind="email", emails="ops@example.com")
    assert client.get(reverse("notification-list")).status_code == 403
    assert _add_channel(client, SLACK).status_code == 403
    for name in ("channel-test", "channel-delete"):
        assert client.post(reverse(name, args=[channel.pk])).status_code == 403
    assert Channel.objects.count() == 1 and not NotificationDelivery.objects.exists()


def test_a_manager_adds_a_slack_channel_and_only_its_masked_form_is_shown(login, manager):
    client = login(manager)
    response = _add_channel(client, SLACK)
    assert response.status_code == 302

    channel = Channel.objects.get()
    assert channel.url == SLACK and channel.created_by == manager
    page = html.unescape(client.get(reverse("notification-list")).content.decode())
    assert channel.url_masked in page
    for secret in ("TIiajkdnlazkcOXrIdevi7FQ", "A1BRTD4JD", "T1JJ3T3L2"):
        assert secret not in page


def test_an_invalid_or_private_url_is_refused_on_the_page_with_a_sentence(login, manager, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    client = login(manager)
    page = html.unescape(_add_channel(client, "slackk://a/b/c").content.decode())
    assert "slackk:// is not a service Apprise knows" in page
    page = html.unescape(_add_channel(client, "json://127.0.0.1:9000/x").content.decode())
    assert "a loopback address" in page
    assert not Channel.objects.exists()


def test_a_manager_adds_a_rule_and_a_test_message_is_queued(login, manager):
    client = login(manager)
    _add_channel(client, "", kind="email", emails="ops@example.com")
    channel = Channel.objects.get()
    response = client.post(
        reverse("notification-list"),
        {
            "form": "rule",
            "rule-channel": channel.pk,
            "rule-events": [events.INCIDENT_OPENED, events.GATE_FAILED],
            "rule-min_severity": "warning",
            "rule-digest": "hourly",
        },
    )
    assert response.status_code == 302
    rule = NotificationRule.objects.get()
    assert rule.events == [events.INCIDENT_OPENED, events.GATE_FAILED]
    assert (rule.min_severity, rule.digest, rule.subscriber) == ("warning", "hourly", None)

    client.post(reverse("channel-test", args=[channel.pk]))
    assert NotificationDelivery.objects.get().channel == channel


def test_a_viewer_subscribes_to_events_by_email_and_unsubscribes(login, viewer, operator):
    viewer.email = "vera@example.com"
    viewer.save()
    client = login(viewer)
    page = client.get(reverse("notification-mine"))
    assert page.status_code == 200
    response = client.post(
        reverse("notification-mine"),
        {
            "sub-events": [events.ANALYSIS_VERIFIED],
            "sub-min_severity": "info",
            "sub-mine_only": "on",
        },
    )
    assert response.status_code == 302
    sub = NotificationRule.objects.get()
    assert (sub.subscriber, sub.channel, sub.owner_user) == (viewer, None, viewer)

    others = rule_create(
        kinds=[],
        subscriber=operator,
        channel=channel_create(name="mail", kind="email", emails="ops@example.com"),
    )
    assert client.post(reverse("subscription-delete", args=[others.pk])).status_code == 404
    assert client.post(reverse("subscription-delete", args=[sub.pk])).status_code == 302
    assert list(NotificationRule.objects.all()) == [others]


def test_a_subscription_without_an_address_says_what_to_do(login, viewer):
    client = login(viewer)
    page = client.post(reverse("notification-mine"), {"sub-min_severity": "info"})
    assert "Your account has no email address" in html.unescape(page.content.decode())
    assert not NotificationRule.objects.exists()


def test_the_webhook_form_offers_the_new_events(login, manager):
    page = login(manager).get(reverse("webhook-list")).content.decode()
    for kind in (events.SIGNATURE_NEW, events.TEST_FLAKY, events.ANALYSIS_VERIFIED):
        assert f'value="{kind}"' in page
