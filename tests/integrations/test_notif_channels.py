"""Channels: a bad Apprise URL is refused with a sentence, private and metadata targets are
refused unless the admin's switch allows them (metadata never), secrets never show in pages or
logs, and services with fixed hosts (Slack, Teams, Discord, Telegram) get the request Apprise
would send, captured below requests so nothing leaves the machine."""

from __future__ import annotations

import json
import logging

import pytest

from integrations import events
from integrations.models import Channel, NotificationDelivery
from integrations.services.events import event_emit
from integrations.services.notification_sending import notifications_send_due
from integrations.services.notifications import NotificationInvalid, channel_create
from tests.factories import ServiceFactory
from tests.integrations.notif_support import route

pytestmark = pytest.mark.django_db

SLACK = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#general"
SLACK_SECRETS = ("TIiajkdnlazkcOXrIdevi7FQ", "A1BRTD4JD", "T1JJ3T3L2")
DISCORD = "discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js"
TELEGRAM = "tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/-1001234567890/"
TEAMS = (  # Microsoft Teams, through a Power Automate workflow
    "workflow://prod-00.westus.logic.azure.com:443/a1b2c3d4e5f60718293a4b5c6d7e8f90/"
    "Q2hhbmdlTWVTaWduYXR1cmVQbGVhc2U"
)


@pytest.fixture
def public_dns(monkeypatch):
    """This machine has no DNS: names outside it resolve to a public address (the guard then
    checks that address, as it would the real one)."""
    import integrations.urlguard

    real = integrations.urlguard._resolve

    def resolve(host: str, port: int) -> list[str]:
        return real(host, port) if host in ("localhost",) else ["52.96.0.10"]

    monkeypatch.setattr(integrations.urlguard, "_resolve", resolve)


