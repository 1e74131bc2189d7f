"""The outbox: messages written with their rows, sent on commit, sent again by the sweeper."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone
from kombu.exceptions import OperationalError

from runs.models import Deploy, Outbox, TestRun
from runs.services import outbox as outbox_service
from runs.services.deploys import deploy_and_test_create
from runs.services.enqueue import DEPLOY_AND_TEST, RUN_ANALYZE, run_analyze_enqueue
from runs.services.outbox import BACKOFF_MAX, KEEP_SENT, backoff, outbox_flush
from runs.services.sweeper import runs_sweep
from runs.services.tokens import token_create
from tests.factories import ServiceFactory, SuiteFactory
from tests.junit_reports import JUNIT

pytestmark = pytest.mark.django_db


class FakeBroker:
    """Takes messages, or refuses them as an unreachable broker does."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, tuple]] = []
        self.down = False

    def send_task(self, name: str, args=()) -> None:
        if self.down:
            raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        self.sent.append((name, tuple(args)))


@pytest.fixture
def broker(monkeypatch) -> FakeBroker:
    fake = FakeBroker()
    monkeypatch.setattr(outbox_service, "current_app", fake)
    return fake


def _message(run_id: int, *, age: timedelta = timedelta(minutes=5), **fields) -> Outbox:
    """An unsent message written `age` ago, due now."""
    created = timezone.now() - age
    return Outbox.objects.create(
        task=RUN_ANALYZE,
        args=[run_id],
        key=Outbox.key_for(RUN_ANALYZE, [run_id]),
        created_at=created,
        next_attempt_at=created,
        **fields,
    )


def test_a_deploy_and_its_message_commit_together_and_the_message_is_sent_on_commit(
    broker, django_capture_on_commit_callbacks
):
    service = ServiceFactory(default_image="web:1")
    with django_capture_on_commit_callbacks(execute=True):
        deploy, _ = deploy_and_test_create(service=service)
        message = Outbox.objects.get()
        assert (message.task, message.args, message.sent_at) == (DEPLOY_AND_TEST, [deploy.pk], None)
        assert broker.sent == []  # nothing leaves before the commit

    assert broker.sent == [(DEPLOY_AND_TEST, (deploy.pk,))]
    message.refresh_from_db()
    assert message.sent_at is not None and message.attempts == 1
    assert message.key == f"runs.tasks.deploy_and_test:{deploy.pk}"


