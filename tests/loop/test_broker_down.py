"""A broker that is down for a moment: the click still succeeds and nothing is half-written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow

SCRIPT = """
from django.contrib.auth.models import User
from django.test import Client
from runs.models import Deploy, Service, Suite, TestRun
from runs.services.roles import roles_ensure

operator = User.objects.create_user("op", password="pw")
operator.groups.add(roles_ensure()["Operator"])
service = Service.objects.create(name="web", default_image="web:1")
Suite.objects.create(service=service, name="e2e", command=["true"])
client = Client()
client.force_login(operator)
response = client.post("/services/web/deploy")
deploy = Deploy.objects.get()
print("STATUS", response.status_code, response["Location"] == deploy.get_absolute_url())
print("ROWS", deploy.status, TestRun.objects.get(deploy=deploy).status)
"""


def test_a_deploy_clicked_while_the_broker_is_down_is_kept_queued_for_the_sweeper(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL"}}
    env.update(
        DEBUG="1",
        ALLOWED_HOSTS="testserver",
        STAGELOOP_VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="dashboard.settings",
        # Nothing listens on port 1: every connection to this broker is refused.
        CELERY_BROKER_URL="redis://127.0.0.1:1/0",
    )
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)

    result = subprocess.run(
        [*manage, "shell", "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert "STATUS 302 True" in result.stdout
    assert "ROWS queued queued" in result.stdout
    assert "could not enqueue runs.tasks.deploy_and_test" in result.stderr
