"""Leases, without workers: a claim sets one, its holder renews it, the sweeper marks an expired
one lost, stops what the row's work started and lets a loop holding it move on."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from runs.lifecycle.deploys import deploy_lifecycle
from runs.models import Build, Deploy, Loop, LoopIteration, Revision, Service, TestRun
from runs.services.deploy_step import deploy_claim
from runs.services.leases import LeaseKeeper, lease_holder, lease_renew
from runs.services.suite_step import run_claim
from runs.services.sweeper import runs_sweep
from tests.factories import RunFactory, ServiceFactory, SuiteFactory

pytestmark = pytest.mark.django_db

HERE = socket.gethostname()


def _expired(**extra):
    return {
        "status": "running",
        "started_at": timezone.now() - timedelta(seconds=50),
        "lease_expires_at": timezone.now() - timedelta(seconds=1),
        "lease_holder": f"{HERE}:999999",
        **extra,
    }


def _sleeper(**popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], **popen)


def test_the_periods_are_settings_with_sane_defaults():
    assert settings.LEASE_SECONDS == 30
    assert settings.LEASE_RENEW_SECONDS == 10
    assert settings.SWEEP_INTERVAL == 15
    sweep = settings.CELERY_BEAT_SCHEDULE["runs-sweep"]
    assert sweep["schedule"] == timedelta(seconds=settings.SWEEP_INTERVAL)
    # killed at worst just before a renewal: the lease ends, then the next sweep frees it
    assert settings.LEASE_SECONDS + settings.SWEEP_INTERVAL <= 60


def test_a_claim_takes_a_lease_held_by_this_worker():
    deploy = Deploy.objects.create(service=ServiceFactory(), image="img:1")
    run = RunFactory(status="queued", deploy=deploy)
    before = timezone.now()

    claimed = deploy_claim(deploy_id=deploy.pk)
    claimed_run = run_claim(run_id=run.pk)

    for row in (claimed, claimed_run):
        assert row.status == "running"
        assert row.lease_holder == lease_holder() == f"{HERE}:{os.getpid()}"
        lease = (row.lease_expires_at - before).total_seconds()
        assert settings.LEASE_SECONDS - 1 <= lease <= settings.LEASE_SECONDS + 1


def test_only_the_holder_renews_and_only_while_the_row_is_running():
    deploy = Deploy.objects.create(service=ServiceFactory(), image="img:1")
    deploy_claim(deploy_id=deploy.pk)
    later = timezone.now() + timedelta(seconds=20)

    assert lease_renew(Deploy, deploy.pk, holder="elsewhere:1", now=later) is False
    assert lease_renew(Deploy, deploy.pk, holder=lease_holder(), now=later) is True
    deploy.refresh_from_db()
    assert deploy.lease_expires_at == later + timedelta(seconds=settings.LEASE_SECONDS)

    deploy_lifecycle.move(deploy, Deploy.Status.LOST, frm=[Deploy.Status.RUNNING])
    assert lease_renew(Deploy, deploy.pk, holder=lease_holder()) is False


@pytest.mark.django_db(transaction=True)
def test_the_keeper_thread_renews_what_it_holds_until_stopped():
    deploy = Deploy.objects.create(service=ServiceFactory(), image="img:1")
    deploy_claim(deploy_id=deploy.pk)
    Deploy.objects.filter(pk=deploy.pk).update(
        lease_expires_at=timezone.now() + timedelta(seconds=1)
    )
    with LeaseKeeper(every=0.1) as keeper:
        keeper.hold(Deploy, deploy.pk)
        time.sleep(0.6)
    renewed = Deploy.objects.get(pk=deploy.pk).lease_expires_at
    assert renewed > timezone.now() + timedelta(seconds=settings.LEASE_SECONDS - 2)
    time.sleep(0.3)
    assert Deploy.objects.get(pk=deploy.pk).lease_expires_at == renewed  # stopped with the block


def test_an_expired_lease_is_lost_a_live_one_is_not():
    service = ServiceFactory()
    expired = Deploy.objects.create(service=service, image="img:1", **_expired())
    live = RunFactory(
        **_expired(lease_expires_at=timezone.now() + timedelta(seconds=5)),
    )

    report = runs_sweep()

    expired.refresh_from_db()
    live.refresh_from_db()
    assert (report.lost_deploys, report.lost_runs) == (1, 0)
    assert expired.status == "lost"
    assert expired.error.startswith("Lost: the worker holding it")
    assert f"{HERE}:999999" in expired.error
    assert live.status == "running"


def test_the_sweeper_stops_the_recorded_group_and_removes_the_temp_folder():
    proc = _sleeper(start_new_session=True)
    scratch = tempfile.mkdtemp(prefix="stageloop-run-")
    (Path(scratch) / "junit.xml").write_text("<testsuite/>")
    run = RunFactory(**_expired(child_pgid=proc.pid, scratch_dir=scratch))
    try:
        runs_sweep()
        assert proc.wait(timeout=10) is not None
    finally:
        proc.kill()
        proc.wait()
    run.refresh_from_db()
    assert run.status == "lost"
    assert f"stopped process group {proc.pid}" in run.error
    assert f"removed {scratch}" in run.error
    assert not Path(scratch).exists()


def test_a_pid_that_no_longer_leads_its_group_is_left_alone():
    proc = _sleeper()  # in our group: the pid names some other program now
    run = RunFactory(**_expired(child_pgid=proc.pid))
    try:
        runs_sweep()
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait()
    run.refresh_from_db()
    assert run.status == "lost"
    assert f"process group {proc.pid} was already gone" in run.error


def test_processes_on_another_host_are_not_touched_here():
    proc = _sleeper(start_new_session=True)
    run = RunFactory(**_expired(child_pgid=proc.pid, lease_holder="other-host:42"))
    try:
        runs_sweep()
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait()
    run.refresh_from_db()
    assert run.status == "lost"
    assert "on other-host" in run.error


def _loop_holding(deploy: Deploy, run: TestRun | None) -> Loop:
    build = Build.objects.create(service=deploy.service, image="img:1", commit_sha="abc")
    suite = run.suite if run else SuiteFactory(service=deploy.service)
    loop = Loop.objects.create(service=deploy.service, suite=suite, status=Loop.Status.RUNNING)
    LoopIteration.objects.create(loop=loop, number=1, build=build, deploy=deploy, run=run)
    return loop


def test_a_loop_whose_run_was_lost_moves_on():
    service = ServiceFactory()
    deploy = Deploy.objects.create(service=service, image="img:1", status="succeeded")
    run = RunFactory(suite=SuiteFactory(service=service), deploy=deploy, **_expired())
    loop = _loop_holding(deploy, run)

    runs_sweep()

    loop.refresh_from_db()
    iteration = loop.iterations.get()
    assert loop.status == "waiting"
    assert iteration.goal_met is False
    assert iteration.note.startswith("The run ended lost: Lost:")


def test_a_loop_whose_deploy_was_lost_moves_on_with_or_without_a_run():
    for with_run in (True, False):
        service = ServiceFactory()
        deploy = Deploy.objects.create(service=service, image="img:1", **_expired())
        run = None
        if with_run:
            run = RunFactory(suite=SuiteFactory(service=service), deploy=deploy, status="queued")
        loop = _loop_holding(deploy, run)

        runs_sweep()

        loop.refresh_from_db()
        iteration = loop.iterations.get()
        assert loop.status == "waiting", with_run
        assert iteration.goal_met is False
        assert "lost" in iteration.note
        if run:
            assert TestRun.objects.get(pk=run.pk).status == "lost"


def test_a_lease_renewed_no_sooner_than_it_runs_out_stops_start_up(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    env.update(
        DEBUG="1",
        STAGELOOP_VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="dashboard.settings",
        STAGELOOP_LEASE_SECONDS="10",
        STAGELOOP_LEASE_RENEW_SECONDS="10",
    )
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "STAGELOOP_LEASE_RENEW_SECONDS=10 must be shorter than" in result.stderr


def test_a_lost_local_deploy_whose_revision_was_in_front_routes_back():
    proc = _sleeper(start_new_session=True)
    service = ServiceFactory(target_kind="local")
    previous = Revision.objects.create(
        service=service, name="web-old", status="ready", traffic_percent=0
    )
    revision = Revision.objects.create(
        service=service, name="web-new", status="ready", traffic_percent=100
    )
    Service.objects.filter(pk=service.pk).update(current_revision=revision)
    deploy = Deploy.objects.create(
        service=service,
        image="img:2",
        previous_revision=previous,
        revision=revision,
        **_expired(child_pgid=proc.pid),
    )
    try:
        runs_sweep()
        assert proc.wait(timeout=10) is not None
    finally:
        proc.kill()
        proc.wait()
    deploy.refresh_from_db()
    revision.refresh_from_db()
    previous.refresh_from_db()
    service.refresh_from_db()
    assert deploy.status == "lost"
    assert deploy.error.endswith(
        f"stopped process group {proc.pid}; revision web-new marked failed, "
        "traffic back on web-old."
    )
    assert (revision.status, revision.traffic_percent) == ("failed", 0)
    assert (service.current_revision, previous.traffic_percent) == (previous, 100)


def test_a_run_left_queued_after_its_deploy_ended_is_lost_and_its_loop_moves_on():
    service = ServiceFactory()
    deploy = Deploy.objects.create(
        service=service,
        image="img:1",
        status="succeeded",
        finished_at=timezone.now() - timedelta(seconds=settings.LEASE_SECONDS + 1),
    )
    run = RunFactory(suite=SuiteFactory(service=service), deploy=deploy, status="queued")
    loop = _loop_holding(deploy, run)
    fresh = Deploy.objects.create(
        service=ServiceFactory(), image="img:1", status="failed", finished_at=timezone.now()
    )
    waiting = RunFactory(deploy=fresh, status="queued")  # its worker is about to settle it

    assert runs_sweep().lost_runs == 1

    run.refresh_from_db()
    loop.refresh_from_db()
    assert run.status == "lost"
    assert run.error == (
        f"Lost: its deploy #{deploy.pk} ended succeeded, and the worker stopped before it took "
        "the run."
    )
    assert loop.status == "waiting"
    assert TestRun.objects.get(pk=waiting.pk).status == "queued"
