"""Commit statuses: a run's state and the gate's verdict reach a real local server standing for
GitHub's or GitLab's API (method, path, token header, body), retried after 5xx and timeouts,
refused clearly on a bad token, never for a service without a repository nor for a rolled-back
transaction; the token appears in no record and no log line."""

from __future__ import annotations

import logging
import os
import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from dashboard.celery import app
from integrations.models import CommitStatus
from integrations.services.commit_statuses import commit_statuses_send_due
from runs.models import GatePolicy, Service, TestRun
from runs.services.gates import gate_evaluate
from runs.services.ingest import ReportFile, run_import
from runs.services.suite_step import run_claim, run_end
from tests.factories import RevisionFactory, ServiceFactory, SuiteFactory
from tests.integrations.codehost_server import Answer, codehost  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db
REQUIRE = os.environ.get("STAGELOOP_REQUIRE_SERVICES") == "1"

SHA = "4e1f0c2a9b7d5e3f1a0c8b6d4e2f0a1b3c5d7e9f"
GITHUB_TOKEN = "ghp_TestTokenThatMustNeverShow0123"
GITLAB_TOKEN = "glpat-TestTokenThatMustNeverShow"
JUNIT_FAIL = b"""<testsuite name="e2e" tests="2"><testcase classname="a" name="ok"/>
<testcase classname="a" name="bad"><failure message="boom">boom</failure></testcase></testsuite>"""


@pytest.fixture
def hosts(settings, codehost):  # noqa: F811 (the fixture imported above)
    """Both code hosts configured, pointing at the local server."""
    settings.GITHUB_TOKEN, settings.GITHUB_API_URL = GITHUB_TOKEN, codehost.url
    settings.GITLAB_TOKEN, settings.GITLAB_URL = GITLAB_TOKEN, codehost.url + "/gitlab"
    settings.PUBLIC_URL = "https://stageloop.example.com"
    settings.COMMIT_STATUS_TIMEOUT, settings.COMMIT_STATUS_CONNECT_TIMEOUT = 1, 1
    return codehost


def _suite(host: str = "github", repository: str = "acme/payments", sha: str = SHA):
    service = ServiceFactory(name="payments", code_host=host, code_repository=repository)
    revision = RevisionFactory(service=service, commit_sha=sha)
    return SuiteFactory(service=service, name="e2e"), revision


def _queued(suite, revision) -> TestRun:
    return TestRun.objects.create(
        suite=suite, service=suite.service, revision=revision, status=TestRun.Status.QUEUED
    )


def _send(later: timedelta = timedelta(0)):
    return commit_statuses_send_due(now=timezone.now() + later)


def test_a_run_posts_pending_when_it_starts_and_failure_when_it_ends_on_github(hosts):
    suite, revision = _suite()
    run = _queued(suite, revision)

    run_claim(run_id=run.pk)
    assert _send().delivered == 1
    run_end(TestRun.objects.get(pk=run.pk), TestRun.Status.FAILED, "2 tests failed")
    assert _send().delivered == 1

    started, ended = hosts.calls
    for call in (started, ended):
        assert call.method == "POST"
        assert call.path == f"/repos/acme/payments/statuses/{SHA}"
        assert call.headers["authorization"] == f"Bearer {GITHUB_TOKEN}"
        assert call.headers["accept"] == "application/vnd.github+json"
        assert call.body["context"] == "stageloop/payments/e2e"
        assert call.body["target_url"] == f"https://stageloop.example.com/runs/{run.pk}/"
    assert started.body["state"] == "pending" and started.body["description"] == "Running e2e…"
    assert ended.body["state"] == "failure"
    assert [s.status for s in CommitStatus.objects.order_by("pk")] == ["delivered", "delivered"]
    assert CommitStatus.objects.filter(last_status_code=201).count() == 2


def test_an_imported_run_and_its_gate_verdict_post_two_contexts_on_gitlab(hosts):
    suite, revision = _suite("gitlab", "platform/backend/payments")
    GatePolicy.objects.create(service=suite.service)
    run = run_import(
        suite=suite, revision=revision, files=[ReportFile(name="bad.xml", data=JUNIT_FAIL)]
    ).run
    gate_evaluate(run=TestRun.objects.get(pk=run.pk))

    assert _send().delivered == 2
    by_name = {call.body["name"]: call for call in hosts.calls}
    assert set(by_name) == {"stageloop/payments/e2e", "stageloop/payments/gate"}
    for call in hosts.calls:
        assert call.path == f"/gitlab/api/v4/projects/platform%2Fbackend%2Fpayments/statuses/{SHA}"
        assert call.headers["private-token"] == GITLAB_TOKEN
        assert "authorization" not in call.headers
    run_call, gate_call = by_name["stageloop/payments/e2e"], by_name["stageloop/payments/gate"]
    assert run_call.body["state"] == "failed"
    assert run_call.body["description"] == "Failed: 1 passed, 1 failed of 2."
    assert gate_call.body["state"] == "failed"
    assert gate_call.body["description"].startswith("Gate fail: Fail on run #")
    assert gate_call.body["target_url"] == (
        f"https://stageloop.example.com/revisions/{revision.pk}/#verdict"
    )


