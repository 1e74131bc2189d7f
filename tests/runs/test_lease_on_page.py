"""The deploy page says which worker holds an active deploy and until when."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from runs.models import Deploy
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


def test_an_active_deploy_shows_its_worker_process_group_and_lease(login, viewer):
    until = timezone.now() + timedelta(seconds=30)
    deploy = Deploy.objects.create(
        service=ServiceFactory(),
        image="web:1",
        status=Deploy.Status.RUNNING,
        started_at=timezone.now(),
        lease_holder="worker-1:4242",
        lease_expires_at=until,
        child_pgid=4243,
    )

    page = login(viewer).get(deploy.get_absolute_url()).content.decode()

    assert "worker-1:4242" in page
    assert "process group 4243" in page
    assert f"lease until {timezone.localtime(until):%H:%M:%S}" in page


def test_a_finished_deploy_shows_no_lease(login, viewer):
    deploy = Deploy.objects.create(
        service=ServiceFactory(),
        image="web:1",
        status=Deploy.Status.SUCCEEDED,
        lease_holder="worker-1:4242",
    )

    assert "lease until" not in login(viewer).get(deploy.get_absolute_url()).content.decode()
