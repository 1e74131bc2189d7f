"""`manage.py stop_local_services` (make run runs it on Ctrl-C) stops what local deploys started."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from engine.deploy.base import DeployRequest
from runs.models import Revision, Service
from runs.services.deploy_step import target_for
from tests.engine.deploy.conftest import APP, PYTHON, LogLines, process_gone
from tests.factories import RevisionFactory, ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def app_script(tmp_path: Path) -> Path:
    path = tmp_path / "app.py"
    path.write_text(APP)
    return path


def _local_service(app: Path, tmp_path: Path) -> Service:
    return ServiceFactory(
        name="chat",
        target_kind=Service.TargetKind.LOCAL,
        target_config={
            "command": [PYTHON, str(app), "ok", str(tmp_path)],
            "cwd": str(tmp_path),
            "state_dir": str(tmp_path / "state"),
            "start_timeout": 10,
            "stop_grace": 2,
            "env": {"GREETING": "hello"},
        },
    )


def test_it_stops_every_live_local_revision_and_records_it_retired(
    app_script: Path, tmp_path: Path
) -> None:
    service = _local_service(app_script, tmp_path)
    info = target_for(service).deploy(DeployRequest(service="chat", image="chat:1"), log=LogLines())
    revision = RevisionFactory(
        service=service,
        name=info.name,
        url=info.url,
        status=Revision.Status.READY,
        traffic_percent=100,
        target_state=info.extra,
    )
    service.current_revision = revision
    service.save()
    pids = [int(p) for p in (tmp_path / f"{info.name}.pids").read_text().split()]
    old = RevisionFactory(service=service, name="chat-old", status=Revision.Status.RETIRED)

    out = io.StringIO()
    call_command("stop_local_services", stdout=out)

    assert all(process_gone(pid) for pid in pids)
    revision.refresh_from_db()
    service.refresh_from_db()
    assert revision.status == Revision.Status.RETIRED
    assert revision.retired_at is not None
    assert revision.traffic_percent == 0
    assert service.current_revision is None
    assert f"Stopped chat revision {info.name}." in out.getvalue()
    old.refresh_from_db()
    assert old.retired_at is None  # already retired rows are left as they were


def test_it_says_so_when_nothing_runs() -> None:
    out = io.StringIO()
    call_command("stop_local_services", stdout=out)
    assert out.getvalue().strip() == "No local service was running."
