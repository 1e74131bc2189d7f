"""Claiming due probes: only due, enabled ones; phase kept; exclusive under concurrent claimers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections

from health.models import Probe
from health.services import probes_claim_due, probes_claim_due_with_times
from tests.factories import ServiceFactory
from tests.health.helpers import T0, make_probe


@pytest.mark.django_db
def test_it_claims_only_enabled_due_probes_and_moves_them_one_interval_on():
    # given probes due before, at and after now, one disabled and one never scheduled
    service = ServiceFactory()
    early = make_probe(service, next_probe_at=T0 - timedelta(seconds=3))
    exact = make_probe(service, next_probe_at=T0)
    never = make_probe(service, next_probe_at=None)
    make_probe(service, next_probe_at=T0 + timedelta(seconds=1))
    make_probe(service, next_probe_at=T0 - timedelta(seconds=1), enabled=False)

    # when claiming at T0
    claimed = probes_claim_due_with_times(now=T0, limit=10)

    # then the due ones are claimed with their due times, and the schedule keeps its phase
    assert sorted(claimed) == sorted(
        [(never.pk, T0), (early.pk, T0 - timedelta(seconds=3)), (exact.pk, T0)]
    )
    schedule = dict(Probe.objects.values_list("pk", "next_probe_at"))
    assert schedule[early.pk] == T0 + timedelta(seconds=7)
    assert schedule[exact.pk] == T0 + timedelta(seconds=10)
    assert schedule[never.pk] == T0 + timedelta(seconds=10)
    # and a second claim at the same moment gets nothing
    assert probes_claim_due(now=T0, limit=10) == []


@pytest.mark.django_db
def test_it_skips_missed_checks_of_a_probe_far_behind_instead_of_bursting():
    probe = make_probe(ServiceFactory(), next_probe_at=T0 - timedelta(hours=1))

    assert probes_claim_due(now=T0, limit=10) == [probe.pk]

    probe.refresh_from_db()
    assert probe.next_probe_at == T0 + timedelta(seconds=10)


@pytest.mark.django_db
def test_it_claims_at_most_limit_earliest_first():
    service = ServiceFactory()
    probes = [make_probe(service, next_probe_at=T0 - timedelta(seconds=i)) for i in range(5)]

    claimed = probes_claim_due(now=T0, limit=2)

    assert claimed == [probes[4].pk, probes[3].pk]


@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="in-memory SQLite test databases share one cache with table locks that do not wait; "
    "the SQLite claim is tested across two processes on a file database below",
)
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_dispatchers_claim_disjoint_sets_covering_every_due_probe():
    # given 400 due probes
    service = ServiceFactory()
    Probe.objects.bulk_create(
        Probe(service=service, name=f"p{i}", path="/ok", interval_seconds=10, next_probe_at=T0)
        for i in range(400)
    )
    due = set(Probe.objects.values_list("pk", flat=True))
    barrier = threading.Barrier(2)
    claims: list[list[int]] = [[], []]
    errors: list[BaseException] = []

    def dispatcher(slot: int) -> None:
        # each thread has its own database connection, like two beat processes
        try:
            barrier.wait()
            for _ in range(20):
                claims[slot] += probes_claim_due(now=T0, limit=25)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            connections.close_all()

    # when two dispatchers claim at the same moment
    threads = [threading.Thread(target=dispatcher, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then no probe was claimed twice and every due probe was claimed once
    assert errors == []
    assert not set(claims[0]) & set(claims[1])
    assert len(claims[0]) + len(claims[1]) == len(due)
    assert set(claims[0]) | set(claims[1]) == due
    if connection.vendor == "postgresql":
        # SKIP LOCKED lets both make progress at once rather than one waiting out the other
        assert claims[0] and claims[1]


ROOT = Path(__file__).resolve().parents[2]
_CLAIMER = """
import json, sys, time
from datetime import datetime, UTC
from health.services import probes_claim_due
start = float(sys.argv[1])
time.sleep(max(0.0, start - time.time()))
now = datetime(2026, 3, 2, 10, 0, 5, tzinfo=UTC)
ids = []
for _ in range(40):
    ids += probes_claim_due(now=now, limit=10)
print(json.dumps(ids))
"""
_SEED = """
from datetime import datetime, UTC
from health.models import Probe
from runs.models import Service
service = Service.objects.create(name="claim-test")
Probe.objects.bulk_create(
    Probe(service=service, name=f"p{i}", path="/ok", interval_seconds=10,
          next_probe_at=datetime(2026, 3, 2, 10, 0, 5, tzinfo=UTC))
    for i in range(300)
)
"""


@pytest.mark.slow
@pytest.mark.mode_free  # the embedded mode's SQLite file, whatever the pass's mode
def test_two_processes_claiming_on_one_sqlite_file_never_share_a_probe(tmp_path):
    # given the embedded mode's SQLite file (IMMEDIATE transactions) with 300 due probes
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    env.update(
        DEBUG="1", STAGELOOP_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="dashboard.settings"
    )
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=180)
    subprocess.run([*manage, "shell", "-c", _SEED], cwd=ROOT, env=env, check=True, timeout=60)

    # when two processes start claiming at the same instant
    start = time.time() + 3
    workers = [
        subprocess.Popen(
            [*manage, "shell", "-c", _CLAIMER.replace("sys.argv[1]", repr(str(start)))],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [worker.communicate(timeout=120) for worker in workers]

    # then their claims are disjoint and together cover every probe
    assert [worker.returncode for worker in workers] == [0, 0], [err for _, err in outputs]
    first, second = (set(json.loads(out.strip().splitlines()[-1])) for out, _ in outputs)
    assert not first & second
    assert len(first | second) == 300
