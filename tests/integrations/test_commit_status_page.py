"""The commit statuses page: Managers read what was posted (one service's or all, newest first,
paged), never a token; a failed status is posted again unless a newer one followed."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.models import CommitStatus
from tests.factories import ServiceFactory
from tests.integrations.codehost_server import codehost  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

SHA = "4e1f0c2a9b7d5e3f1a0c8b6d4e2f0a1b3c5d7e9f"
TOKEN = "ghp_PageTokenThatMustNeverShow0123"
Status = CommitStatus.Status


@pytest.fixture
def github(settings, codehost):  # noqa: F811 (the fixture imported above)
    settings.GITHUB_TOKEN, settings.GITHUB_API_URL = TOKEN, codehost.url
    settings.GITLAB_TOKEN = ""
    settings.COMMIT_STATUS_TIMEOUT, settings.COMMIT_STATUS_CONNECT_TIMEOUT = 1, 1
    return codehost


def _status(service, *, context="stageloop/payments/e2e", ago=0, **fields) -> CommitStatus:
    row = CommitStatus.objects.create(
        service=service,
        host="github",
        repository="acme/payments",
        sha=SHA,
        context=context,
        state=fields.pop("state", "failure"),
        next_attempt_at=None,
        **({"status": Status.DELIVERED} | fields),
    )
    CommitStatus.objects.filter(pk=row.pk).update(
        created_at=timezone.now() - timedelta(minutes=ago)
    )
    return row


@pytest.fixture
def payments(db):
    return ServiceFactory(name="payments", code_host="github", code_repository="acme/payments")


def _rows(page: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr id="commit-status-(\d+)"', page)]


@pytest.mark.parametrize("who", ["viewer", "operator"])
def test_viewers_and_operators_cannot_read_or_repost(request, login, payments, who):
    row = _status(payments, status=Status.FAILED)
    client = login(request.getfixturevalue(who))
    assert client.get(reverse("commit-status-list")).status_code == 403
    assert client.post(reverse("commit-status-repost", args=[row.pk])).status_code == 403
    assert CommitStatus.objects.count() == 1


def test_a_manager_reads_statuses_newest_first_and_one_services_alone(
    login, manager, payments, django_assert_max_num_queries
):
    other = ServiceFactory(name="search", code_host="gitlab", code_repository="acme/search")
    old = _status(payments, ago=10)
    new = _status(payments, ago=1, context="stageloop/payments/gate", state="success")
    theirs = _status(other, ago=5)
    client = login(manager)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("commit-status-list")).content.decode()
    assert _rows(page) == [new.pk, theirs.pk, old.pk]
    assert "acme/payments@4e1f0c2a9b7d" in page and "stageloop/payments/gate" in page
    only = client.get(reverse("commit-status-list"), {"service": payments.pk}).content.decode()
    assert _rows(only) == [new.pk, old.pk]
    failed = client.get(reverse("commit-status-list"), {"status": "delivered"}).content.decode()
    assert len(_rows(failed)) == 3


def test_the_page_never_shows_a_token_even_one_a_host_echoed(login, manager, payments, github):
    _status(
        payments,
        status=Status.FAILED,
        last_status_code=401,
        error=f"GitHub refused the token {TOKEN}: check STAGELOOP_GITHUB_TOKEN.",
        response_excerpt=f'{{"message": "Bad credentials", "token": "{TOKEN}"}}',
    )
    page = html.unescape(login(manager).get(reverse("commit-status-list")).content.decode())
    assert TOKEN not in page
    assert "GitHub refused the token ****" in page and '"token": "****"' in page


def test_a_failed_status_is_posted_again_and_reaches_the_host(login, manager, payments, github):
    from integrations.services.commit_statuses import commit_statuses_send_due

    row = _status(payments, status=Status.GIVEN_UP, attempts=8, error="The host answered 502.")
    client = login(manager)
    assert f'id="repost-{row.pk}"' in client.get(reverse("commit-status-list")).content.decode()
    response = client.post(reverse("commit-status-repost", args=[row.pk]))
    assert response.status_code == 302
    copy = CommitStatus.objects.exclude(pk=row.pk).get()
    assert (copy.status, copy.sha, copy.context, copy.state) == (
        Status.PENDING,
        SHA,
        row.context,
        "failure",
    )
    assert commit_statuses_send_due(now=timezone.now()).delivered == 1
    assert github.calls[0].path == f"/repos/acme/payments/statuses/{SHA}"
    row.refresh_from_db()
    assert row.status == Status.GIVEN_UP  # the failed post stays in the log as it was


@pytest.mark.parametrize(
    ("case", "sentence"),
    [
        ("newer", "A newer status of stageloop/payments/e2e on this commit was written since"),
        ("delivered", "Only a failed or given-up status can be posted again"),
        ("no token", "No token is set for GitHub: set STAGELOOP_GITHUB_TOKEN"),
    ],
)
def test_a_repost_that_would_go_back_in_time_or_cannot_go_is_refused(
    login, manager, payments, github, settings, case, sentence
):
    row = _status(payments, ago=5, status=Status.DELIVERED if case == "delivered" else "failed")
    if case == "newer":
        _status(payments, ago=1, state="success")
    if case == "no token":
        settings.GITHUB_TOKEN = ""
    before = CommitStatus.objects.count()
    client = login(manager)
    page = client.post(reverse("commit-status-repost", args=[row.pk]), follow=True)
    assert sentence in html.unescape(page.content.decode())
    assert CommitStatus.objects.count() == before
    if case == "newer":
        assert f'id="repost-{row.pk}"' not in page.content.decode()


@pytest.mark.parametrize(
    ("params", "sentence"),
    [
        ({"service": "payments"}, "is not a service id"),
        ({"status": "exploded"}, "is not a value status takes"),
        ({"after": "last-tuesday"}, "is not a place in this log"),
    ],
)
def test_bad_parameters_are_a_400_with_a_sentence(login, manager, params, sentence):
    response = login(manager).get(reverse("commit-status-list"), params)
    assert response.status_code == 400
    assert sentence in html.unescape(response.content.decode())


def test_the_statuses_page_fifty_at_a_time(login, manager, payments):
    rows = [_status(payments, ago=i, context=f"stageloop/payments/s{i}") for i in range(63)]
    client = login(manager)
    first = client.get(reverse("commit-status-list"), {"service": payments.pk}).content.decode()
    assert _rows(first) == [r.pk for r in rows[:50]]
    older = html.unescape(re.search(r'class="log-older" href="\?([^"#]*)#', first)[1])
    assert f"service={payments.pk}" in older
    second = client.get(f"{reverse('commit-status-list')}?{older}").content.decode()
    assert _rows(second) == [r.pk for r in rows[50:]]
