"""The message log and a webhook's delivery log page by keyset: newest first, every row once
however many share a time, a row written meanwhile not shifting the older pages, a bad cursor a
400 with a sentence."""

from __future__ import annotations

import html
import re
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.models import NotificationDelivery, WebhookDelivery
from integrations.selectors.paging import cursor_of, cursor_parse
from integrations.services.notifications import channel_create, rule_create
from runs.params import BadParam

pytestmark = pytest.mark.django_db

_OLDER = re.compile(r'<a rel="next" class="log-older" href="\?([^"#]*)#')


def _times(count: int) -> list:
    """Newest first; every third row shares its time with the next (ties broken by id)."""
    start = timezone.now() - timedelta(days=1)
    return [start - timedelta(seconds=i - i % 3) for i in range(count)]


@pytest.fixture
def messages_sent(db):
    channel = channel_create(name="mail", kind="email", emails="ops@example.com")
    rows = NotificationDelivery.objects.bulk_create(
        NotificationDelivery(
            channel=channel,
            event_id=uuid.uuid4(),
            kind="run.failed",
            title=f"message {i}",
            text=f"message {i}",
            status="delivered",
        )
        for i in range(123)
    )
    for row, at in zip(rows, _times(len(rows)), strict=True):
        NotificationDelivery.objects.filter(pk=row.pk).update(created_at=at)
    return NotificationDelivery.objects.order_by("-created_at", "-pk")


def _walk(client, url: str, marker: re.Pattern, max_queries, per_page: int) -> list[str]:
    """Follow the "older" links from ``url``; every shown row's marker, in page order."""
    seen, query, pages = [], "", 0
    while True:
        with max_queries(20):  # the same on every page: read after a cursor, never counted
            response = client.get(f"{url}?{query}")
        assert response.status_code == 200
        page = response.content.decode()
        found = marker.findall(page)
        assert len(found) <= per_page
        seen += found
        pages += 1
        older = _OLDER.search(page)
        if older is None:
            return seen
        assert len(found) == per_page
        query = html.unescape(older[1])
        assert pages < 20


def test_the_message_log_pages_through_every_message_newest_first(
    login, manager, messages_sent, django_assert_max_num_queries
):
    client = login(manager)
    seen = _walk(
        client,
        reverse("notification-list"),
        re.compile(r">(message \d+)</td>"),
        django_assert_max_num_queries,
        per_page=50,
    )
    assert seen == [row.text for row in messages_sent]  # 50 + 50 + 23, ties included


def test_a_message_written_while_paging_does_not_shift_the_older_pages(
    login, manager, messages_sent
):
    before = list(messages_sent)
    client = login(manager)
    first = client.get(reverse("notification-list")).content.decode()
    older = html.unescape(_OLDER.search(first)[1])
    newest = before[0]
    NotificationDelivery.objects.create(
        channel=newest.channel,
        event_id=uuid.uuid4(),
        kind="run.failed",
        title="new",
        text="brand new",
    )
    second = client.get(f"{reverse('notification-list')}?{older}").content.decode()
    assert "brand new" not in second
    assert re.findall(r">(message \d+)</td>", second)[0] == before[50].text
    assert "← newest" in second


def test_my_notifications_page_my_own_messages_twenty_at_a_time(
    login, viewer, messages_sent, django_assert_max_num_queries
):
    viewer.email = "vera@example.com"
    viewer.save()
    rule = rule_create(kinds=[], subscriber=viewer)
    mine = messages_sent.filter(pk__in=[row.pk for row in messages_sent[:45]])
    mine.update(rule=rule)
    seen = _walk(
        login(viewer),
        reverse("notification-mine"),
        re.compile(r">(message \d+)</td>"),
        django_assert_max_num_queries,
        per_page=20,
    )
    assert seen == [row.text for row in messages_sent[:45]]


def test_a_webhooks_delivery_log_pages_through_every_delivery(
    login, manager, make_webhook, django_assert_max_num_queries
):
    hook, _ = make_webhook()
    rows = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(webhook=hook, event_id=uuid.uuid4(), kind=f"k{i}", body="{}")
        for i in range(107)
    )
    for row, at in zip(rows, _times(len(rows)), strict=True):
        WebhookDelivery.objects.filter(pk=row.pk).update(created_at=at)
    seen = _walk(
        login(manager),
        reverse("webhook-detail", args=[hook.pk]),
        re.compile(r"<td><code>(k\d+)</code>"),
        django_assert_max_num_queries,
        per_page=50,
    )
    expected = WebhookDelivery.objects.order_by("-created_at", "-pk").values_list("kind", flat=True)
    assert seen == list(expected)


@pytest.mark.parametrize(
    "after",
    ["yesterday", "12", "1.2.3", "-5.3", "999999999999999999.1", "1.99999999999999999999", "1 .2"],
)
def test_a_cursor_no_link_made_is_a_400_with_a_sentence(login, manager, make_webhook, after):
    hook, _ = make_webhook()
    client = login(manager)
    for url in (
        reverse("notification-list"),
        reverse("notification-mine"),
        reverse("webhook-detail", args=[hook.pk]),
    ):
        response = client.get(url, {"after": after})
        assert response.status_code == 400
        assert "is not a place in this log" in html.unescape(response.content.decode())


def test_a_cursor_names_a_rows_time_to_the_microsecond_and_its_id():
    moment = timezone.now()
    assert cursor_parse(cursor_of(moment, 42)) == (moment, 42)
    assert cursor_parse("") is None
    with pytest.raises(BadParam) as refused:
        cursor_parse("0x10.1")
    assert refused.value.name == "after"
