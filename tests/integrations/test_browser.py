"""In Chromium: a Manager creates a webhook through the form, copies its secret from the one page
that shows it, sends a test event that the real receiver gets, and finds it in the log."""

from __future__ import annotations

import pytest

from integrations.models import Webhook
from integrations.services.deliveries import deliveries_send_due
from integrations.signing import signature_valid

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_creates_a_webhook_and_sends_a_test_event(
    browser_login, live_server, manager, allow_private, receiver, js_errors
):
    page = browser_login(manager)
    page.click("nav >> text=Webhooks")
    page.fill("#id_name", "ci")
    page.fill("#id_url", receiver.url)
    page.check("input[value='run.failed']")
    page.click("#webhook-create button[type=submit]")

    secret = page.input_value("#webhook-secret")
    hook = Webhook.objects.get()
    assert secret == hook.secret
    page.click("text=Open the webhook")
    assert secret not in page.content()
    assert page.inner_text("#webhook-secret-masked") == hook.secret_masked

    page.click("#send-test")
    deliveries_send_due()  # what the worker does on commit
    page.reload()
    assert "Delivered" in page.inner_text("#deliveries")
    got = receiver.requests[0]
    assert signature_valid(secret=secret, body=got.body, header=got.headers["Stageloop-Signature"])
    assert js_errors == []


def test_a_manager_rotates_a_secret_and_the_receiver_accepts_either_during_the_grace(
    browser_login, live_server, manager, make_webhook, receiver, js_errors
):
    hook, old = make_webhook()
    page = browser_login(manager)
    page.goto(f"{live_server.url}/settings/webhooks/{hook.pk}/")

    page.click("#rotate-secret")

    new = page.input_value("#webhook-secret")
    hook.refresh_from_db()
    assert new == hook.secret and new != old
    assert "The previous secret signs too until" in page.inner_text("#old-secret-until")
    page.click("#send-test")
    deliveries_send_due()
    got = receiver.requests[0]
    header = got.headers["Stageloop-Signature"]
    assert signature_valid(secret=new, body=got.body, header=header)
    assert signature_valid(secret=old, body=got.body, header=header)
    assert new not in page.content()  # the test event's redirect shows the masked secret only
    assert js_errors == []
