"""A webhook URL that reaches the server's own network is refused when saved and when sent."""

from __future__ import annotations

import pytest

from integrations import events
from integrations.models import Webhook, WebhookDelivery
from integrations.services.deliveries import deliveries_send_due
from integrations.services.events import event_emit
from integrations.services.webhooks import WebhookInvalid, webhook_create
from integrations.urlguard import url_refusal

KINDS = [events.RUN_FAILED]


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:8000/hooks", "a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "a cloud metadata address"),
        ("http://localhost:8000/hooks", "a loopback address"),
        ("http://10.0.0.5/hooks", "a private address"),
        ("http://192.168.1.10/hooks", "a private address"),
        ("http://169.254.10.1/hooks", "a link-local address"),
        ("http://0.0.0.0/hooks", "an unspecified address"),
        ("http://[::1]/hooks", "a loopback address"),
        ("http://[::ffff:127.0.0.1]/hooks", "a loopback address"),
    ],
)
def test_a_url_reaching_a_non_public_address_is_refused_when_saved(db, settings, url, why):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    with pytest.raises(WebhookInvalid) as refused:
        webhook_create(name="x", url=url, kinds=KINDS)
    assert why in str(refused.value)
    assert "STAGELOOP_WEBHOOKS_ALLOW_PRIVATE" in str(refused.value)
    assert not Webhook.objects.exists()


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "gopher://a/"])
def test_only_http_and_https_are_accepted(url):
    assert url_refusal(url, allow_private=True) == (
        "Only http:// and https:// URLs can receive webhooks."
    )


def test_the_admins_switch_allows_private_addresses_but_never_metadata():
    assert url_refusal("http://127.0.0.1:9/hooks", allow_private=True) == ""
    assert url_refusal("http://10.1.2.3/hooks", allow_private=True) == ""
    assert "metadata" in url_refusal("http://169.254.169.254/", allow_private=True)


def test_a_host_that_does_not_resolve_is_refused():
    refusal = url_refusal("https://no-such-host.invalid/hooks", allow_private=False)
    assert "does not resolve" in refusal


@pytest.mark.django_db(transaction=True)
def test_a_url_saved_while_allowed_is_refused_at_send_time_once_the_switch_is_off(
    settings, receiver
):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    webhook_create(name="x", url=receiver.url, kinds=KINDS)
    event_emit(kind=events.RUN_FAILED, service=None, payload={})
    settings.WEBHOOKS_ALLOW_PRIVATE = False  # as a name rebound to 127.0.0.1 would meet it

    deliveries_send_due()

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.FAILED  # a refusal is not retried
    assert "loopback" in delivery.error and "Not sent" in delivery.error
    assert receiver.requests == []