def test_a_dry_run_gate_posts_success_saying_what_it_would_have_done(hosts):
    suite, revision = _suite()
    GatePolicy.objects.create(service=suite.service, dry_run=True)
    run = run_import(
        suite=suite, revision=revision, files=[ReportFile(name="bad.xml", data=JUNIT_FAIL)]
    ).run
    gate_evaluate(run=TestRun.objects.get(pk=run.pk))

    _send()
    gate = next(c for c in hosts.calls if c.body["context"].endswith("/gate"))
    assert gate.body["state"] == "success"
    assert gate.body["description"].startswith("Dry run, not enforced. Gate fail:")


def test_a_newer_state_supersedes_one_not_yet_sent(hosts):
    suite, revision = _suite()
    run = _queued(suite, revision)
    run_claim(run_id=run.pk)
    run_end(TestRun.objects.get(pk=run.pk), TestRun.Status.PASSED)

    assert _send().delivered == 1
    [call] = hosts.calls
    assert call.body["state"] == "success"
    assert list(CommitStatus.objects.order_by("pk").values_list("state", "status")) == [
        ("pending", "superseded"),
        ("success", "delivered"),
    ]


def test_a_5xx_is_retried_with_backoff_until_it_is_posted(hosts):
    hosts.plan = [Answer(500, "oops"), Answer(502, "bad gateway")]
    suite, revision = _suite()
    run_claim(run_id=_queued(suite, revision).pk)

    first = _send()
    row = CommitStatus.objects.get()
    assert (first.retrying, row.status, row.last_status_code) == (1, "pending", 500)
    assert row.error == "GitHub answered 500; Stageloop tries again later."
    assert row.next_attempt_at > timezone.now() + timedelta(seconds=25)  # 30 s, jittered
    assert _send().attempted == 0  # not due yet

    _send(later=timedelta(minutes=5))
    _send(later=timedelta(minutes=15))

    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_status_code, row.error) == ("delivered", 3, 201, "")
    assert len(hosts.calls) == 3


def test_a_host_that_hangs_is_cut_off_at_the_timeout_and_tried_again(hosts):
    hosts.plan = [Answer(hang=True)]
    suite, revision = _suite()
    run_claim(run_id=_queued(suite, revision).pk)

    report = _send()

    row = CommitStatus.objects.get()
    assert report.retrying == 1 and row.status == "pending"
    assert row.error == "No answer within 1 s; Stageloop tries again later."
    assert row.response_ms < 5000


def test_a_429_with_retry_after_waits_as_asked(hosts):
    hosts.plan = [Answer(429, "slow down", {"Retry-After": "120"})]
    suite, revision = _suite()
    run_claim(run_id=_queued(suite, revision).pk)
    before = timezone.now()

    _send()

    row = CommitStatus.objects.get()
    assert row.status == "pending"
    assert before + timedelta(seconds=118) < row.next_attempt_at < before + timedelta(seconds=125)


def test_githubs_rate_limit_is_retried_at_its_reset(hosts):
    reset = int(time.time()) + 300
    hosts.plan = [
        Answer(
            403,
            '{"message": "API rate limit exceeded"}',
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
        )
    ]
    suite, revision = _suite()
    run_claim(run_id=_queued(suite, revision).pk)

    _send()

    row = CommitStatus.objects.get()
    assert row.status == "pending" and row.last_status_code == 403
    assert row.error == "GitHub rate-limited the token (403); Stageloop tries again later."
    wait = (row.next_attempt_at - timezone.now()).total_seconds()
    assert 270 <= wait <= 301  # the reset, less the seconds the test took


def test_gitlab_refusing_a_state_the_commit_already_has_counts_as_posted(hosts):
    hosts.plan = [Answer(400, '{"message": "Cannot transition status via :run from :running"}')]
    suite, revision = _suite("gitlab", "group/payments")
    run_claim(run_id=_queued(suite, revision).pk)

    assert _send().delivered == 1
    assert CommitStatus.objects.get().status == "delivered"