def _run_failed(service) -> None:
    event_emit(
        kind=events.RUN_FAILED,
        service=service,
        payload={
            "run": {
                "id": 9,
                "url": "https://stageloop.example.com/runs/9/",
                "status": "failed",
                "suite": {"id": 1, "name": "e2e"},
                "revision": None,
                "total": 3,
                "passed": 2,
                "failed": 1,
                "errors": 0,
            }
        },
    )


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("hooks.example.com/x", "not an Apprise URL"),
        ("slackk://a/b/c", "slackk:// is not a service Apprise knows"),
        ("json://", "incomplete or malformed"),
        ("slack://onlyonetoken", "incomplete or malformed"),
    ],
)
def test_an_invalid_apprise_url_is_refused_with_a_sentence_and_nothing_saved(db, url, says):
    with pytest.raises(NotificationInvalid, match=says):
        channel_create(name="bad", kind="apprise", url=url)
    assert not Channel.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "json://127.0.0.1:8080/hook",
        "ntfy://localhost/alerts",
        "form://10.0.0.5/hook",
        "json://169.254.10.1/x",
        "json://[::1]:9000/x",
        "mailto://user:pw@localhost:2525?to=a@example.com",
    ],
)
def test_urls_to_loopback_private_or_link_local_hosts_are_refused(db, settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    with pytest.raises(NotificationInvalid, match="channels only reach public addresses"):
        channel_create(name="inside", kind="apprise", url=url)


def test_the_admin_switch_allows_private_hosts_but_never_the_metadata_address(db, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    channel_create(name="inside", kind="apprise", url="json://127.0.0.1:8080/hook")
    with pytest.raises(NotificationInvalid, match="cloud metadata address"):
        channel_create(name="meta", kind="apprise", url="json://169.254.169.254/latest")


def test_bad_email_addresses_are_refused(db):
    with pytest.raises(NotificationInvalid, match="not an email address"):
        channel_create(name="mail", kind="email", emails="oncall@example.com, nope")
    with pytest.raises(NotificationInvalid, match="at least one email"):
        channel_create(name="mail", kind="email", emails=" , ")


def test_secrets_are_masked_in_the_stored_form_pages_show(db, public_dns):
    channel = channel_create(name="slack", kind="apprise", url=SLACK)
    for secret in SLACK_SECRETS:
        assert secret not in channel.target
    assert channel.target.startswith("slack://")

    header = channel_create(
        name="json",
        kind="apprise",
        url="jsons://user:hunter22@hooks.example.com/x?+X-Token=abc9&-sig=c0ffee",
    )
    for secret in ("hunter22", "abc9", "c0ffee"):
        assert secret not in header.target


def test_slack_gets_the_request_apprise_would_send_and_nothing_leaves(db, no_network):
    route(channel_create(name="slack", kind="apprise", url=SLACK))
    _run_failed(ServiceFactory(name="payments"))

    assert notifications_send_due().delivered == 1
    [request] = no_network
    assert request.url == f"https://hooks.slack.com/services/{'/'.join(reversed(SLACK_SECRETS))}"
    body = json.loads(request.body)
    assert body["channel"] == "#general"
    assert "payments: run #9 of e2e failed (1 failed, 0 errors of 3)" in json.dumps(body)
    assert "https://stageloop.example.com/runs/9/" in json.dumps(body)


@pytest.mark.parametrize(
    ("url", "host", "secret"),
    [
        (DISCORD, "discord.com", "JHMHI8qBe7bk2ZwO5U711o3dV_js"),
        (TELEGRAM, "api.telegram.org", "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"),
        (TEAMS, "prod-00.westus.logic.azure.com", "Q2hhbmdlTWVTaWduYXR1cmVQbGVhc2U"),
    ],
)
def test_discord_telegram_and_teams_get_their_requests_without_sending(
    db, no_network, public_dns, settings, url, host, secret
):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    channel = channel_create(name="chat", kind="apprise", url=url)
    assert secret not in channel.target
    route(channel)
    _run_failed(ServiceFactory(name="payments"))

    assert notifications_send_due().delivered == 1
    sent = [r for r in no_network if host in r.url]
    assert sent, [r.url for r in no_network]
    assert any("payments: run #9 of e2e failed" in r.body for r in sent)


def test_a_failed_send_is_logged_and_recorded_without_the_channels_secrets(
    db, allow_private, caplog
):
    url = "json://ops:s3cr3t-pass@127.0.0.1:1/x?-Authorization=Bearer-t0k3n"
    channel = channel_create(name="down", kind="apprise", url=url)
    route(channel)
    _run_failed(ServiceFactory())

    with caplog.at_level(logging.DEBUG):
        assert notifications_send_due().retrying == 1

    delivery = NotificationDelivery.objects.get()
    assert delivery.error  # says what went wrong
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"notification {delivery.pk}" in logged
    for secret in ("s3cr3t-pass", "Bearer-t0k3n", "t0k3n"):
        assert secret not in delivery.error and secret not in logged
        assert secret not in channel.target


def test_concurrent_failures_each_record_only_their_own_error(db, allow_private, settings):
    settings.NOTIFICATIONS_CONCURRENCY = 4
    for host in ("127.0.0.1", "127.0.0.2", "127.0.0.3"):
        route(channel_create(name=host, kind="apprise", url=f"json://{host}:1/x"))
    _run_failed(ServiceFactory())

    assert notifications_send_due().retrying == 3
    for delivery in NotificationDelivery.objects.select_related("channel"):
        host = delivery.channel.name
        assert host in delivery.error
        assert not any(
            other in delivery.error for other in {"127.0.0.1", "127.0.0.2", "127.0.0.3"} - {host}
        )


def test_a_channel_saved_while_private_hosts_were_allowed_is_not_sent_once_they_are_not(
    json_channel, receiver, settings
):
    route(json_channel())
    settings.WEBHOOKS_ALLOW_PRIVATE = False  # the admin turned the switch off
    _run_failed(ServiceFactory())

    assert notifications_send_due().delivered == 0
    delivery = NotificationDelivery.objects.get()
    assert delivery.error.startswith("Not sent: The host 127.0.0.1 resolves to 127.0.0.1")
    assert receiver.requests == []
