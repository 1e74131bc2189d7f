"""The webhooks pages: Managers manage them, the secret is shown once then masked, bad URLs are
refused with a sentence, and the buttons do what they say."""

from __future__ import annotations

import html

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse

from integrations import events
from integrations.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db


def _create(client, url: str) -> object:
    return client.post(
        reverse("webhook-list"),
        {"name": "ci", "url": url, "events": [events.RUN_FAILED, events.GATE_FAILED]},
    )


@pytest.mark.parametrize("who", ["viewer", "operator"])
def test_viewers_and_operators_cannot_manage_webhooks(request, login, make_webhook, who):
    client = login(request.getfixturevalue(who))
    hook, _ = make_webhook()
    assert client.get(reverse("webhook-list")).status_code == 403
    assert client.get(reverse("webhook-detail", args=[hook.pk])).status_code == 403
    assert _create(client, "https://example.com/hooks").status_code == 403
    for name in ("webhook-pause", "webhook-delete", "webhook-test"):
        assert client.post(reverse(name, args=[hook.pk])).status_code == 403
    assert Webhook.objects.get().active and WebhookDelivery.objects.count() == 0


def test_a_manager_creates_a_webhook_and_sees_its_secret_once(
    login, manager, allow_private, receiver
):
    client = login(manager)
    page = _create(client, receiver.url)

    hook = Webhook.objects.get()
    assert hook.created_by == manager and hook.events == ["run.failed", "gate.failed"]
    assert hook.secret in page.content.decode()
    later = client.get(reverse("webhook-detail", args=[hook.pk])).content.decode()
    assert hook.secret not in later and hook.secret_masked in later
    assert hook.secret not in client.get(reverse("webhook-list")).content.decode()


def test_a_url_to_the_servers_own_network_is_refused_with_a_sentence(login, manager, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    page = _create(login(manager), "http://169.254.169.254/latest/meta-data/")
    assert page.status_code == 200
    assert "a cloud metadata address" in page.content.decode()
    assert not Webhook.objects.exists()


def test_the_buttons_pause_resume_send_a_test_and_redeliver(login, manager, make_webhook):
    client = login(manager)
    hook, _ = make_webhook()

    client.post(reverse("webhook-pause", args=[hook.pk]))
    hook.refresh_from_db()
    assert not hook.active and "Paused by mona-manager" in hook.paused_reason
    client.post(reverse("webhook-resume", args=[hook.pk]))
    hook.refresh_from_db()
    assert hook.active and hook.paused_reason == ""

    client.post(reverse("webhook-test", args=[hook.pk]))
    test = WebhookDelivery.objects.get()
    assert test.kind == "webhook.test" and test.manual
    WebhookDelivery.objects.filter(pk=test.pk).update(status="failed", next_attempt_at=None)
    page = client.get(reverse("webhook-detail", args=[hook.pk])).content.decode()
    assert "Redeliver" in page and "webhook.test" in page
    client.post(reverse("delivery-redeliver", args=[test.pk]))
    assert WebhookDelivery.objects.filter(redelivery_of=test).count() == 1


def test_an_edit_changes_the_webhook_and_a_delete_removes_it(
    login, manager, make_webhook, receiver
):
    client = login(manager)
    hook, secret = make_webhook()
    client.post(
        reverse("webhook-detail", args=[hook.pk]),
        {"name": "renamed", "url": receiver.url + "/v2", "events": [events.INCIDENT_OPENED]},
    )
    hook.refresh_from_db()
    assert hook.name == "renamed" and hook.events == ["incident.opened"]
    assert hook.secret == secret  # an edit keeps the secret
    client.post(reverse("webhook-delete", args=[hook.pk]))
    assert not Webhook.objects.exists()


def test_the_docs_page_shows_every_event_and_the_verification(login, viewer):
    page = login(viewer).get(reverse("webhook-docs")).content.decode()
    for kind in [*events.KINDS, events.TEST]:
        assert kind in page
    assert "hmac.compare_digest" in page and "Stageloop-Signature" in page


@pytest.mark.parametrize(
    ("fields", "sentence"),
    [
        ({"url": "http://169.254.169.254/latest/meta-data/"}, "a cloud metadata address"),
        ({"url": "http://127.0.0.1:9/hooks"}, "a loopback address"),
        ({"url": "http://[fe80::1]:9/hooks"}, "a link-local address"),
        ({"url": "ftp://example.com/hooks"}, "Only http:// and https:// URLs"),
        ({"url": "not a url"}, "Enter a valid URL"),
        ({"events": []}, "Choose at least one event to send."),
        ({"events": ["no.such.event"]}, "Select a valid choice"),
        ({"name": ""}, "This field is required."),
    ],
)
def test_a_refused_edit_leaves_the_webhook_as_it_was_and_says_why(
    login, manager, make_webhook, settings, fields, sentence
):
    hook, _ = make_webhook()
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    before = model_to_dict(Webhook.objects.get(pk=hook.pk))
    data = {"name": "renamed", "url": "https://example.com/hooks", "events": ["run.failed"]}
    response = login(manager).post(reverse("webhook-detail", args=[hook.pk]), data | fields)
    assert response.status_code == 200 and sentence in html.unescape(response.content.decode())
    assert model_to_dict(Webhook.objects.get(pk=hook.pk)) == before


@pytest.mark.parametrize("who", ["viewer", "operator"])
def test_viewers_and_operators_cannot_edit_a_webhook(request, login, make_webhook, who):
    hook, _ = make_webhook()
    before = model_to_dict(Webhook.objects.get(pk=hook.pk))
    response = login(request.getfixturevalue(who)).post(
        reverse("webhook-detail", args=[hook.pk]),
        {"name": "mine", "url": "https://example.com/hooks", "events": ["run.failed"]},
    )
    assert response.status_code == 403
    assert model_to_dict(Webhook.objects.get(pk=hook.pk)) == before
