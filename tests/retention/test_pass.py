"""The retention pass: what each policy deletes, what it always keeps, the files and links of
what it deletes, batches, failures and the record of each pass."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.storage import default_storage

from analyses.models import Analysis
from runs.models import (
    FailureSignature,
    Loop,
    LoopIteration,
    RetentionPass,
    RetentionPolicy,
    Revision,
    State,
    TestAttachment,
    TestResult,
    TestRun,
    TestState,
    TestStateChange,
    Verdict,
)
from runs.services import retention as service
from runs.services.retention import retention_pass, retention_policy_set
from tests.factories import RevisionFactory
from tests.retention.conftest import NOW, alive, make_run

pytestmark = pytest.mark.django_db(transaction=True)


def policy(suite, days=None, runs=None):
    return RetentionPolicy.objects.create(suite=suite, keep_days=days, keep_runs=runs)


def test_a_days_policy_deletes_runs_older_than_the_days_with_their_results(suite):
    old, older = make_run(suite, days_ago=40), make_run(suite, days_ago=31)
    young, newest = make_run(suite, days_ago=29), make_run(suite, days_ago=1)
    policy(suite, days=30)

    record = retention_pass(now=NOW)

    assert alive(old, older, young, newest) == [False, False, True, True]
    assert TestResult.objects.filter(run_id__in=[old.pk, older.pk]).count() == 0
    assert TestResult.objects.filter(run=young).count() == 3
    assert (record.status, record.runs_deleted, record.results_deleted) == ("succeeded", 2, 6)
    assert record.suites == 1 and record.finished_at is not None


def test_a_last_runs_policy_keeps_the_newest_runs_whatever_their_age(suite):
    runs = [make_run(suite, days_ago=d) for d in (500, 400, 300, 200)]
    policy(suite, runs=2)

    retention_pass(now=NOW)

    assert alive(*runs) == [False, False, True, True]


def test_with_both_rules_a_run_goes_only_when_both_let_it_go(suite):
    # Newest 2 are kept by count; anything younger than 10 days by age.
    a, b, c, d = (make_run(suite, days_ago=x) for x in (50, 20, 5, 3))
    policy(suite, days=10, runs=3)

    retention_pass(now=NOW)

    # c and d are young; b is among the newest 3; a is old and fourth newest.
    assert alive(a, b, c, d) == [False, True, True, True]


def test_pinned_runs_survive_and_do_not_count_among_the_newest(suite, operator):
    pinned = make_run(suite, days_ago=900)
    service.run_pin_set(run=pinned, pinned=True, user=operator)
    old, kept = make_run(suite, days_ago=50), make_run(suite, days_ago=40)
    policy(suite, runs=1)

    retention_pass(now=NOW)

    assert alive(pinned, old, kept) == [True, False, True]
    pinned.refresh_from_db()
    assert (pinned.pinned, pinned.pinned_by, pinned.pinned_at is not None) == (True, operator, True)
    assert TestResult.objects.filter(run=pinned).count() == 3


def test_runs_in_progress_and_the_newest_run_of_a_suite_are_kept(suite):
    running = make_run(suite, days_ago=90, status=TestRun.Status.RUNNING)
    queued = make_run(suite, days_ago=80, status=TestRun.Status.QUEUED)
    finished = make_run(suite, days_ago=70)
    newest = make_run(suite, days_ago=60)
    policy(suite, days=7)

    retention_pass(now=NOW)

    assert alive(running, queued, finished, newest) == [True, True, False, True]


def test_a_suite_without_a_policy_keeps_everything_by_default(suite):
    runs = [make_run(suite, days_ago=d) for d in (3000, 2000, 1)]

    record = retention_pass(now=NOW)

    assert alive(*runs) == [True, True, True]
    assert (record.status, record.runs_deleted, record.suites) == ("succeeded", 0, 0)


def test_the_settings_default_applies_only_to_suites_without_a_policy(suite, settings):
    from tests.factories import SuiteFactory

    settings.RETENTION_DAYS = 30
    other = SuiteFactory(service=suite.service, name="smoke")
    policy(other, days=None, runs=None)  # its own policy: keep everything
    gone, kept_by_default = make_run(suite, days_ago=60), make_run(suite, days_ago=1)
    kept_by_own, newest_other = make_run(other, days_ago=60), make_run(other, days_ago=1)

    retention_pass(now=NOW)

    assert alive(gone, kept_by_default, kept_by_own, newest_other) == [False, True, True, True]


def test_attachment_files_and_artifact_files_leave_the_disk_with_their_run(suite):
    from django.core.files.base import ContentFile

    from runs.models import TestRunArtifact

    old = make_run(suite, days_ago=100, attachment=True)
    artifact = TestRunArtifact(run=old, name="report.xml", size=5, sha256="0" * 64)
    artifact.file.save("report.xml", ContentFile(b"<xml/>"), save=True)
    kept = make_run(suite, days_ago=1, attachment=True)
    old_file = TestAttachment.objects.get(run=old).file.name
    kept_file = TestAttachment.objects.get(run=kept).file.name
    paths = [os.path.join(settings.MEDIA_ROOT, n) for n in (old_file, artifact.file.name)]
    assert all(os.path.exists(p) for p in paths)
    policy(suite, days=30)

    record = retention_pass(now=NOW)

    assert not any(os.path.exists(p) for p in paths)
    assert default_storage.exists(kept_file)
    assert record.attachments_deleted == 1
    assert TestAttachment.objects.filter(run=kept).count() == 1


def test_links_to_deleted_runs_are_cleared_and_evidence_runs_are_kept(suite, client, admin_user):
    old_revision = RevisionFactory(service=suite.service, status=Revision.Status.RETIRED)
    serving = RevisionFactory(service=suite.service)
    suite.service.current_revision = serving
    suite.service.save()
    by_old_verdict = make_run(suite, days_ago=100, revision=old_revision)
    by_serving_verdict = make_run(suite, days_ago=99, revision=serving)
    Verdict.objects.create(revision=old_revision, run=by_old_verdict, outcome="pass")
    Verdict.objects.create(revision=serving, run=by_serving_verdict, outcome="pass")
    of_analysis = make_run(suite, days_ago=98)
    verified = make_run(suite, days_ago=97)
    Analysis.objects.create(
        service=suite.service, title="502", problem="p", run=of_analysis, verified_by_run=verified
    )
    done_loop = Loop.objects.create(service=suite.service, suite=suite, status="succeeded")
    going_loop = Loop.objects.create(service=suite.service, suite=suite, status="waiting")
    of_done_loop, of_going_loop = make_run(suite, days_ago=96), make_run(suite, days_ago=95)
    LoopIteration.objects.create(loop=done_loop, number=1, run=of_done_loop)
    LoopIteration.objects.create(loop=going_loop, number=1, run=of_going_loop)
    of_quarantine = make_run(suite, days_ago=94)
    case = suite.cases.first()
    TestState.objects.create(
        case=case, suite=suite, state=State.QUARANTINED, reason="flaky", automatic=True
    )
    TestStateChange.objects.create(
        case=case,
        state=State.QUARANTINED,
        reason="flaky",
        automatic=True,
        evidence={"run_ids": [of_quarantine.pk]},
    )
    make_run(suite, days_ago=1)
    policy(suite, days=30)

    retention_pass(now=NOW)

    assert alive(by_old_verdict, by_serving_verdict, of_analysis, verified) == [
        False,
        True,
        True,
        True,
    ]
    assert alive(of_done_loop, of_going_loop, of_quarantine) == [False, True, True]
    assert Verdict.objects.get(revision=old_revision).run is None
    assert LoopIteration.objects.get(loop=done_loop).run is None
    client.force_login(admin_user)
    for url in (old_revision.get_absolute_url(), done_loop.get_absolute_url()):
        assert client.get(url, {"range": "90d"}).status_code == 200, url
    assert client.get(f"/runs/{by_old_verdict.pk}/", {"range": "90d"}).status_code == 404


def test_runs_larger_than_a_batch_are_deleted_whole_across_batches(suite):
    small = [make_run(suite, days_ago=100 - i, results=5) for i in range(4)]
    big = make_run(suite, days_ago=50, results=23)
    kept = make_run(suite, days_ago=1, results=23)
    policy(suite, days=30)

    record = retention_pass(now=NOW, batch=7)

    assert alive(*small, big, kept) == [False] * 5 + [True]
    assert record.results_deleted == 4 * 5 + 23
    assert TestResult.objects.count() == 23
    assert TestResult.objects.filter(run=kept).count() == 23


def test_failure_signature_counts_follow_the_deleted_results(suite):
    signature = FailureSignature.objects.create(
        suite=suite, kind="failed", hash="h" * 40, normalized="boom"
    )
    old, new = make_run(suite, days_ago=100), make_run(suite, days_ago=1)
    TestResult.objects.filter(run__in=[old, new]).update(outcome="failed", signature=signature)
    policy(suite, days=30)

    retention_pass(now=NOW)

    # The signature keeps its triage; what pages count of it is its remaining results.
    assert FailureSignature.objects.filter(pk=signature.pk).exists()
    assert signature.results.count() == 3


def test_a_failure_midway_leaves_whole_runs_and_a_record_saying_what_happened(suite, monkeypatch):
    first, second = make_run(suite, days_ago=100), make_run(suite, days_ago=90)
    make_run(suite, days_ago=1)
    policy(suite, days=30)
    real = service._links_release
    calls = []

    def fail_second(run_ids):
        calls.append(run_ids)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(run_ids)

    monkeypatch.setattr(service, "_links_release", fail_second)

    with pytest.raises(RuntimeError):
        retention_pass(now=NOW, batch=3)

    record = RetentionPass.objects.get()
    assert record.status == "failed" and "RuntimeError: disk full" in record.error
    assert (record.runs_deleted, record.results_deleted) == (1, 6)
    assert alive(first, second) == [False, True]
    # The second run lost its results but nothing points at anything gone; the next pass ends it.
    assert not TestResult.objects.exclude(run_id__in=TestRun.objects.values("pk")).exists()
    monkeypatch.setattr(service, "_links_release", real)
    again = retention_pass(now=NOW, batch=3)
    assert again.status == "succeeded" and alive(second) == [False]


def test_a_second_pass_while_one_runs_does_nothing_and_a_dead_one_is_taken_over(suite):
    make_run(suite, days_ago=100), make_run(suite, days_ago=1)
    policy(suite, days=30)
    RetentionPass.objects.create(started_at=NOW, lease_expires_at=NOW + timedelta(minutes=5))

    assert retention_pass(now=NOW) is None
    assert TestRun.objects.count() == 2

    later = NOW + timedelta(hours=1)
    record = retention_pass(now=later)
    assert record.status == "succeeded" and record.runs_deleted == 1
    assert RetentionPass.objects.filter(status="lost").count() == 1


def test_a_pass_records_space_on_postgresql(suite):
    make_run(suite, days_ago=100), make_run(suite, days_ago=1)
    policy(suite, days=30)

    record = retention_pass(now=NOW)

    if service.connection.vendor == "postgresql":
        assert record.bytes_before > 0 and record.bytes_after > 0
    else:
        assert record.bytes_before is None


def test_the_nightly_beat_entry_names_the_registered_task():
    from dashboard.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["retention-pass"]
    assert entry["task"] == "runs.tasks.retention_pass"
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks
    assert entry["schedule"].hour == {settings.RETENTION_HOUR}


def test_the_task_runs_a_pass(suite):
    from runs.tasks import retention_pass as task

    make_run(suite, days_ago=100), make_run(suite, days_ago=1)
    retention_policy_set(suite_id=suite.pk, keep_days=30, keep_runs=None, user=None)

    assert task.apply().get() == 1
    assert RetentionPass.objects.get().status == "succeeded"


def test_the_flaky_window_forgets_the_flips_of_deleted_runs(suite):
    """A test that flipped only in runs the pass deletes is no longer counted flaky."""
    from runs.selectors.flaky import flaky_cases
    from runs.services.read_models import flake_window_rebuild

    for days_ago, outcome in ((100, "failed"), (99, "passed"), (98, "failed")):
        run = make_run(suite, days_ago=days_ago, results=2)
        run.results.filter(case__key__endswith="test_0").update(outcome=outcome)
    make_run(suite, days_ago=1, results=2)
    make_run(suite, days_ago=0.5, results=2)
    flake_window_rebuild(suite_id=suite.pk)
    assert flaky_cases(suite_id=suite.pk)[1] == 1
    policy(suite, days=30)

    retention_pass(now=NOW)

    assert TestRun.objects.filter(suite=suite).count() == 2
    assert flaky_cases(suite_id=suite.pk) == ([], 0)
