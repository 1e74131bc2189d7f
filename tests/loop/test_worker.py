"""A real Celery worker (on Redis in CI, on the filesystem broker embedded) runs the whole loop."""

from __future__ import annotations

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.test import Client

from dashboard.celery import app
from runs.models import Deploy, Loop, TestRun
from runs.services.loops import loop_start
from runs.services.tokens import token_create
from tests.loop.conftest import FIXED

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _wait(predicate, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError("timed out waiting for the worker")


@pytest.fixture
def worker():
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as w:
        yield w


def test_a_worker_deploys_and_tests_the_demo_clicked_by_an_operator(
    worker, demo_service, login, operator
):
    login(operator).post(f"/services/{demo_service.name}/deploy")
    deploy = Deploy.objects.get()

    _wait(lambda: TestRun.objects.filter(deploy=deploy, status__in=TestRun.FINISHED).exists())

    deploy.refresh_from_db()
    run = TestRun.objects.get(deploy=deploy)
    assert deploy.status == "succeeded"
    assert deploy.requested_by == operator
    assert run.status == "failed"
    assert (run.total, run.failed) == (35, 1)


def test_a_loop_reaches_green_after_ci_registers_the_fixed_build(worker, demo_service, operator):
    loop = loop_start(service=demo_service, suite=demo_service.suites.get(), user=operator)

    _wait(lambda: Loop.objects.get(pk=loop.pk).status == "waiting")
    first = loop.iterations.get(number=1)
    assert first.run.status == "failed"
    assert first.goal_met is False

    token = token_create(user=operator, name="ci")[1]
    response = Client().post(
        "/api/v1/builds",
        {
            "service": demo_service.name,
            "image": FIXED,
            "commit_sha": "9c0ffee",
            "message": "Finish the stream when the agent is done",
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 201
    assert response.json()["loops_resumed"] == [loop.pk]

    _wait(lambda: Loop.objects.get(pk=loop.pk).status not in Loop.ACTIVE)
    loop.refresh_from_db()
    second = loop.iterations.get(number=2)
    assert loop.status == "succeeded"
    assert second.build.commit_sha == "9c0ffee"
    assert second.run.status == "passed"
    assert (second.goal_met, second.stable) == (True, True)