def test_a_rolled_back_transaction_leaves_no_message_and_sends_nothing(
    broker, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        run_analyze_enqueue(run_id=1)
        raise RuntimeError("the request failed after the enqueue")

    assert not Outbox.objects.exists()
    assert broker.sent == []


def test_an_upload_while_the_broker_is_down_succeeds_and_keeps_its_message_unsent(
    broker, operator, settings, tmp_path, django_capture_on_commit_callbacks, caplog
):
    settings.MEDIA_ROOT = tmp_path
    SuiteFactory(service=ServiceFactory(name="web"), name="e2e")
    token = token_create(user=operator, name="ci")[1]
    broker.down = True

    with django_capture_on_commit_callbacks(execute=True), (JUNIT / "mocha.xml").open("rb") as f:
        response = Client().post(
            "/api/v1/runs",
            {"service": "web", "suite": "e2e", "files": [f]},
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )

    assert response.status_code == 201
    run = TestRun.objects.get()
    # On PostgreSQL the run also sends its new tests' search indexing (runs.case_search_index).
    assert not Outbox.objects.filter(sent_at__isnull=False).exists()
    message = Outbox.objects.get(task=RUN_ANALYZE)
    assert (message.task, message.args, message.sent_at) == (RUN_ANALYZE, [run.pk], None)
    assert message.attempts == 1
    assert "Connection refused" in message.last_error
    assert message.next_attempt_at <= timezone.now()  # the next sweep tries again
    assert "could not enqueue runs.tasks.run_analyze" in caplog.text


def test_a_refused_upload_writes_no_message(broker, operator):
    SuiteFactory(service=ServiceFactory(name="web"), name="e2e")
    token = token_create(user=operator, name="ci")[1]

    with (JUNIT / "not-junit.xml").open("rb") as f:
        response = Client().post(
            "/api/v1/runs",
            {"service": "web", "suite": "e2e", "files": [f]},
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )

    assert response.status_code == 400
    assert not Outbox.objects.exists()


def test_the_flush_sends_due_messages_oldest_first_in_bounded_batches(broker):
    messages = [_message(run_id, age=timedelta(minutes=10 - run_id)) for run_id in range(5)]
    _message(99, age=timedelta(seconds=1))
    # Written a moment ago: its on-commit sender's turn, not the sweeper's.
    fresh = outbox_service.outbox_write(task=RUN_ANALYZE, args=[100])

    first = outbox_flush(batch=3)
    second = outbox_flush(batch=3)
    third = outbox_flush(batch=3)

    assert [args[0] for _, args in broker.sent] == [0, 1, 2, 3, 4, 99]
    assert (first.sent, first.unsent, second.sent, third.sent) == (3, 4, 3, 0)
    assert all(m.sent_at for m in Outbox.objects.filter(pk__in=[m.pk for m in messages]))
    assert Outbox.objects.get(pk=fresh.pk).sent_at is None


def test_the_flush_stops_at_the_first_failure_and_backs_off(broker):
    first, second = _message(1, age=timedelta(minutes=2)), _message(2, age=timedelta(minutes=1))
    broker.down = True
    now = timezone.now()

    report = outbox_flush(now=now)

    assert (report.sent, report.failed, report.unsent) == (0, 1, 2)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.attempts == 1 and first.next_attempt_at == now  # first failure: next sweep
    assert "Connection refused" in first.last_error
    assert second.attempts == 0 and second.next_attempt_at == now  # keeps its turn

    outbox_flush(now=now)
    first.refresh_from_db()
    assert first.attempts == 2 and first.next_attempt_at == now + timedelta(seconds=30)
    assert outbox_flush(now=now).failed == 1  # the second message's turn, the first waits
    assert Outbox.objects.get(pk=second.pk).attempts == 1

    broker.down = False
    report = outbox_flush(now=now + timedelta(minutes=1))
    assert (report.sent, report.unsent) == (2, 0)
    assert [args for _, args in broker.sent] == [(1,), (2,)]


def test_backoff_grows_to_a_ceiling():
    assert [backoff(n).total_seconds() for n in range(1, 6)] == [0, 30, 60, 120, 240]
    assert backoff(50) == BACKOFF_MAX


def test_sent_messages_are_pruned_after_a_while_and_unsent_ones_never(broker):
    now = timezone.now()
    old = _message(1, sent_at=now - KEEP_SENT - timedelta(hours=1))
    recent = _message(2, sent_at=now - timedelta(days=1))
    unsent = _message(3, age=KEEP_SENT * 2)
    broker.down = True

    report = outbox_flush(now=now)

    assert report.pruned == 1
    assert set(Outbox.objects.values_list("pk", flat=True)) == {recent.pk, unsent.pk}
    assert not Outbox.objects.filter(pk=old.pk).exists()


def test_the_sweeper_sends_unsent_messages_and_reports_them(broker):
    _message(7)

    report = runs_sweep()

    assert (report.outbox.sent, report.outbox.unsent) == (1, 0)
    assert broker.sent == [(RUN_ANALYZE, (7,))]


def test_a_queued_deploy_is_resent_through_the_outbox_without_piling_up_while_the_broker_is_down(
    broker, django_capture_on_commit_callbacks
):
    now = timezone.now()
    deploy = Deploy.objects.create(service=ServiceFactory(), status="queued")
    Deploy.objects.filter(pk=deploy.pk).update(created_at=now - timedelta(minutes=5))
    broker.down = True

    for minute in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            runs_sweep(now=now + timedelta(minutes=minute))

    message = Outbox.objects.get()  # one message, tried again by each sweep, not three
    assert (message.task, message.args, message.sent_at) == (DEPLOY_AND_TEST, [deploy.pk], None)
    assert message.attempts == 3

    broker.down = False
    report = runs_sweep(now=now + timedelta(minutes=10))
    assert report.outbox.sent == 1
    assert broker.sent == [(DEPLOY_AND_TEST, (deploy.pk,))]
    assert Deploy.objects.get(pk=deploy.pk).status == "queued"  # the worker will claim it