def test_a_bad_token_is_recorded_clearly_not_retried_and_never_shown(hosts, caplog):
    # A host that echoes what it was sent must not make the token readable in the record.
    hosts.plan = [Answer(401, f'{{"message": "Bad credentials", "token": "{GITHUB_TOKEN}"}}')]
    suite, revision = _suite()
    run_claim(run_id=_queued(suite, revision).pk)

    with caplog.at_level(logging.DEBUG):
        report = _send()

    row = CommitStatus.objects.get()
    assert report.failed == 1 and row.status == "failed" and row.next_attempt_at is None
    assert row.last_status_code == 401
    assert row.error == "GitHub refused the token (401): check STAGELOOP_GITHUB_TOKEN; no retry."
    assert "Bad credentials" in row.response_excerpt
    assert GITHUB_TOKEN not in row.response_excerpt and "[token]" in row.response_excerpt
    assert f"commit status {row.pk} for acme/payments@" in caplog.text
    assert GITHUB_TOKEN not in caplog.text
    assert _send(later=timedelta(days=1)).attempted == 0  # never again


def test_a_service_without_a_repository_posts_nothing(hosts):
    service = ServiceFactory(name="payments")
    revision = RevisionFactory(service=service, commit_sha=SHA)
    suite = SuiteFactory(service=service)
    run_claim(run_id=_queued(suite, revision).pk)
    run_import(suite=suite, revision=revision, files=[ReportFile(name="bad.xml", data=JUNIT_FAIL)])

    assert not CommitStatus.objects.exists()
    assert _send().attempted == 0 and hosts.calls == []


def test_a_revision_without_a_commit_or_a_host_without_a_token_posts_nothing(hosts, settings):
    suite, revision = _suite(sha="")
    run_claim(run_id=_queued(suite, revision).pk)
    settings.GITLAB_TOKEN = ""
    gitlab_suite, gitlab_revision = (
        SuiteFactory(service=ServiceFactory(code_host="gitlab", code_repository="g/p")),
        None,
    )
    gitlab_revision = RevisionFactory(service=gitlab_suite.service, commit_sha=SHA)
    run_claim(run_id=_queued(gitlab_suite, gitlab_revision).pk)

    assert not CommitStatus.objects.exists()
    assert _send().attempted == 0 and hosts.calls == []


def test_nothing_is_posted_when_the_transaction_rolls_back(
    hosts, django_capture_on_commit_callbacks
):
    suite, revision = _suite()
    files = [ReportFile(name="b.xml", data=JUNIT_FAIL)]

    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        run_import(suite=suite, revision=revision, files=files)
        assert CommitStatus.objects.count() == 1  # written inside the import's transaction
        raise RuntimeError("the import fails after its run ended")

    assert callbacks == []  # no worker woken
    assert not CommitStatus.objects.exists()
    assert _send().attempted == 0 and hosts.calls == []


def test_a_service_names_a_host_and_a_repository_together_and_well_formed():
    with pytest.raises(ValidationError, match="both a code host and a repository"):
        Service(name="a", code_repository="acme/payments").clean()
    with pytest.raises(ValidationError, match='"owner/name" on GitHub'):
        Service(name="a", code_host="github", code_repository="../../etc").full_clean()
    with pytest.raises(ValidationError, match='"owner/name" on GitHub'):
        Service(name="a", code_host="github", code_repository="payments").full_clean()
    Service(name="a", code_host="gitlab", code_repository="group/sub/project").full_clean()


@pytest.mark.skipif(
    not django_settings.CELERY_BROKER_URL.startswith("redis") and not REQUIRE,
    reason="CELERY_BROKER_URL is not Redis here; .ci/run sets it and this test then runs",
)
@pytest.mark.django_db(transaction=True)
def test_a_worker_on_redis_posts_the_status_of_a_run_that_ended(hosts):
    suite, revision = _suite()
    run = _queued(suite, revision)
    run_claim(run_id=run.pk)
    CommitStatus.objects.update(status="superseded", next_attempt_at=None)  # only the end here
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        with transaction.atomic():
            run_end(TestRun.objects.get(pk=run.pk), TestRun.Status.PASSED)
        assert hosts.wait_for(1, timeout=20), "the worker never posted the status"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not CommitStatus.objects.filter(status="delivered"):
            time.sleep(0.1)

    [call] = hosts.calls
    assert call.body["state"] == "success"
    assert CommitStatus.objects.get(state="success").status == "delivered"


def test_an_admin_sets_a_services_code_host_and_repository_where_services_are_edited(
    login, admin_user
):
    service = ServiceFactory(name="payments")
    page = login(admin_user).get(f"/admin/runs/service/{service.pk}/change/").content.decode()
    assert 'name="code_host"' in page and 'name="code_repository"' in page
    assert "GitLab" in page and "owner/name" in page
