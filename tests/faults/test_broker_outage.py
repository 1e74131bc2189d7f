"""The broker is down when work is enqueued: nothing is lost, it is sent when the broker returns.

Real processes on a private Redis that the test stops and starts: the request succeeds and leaves
an unsent outbox message; once Redis is back the sweeper sends it and a real worker does the work.
"""

from __future__ import annotations

import pytest

from tests.faults.conftest import ON_POSTGRES, Stageloop
from tests.junit_reports import JUNIT as JUNIT_DIR

pytestmark = pytest.mark.slow

SETUP = """
from django.contrib.auth.models import User
from runs.models import Service, Suite
from runs.services.roles import roles_ensure
from runs.services.tokens import token_create

operator = User.objects.create_user("op", password="pw")
operator.groups.add(roles_ensure()["Operator"])
service = Service.objects.create(name="web", default_image="web:1")
Suite.objects.create(service=service, name="e2e", command=["true"])
print("TOKEN", token_create(user=operator, name="ci")[1])
"""

UPLOAD = """
from django.test import Client
from runs.models import Outbox, TestRun

with open({path!r}, "rb") as report:
    response = Client().post(
        "/api/v1/runs",
        {{"service": "web", "suite": "e2e", "files": [report]}},
        HTTP_AUTHORIZATION="Bearer {token}",
    )
print("STATUS", response.status_code)
run = TestRun.objects.get()
print("RUN", run.pk, run.status)
print("UNSENT", list(Outbox.objects.filter(sent_at__isnull=True).values_list("task", "args")))
"""

CLICK = """
from django.contrib.auth.models import User
from django.test import Client
from runs.models import Deploy, Outbox

client = Client()
client.force_login(User.objects.get(username="op"))
response = client.post("/services/web/deploy")
deploy = Deploy.objects.get()
print("STATUS", response.status_code, deploy.pk, deploy.status)
print("UNSENT", list(Outbox.objects.filter(sent_at__isnull=True).values_list("task", "args")))
"""

SWEEP = """
from runs.models import Outbox
from runs.services.sweeper import runs_sweep

report = runs_sweep()
print("SENT", report.outbox.sent)
print("UNSENT", Outbox.objects.filter(sent_at__isnull=True).count())
"""

WAIT_FOR_ANALYSIS = """
import time
from analyses.models import Analysis

deadline = time.monotonic() + 90
while time.monotonic() < deadline and not Analysis.objects.filter(run_id={run_id}).exists():
    time.sleep(0.3)
print("DRAFTS", list(Analysis.objects.filter(run_id={run_id}).values_list("status", flat=True)))
"""

WAIT_FOR_DEPLOY = """
import time
from runs.models import Deploy

deadline = time.monotonic() + 90
while time.monotonic() < deadline and Deploy.objects.get().status in ("queued", "running"):
    time.sleep(0.3)
deploy = Deploy.objects.get()
print("DEPLOY", deploy.status, deploy.started_at is not None)
"""


def _token(stageloop) -> str:
    out = stageloop.shell(SETUP)
    return out.split("TOKEN", 1)[1].split()[0]


def test_an_upload_while_the_broker_is_down_is_analyzed_once_it_is_back(stageloop, private_redis):
    token = _token(stageloop)
    private_redis.stop()

    out = stageloop.shell(UPLOAD.format(path=str(JUNIT_DIR / "pytest-fail.xml"), token=token))

    assert "STATUS 201" in out, out
    run_id = int(out.split("RUN", 1)[1].split()[0])
    # On PostgreSQL the run also sends its new tests' search indexing: both wait for the broker.
    # SQLite has no search index to build, so there the analyze message waits alone.
    messages = 2 if ON_POSTGRES else 1
    unsent = out.split("UNSENT", 1)[1].splitlines()[0]
    assert f"('runs.tasks.run_analyze', [{run_id}])" in unsent, out
    assert unsent.count("runs.tasks.") == messages, out
    assert ("'runs.tasks.case_search_index'" in unsent) == ON_POSTGRES, out
    assert "could not enqueue runs.tasks.run_analyze" in stageloop.last_stderr

    private_redis.start()
    out = stageloop.shell(SWEEP)
    assert f"SENT {messages}" in out and "UNSENT 0" in out, out

    with stageloop.worker():
        out = stageloop.shell(WAIT_FOR_ANALYSIS.format(run_id=run_id))
    # pytest-fail.xml has one failing test: its signature gets one draft analysis.
    assert "DRAFTS ['draft']" in out, f"{out}\n{stageloop.worker_output[-3000:]}"
    assert "runs.tasks.run_analyze" in stageloop.worker_output


def test_a_deploy_clicked_while_the_broker_is_down_is_sent_once_it_is_back(
    stageloop, private_redis
):
    _token(stageloop)
    private_redis.stop()

    out = stageloop.shell(CLICK)

    assert "STATUS 302" in out and "queued" in out, out
    deploy_id = int(out.split("STATUS 302", 1)[1].split()[0])
    assert f"UNSENT [('runs.tasks.deploy_and_test', [{deploy_id}])]" in out, out

    private_redis.start()
    out = stageloop.shell(SWEEP)
    assert "SENT 1" in out and "UNSENT 0" in out, out

    with stageloop.worker():
        out = stageloop.shell(WAIT_FOR_DEPLOY)
    # The service has no local command to start: the worker claims the deploy and it fails at
    # once, which is all this test needs: the message reached a worker.
    assert "DEPLOY failed True" in out, f"{out}\n{stageloop.worker_output[-3000:]}"
    assert "runs.tasks.deploy_and_test" in stageloop.worker_output


LOSE_QUEUE_FOLDER = """
import shutil
from django.conf import settings

# The embedded queue's folder vanishes under the running web process (a cleaned var/, a lost
# mount): the filesystem broker cannot take a message until it is back.
shutil.rmtree(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_out"])
"""


@pytest.mark.mode_free  # SQLite and the filesystem broker, whatever the pass's mode
def test_in_the_embedded_mode_an_upload_while_the_queue_folder_is_missing_is_analyzed_later(
    tmp_path,
):
    app = Stageloop(tmp_path / "var", None, "filesystem://")
    assert app.manage("migrate", "--no-input", "-v0").returncode == 0
    token = _token(app)

    out = app.shell(
        LOSE_QUEUE_FOLDER + UPLOAD.format(path=str(JUNIT_DIR / "pytest-fail.xml"), token=token)
    )

    assert "STATUS 201" in out, out
    run_id = int(out.split("RUN", 1)[1].split()[0])
    assert f"UNSENT [('runs.tasks.run_analyze', [{run_id}])]" in out, out

    # Any Stageloop process makes the folder again when it starts; the next sweep sends.
    out = app.shell(SWEEP)
    assert "SENT 1" in out and "UNSENT 0" in out, out
    with app.worker():
        out = app.shell(WAIT_FOR_ANALYSIS.format(run_id=run_id))
    assert "DRAFTS ['draft']" in out, f"{out}\n{app.worker_output[-3000:]}"
