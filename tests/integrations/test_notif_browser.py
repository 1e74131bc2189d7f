"""In Chromium: a Manager adds an Apprise channel (a bad URL first, refused with a sentence),
sees it masked, routes events to it and sends a test message the real receiver gets; a Viewer
subscribes to events on their own page and sees no Manager pages."""

from __future__ import annotations

import pytest

from integrations.models import Channel, NotificationRule
from integrations.services.notification_sending import notifications_send_due
from tests.integrations.notif_support import json_url, message_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_adds_a_channel_and_a_rule_and_sends_a_test_message(
    browser_login, live_server, manager, allow_private, receiver, js_errors
):
    page = browser_login(manager)
    page.click("nav >> text=Notifications")

    page.fill("#id_channel-name", "ops")
    page.fill("#id_channel-url", "slackk://a/b/c")
    page.click("#channel-create button[type=submit]")
    assert "slackk:// is not a service Apprise knows" in page.inner_text("#channel-url-error")
    assert not Channel.objects.exists()

    url = json_url(receiver, "+X-Api-Key=k3y-s3cr3t")  # a header Apprise sends
    page.fill("#id_channel-url", url)
    page.click("#channel-create button[type=submit]")
    channel = Channel.objects.get()
    assert "k3y-s3cr3t" not in page.content()
    assert page.inner_text("#channels .channel-target") == channel.url_masked

    page.select_option("#id_rule-channel", str(channel.pk))
    page.check("input[value='incident.opened']")
    page.select_option("#id_rule-digest", "hourly")
    page.click("#rule-create button[type=submit]")
    assert "incident.opened" in page.inner_text("#rules")
    assert NotificationRule.objects.get().digest == "hourly"

    page.click(f"#test-channel-{channel.pk}")
    notifications_send_due()  # what the worker does on commit
    page.reload()
    assert "Delivered" in page.inner_text("#notification-log")
    assert receiver.wait_for(1)
    assert message_of(receiver.requests[0])["message"].startswith("A test message from Stageloop")
    assert receiver.requests[0].headers.get("X-Api-Key") == "k3y-s3cr3t"
    assert js_errors == []


def test_a_viewer_subscribes_on_their_own_page(browser_login, live_server, viewer, js_errors):
    viewer.email = "vera@example.com"
    viewer.save()
    page = browser_login(viewer)
    assert page.locator("nav a[href='/settings/notifications/']").count() == 0
    page.click("nav >> text=My notifications")
    page.check("input[value='test.quarantined']")
    page.check("#id_sub-mine_only")
    page.select_option("#id_sub-digest", "daily")
    page.click("#subscribe button[type=submit]")

    assert "test.quarantined" in page.inner_text("#subscriptions")
    sub = NotificationRule.objects.get()
    assert (sub.subscriber_id, sub.owner_user_id, sub.digest) == (viewer.pk, viewer.pk, "daily")
    page.click("#subscriptions button[type=submit]")
    assert not NotificationRule.objects.exists()
    assert js_errors == []
