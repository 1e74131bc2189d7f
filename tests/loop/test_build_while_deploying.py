"""A build registered for a waiting loop while another deploy of the service is active is kept,
and the loop deploys it once that deploy has ended."""

from __future__ import annotations

import sys
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from runs.models import Build, Deploy, Loop, Service, TestRun
from runs.services.builds import build_register
from runs.services.loops import loop_iteration_finished
from runs.services.pipeline import deploy_and_test_execute
from runs.services.sweeper import GRACE, runs_sweep
from tests.loop.conftest import stop_revisions, waiting_loop_behind_a_deploy

pytestmark = pytest.mark.django_db


def test_the_loop_page_form_keeps_the_build_and_says_when_the_loop_deploys_it(login, operator):
    loop, active = waiting_loop_behind_a_deploy()
    client = login(operator)

    response = client.post(
        reverse("build-create", args=["web"]), {"image": "web:1.1", "commit_sha": "bbb222"}
    )

    assert response.status_code == 302
    assert response.url == loop.get_absolute_url()
    assert Build.objects.filter(commit_sha="bbb222").exists()
    page = client.get(response.url).content.decode()
    assert f"Deploy #{active.pk} of web is in progress" in page  # the message
    pending = page.split('id="loop-pending-build"', 1)[1].split("</p>", 1)[0]
    assert "web:1.1" in pending
    assert f'href="{active.get_absolute_url()}"' in pending
    loop.refresh_from_db()
    assert loop.status == Loop.Status.WAITING


def test_the_waiting_loop_deploys_the_kept_build_when_the_active_deploy_ends(tmp_path):
    loop, active = waiting_loop_behind_a_deploy()
    Service.objects.filter(pk=loop.service_id).update(
        target_kind=Service.TargetKind.LOCAL,
        target_config={
            "command": [sys.executable, "-c", "raise SystemExit(3)"],
            "start_timeout": 10,
            "state_dir": str(tmp_path / "local-deploy"),
        },
    )
    Deploy.objects.filter(pk=active.pk).update(status="queued")
    registered = build_register(service=loop.service, image="web:1.1", commit_sha="bbb222")
    assert registered.loops_waiting == [loop]

    try:
        deploy_and_test_execute(deploy_id=active.pk)  # the hotfix fails fast: the service is free
    finally:
        stop_revisions()

    loop.refresh_from_db()
    second = loop.iterations.get(number=2)
    assert loop.status == Loop.Status.RUNNING
    assert second.build == registered.build
    assert second.deploy.status == "queued"
    assert second.deploy.image == "web:1.1"


def test_the_sweeper_resumes_a_waiting_loop_once_the_blocking_deploy_is_lost():
    loop, active = waiting_loop_behind_a_deploy()
    now = timezone.now()
    Deploy.objects.filter(pk=active.pk).update(
        timeout_seconds=60, started_at=now - timedelta(seconds=61) - GRACE
    )
    registered = build_register(service=loop.service, image="web:1.1", commit_sha="bbb222")

    runs_sweep(now=now)

    loop.refresh_from_db()
    assert Deploy.objects.get(pk=active.pk).status == "lost"
    assert loop.status == Loop.Status.RUNNING
    assert loop.iterations.get(number=2).build == registered.build


def test_the_sweeper_leaves_a_waiting_loop_alone_while_its_service_is_busy():
    loop, _active = waiting_loop_behind_a_deploy()
    build_register(service=loop.service, image="web:1.1", commit_sha="bbb222")

    runs_sweep()

    loop.refresh_from_db()
    assert loop.status == Loop.Status.WAITING
    assert loop.iterations.count() == 1


def test_an_iteration_that_ends_while_another_deploy_runs_waits_instead_of_crashing():
    loop, active = waiting_loop_behind_a_deploy()
    Loop.objects.filter(pk=loop.pk).update(status=Loop.Status.RUNNING)
    first = loop.iterations.get(number=1)
    type(first).objects.filter(pk=first.pk).update(goal_met=None)
    Build.objects.create(service=loop.service, image="web:1.1", commit_sha="bbb222")

    loop_iteration_finished(run_id=first.run_id)

    loop.refresh_from_db()
    first.refresh_from_db()
    assert first.goal_met is False
    assert loop.status == Loop.Status.WAITING
    assert loop.iterations.count() == 1
    assert Deploy.objects.get(pk=active.pk).status == "running"


def test_the_sweeper_waits_for_the_tests_of_the_ended_deploy_too():
    loop, active = waiting_loop_behind_a_deploy()
    build_register(service=loop.service, image="web:1.1", commit_sha="bbb222")
    Deploy.objects.filter(pk=active.pk).update(status="succeeded")
    TestRun.objects.create(
        suite=loop.suite,
        service=loop.service,
        deploy=active,
        status="running",
        started_at=timezone.now(),
    )

    runs_sweep()

    loop.refresh_from_db()
    assert loop.status == Loop.Status.WAITING
