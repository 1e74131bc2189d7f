"""Known data for the summary: a 28-day period with runs, deploys, probes, incidents, analyses."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from health import sketch
from health.models import Incident, Probe, ProbeRollupHour
from runs.models import Deploy, TestResult, TestRun
from tests.factories import CaseFactory, RevisionFactory, ServiceFactory, SuiteFactory

START, END = date(2030, 3, 1), date(2030, 3, 28)  # 28 days, both included


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2030, 3, day, hour, tzinfo=UTC)


def set_time(obj, **fields):
    type(obj).objects.filter(pk=obj.pk).update(**fields)
    obj.refresh_from_db()
    return obj


def make_run(suite, day, passed, failed, errors=0, revision=None, hour=12, status=None):
    status = status or ("passed" if not (failed or errors) else "failed")
    run = TestRun.objects.create(
        suite=suite,
        service=suite.service,
        revision=revision,
        status=status,
        total=passed + failed + errors,
        passed=passed,
        failed=failed,
        errors=errors,
    )
    return set_time(run, created_at=at(day, hour))


def make_deploy(
    service, day, revision, commit_hours_before=None, trigger="button", hour=10, previous=None
):
    if commit_hours_before is not None:
        set_time(revision, commit_time=at(day, hour) - timedelta(hours=commit_hours_before))
    deploy = Deploy.objects.create(
        service=service,
        revision=revision,
        status="succeeded",
        trigger=trigger,
        previous_revision=previous,
    )
    return set_time(deploy, created_at=at(day, hour), finished_at=at(day, hour))


@pytest.fixture
def known(db):
    """The hand-computed world the summary tests check against (see each test's comments)."""
    web = ServiceFactory(name="web")
    other = ServiceFactory(name="other")
    suite = SuiteFactory(service=web, name="e2e", target_test_count=1000)
    # Runs of web/e2e: first half (days 1-14) 3 runs, second half (15-28) 3 runs.
    # passed/counted: d2 90/100, d5 80/100 (fails), d9 100/100, d16 95/100 (fails),
    # d20 100/100, d27 97/100 (fails: 2 failed + 1 error).  One run of `other`, excluded by scope.
    revs = [RevisionFactory(service=web) for _ in range(6)]
    runs = [
        make_run(suite, 2, 90, 10, revision=revs[0]),
        make_run(suite, 5, 80, 20, revision=revs[1]),
        make_run(suite, 9, 100, 0, revision=revs[2]),
        make_run(suite, 16, 95, 5, revision=revs[3]),
        make_run(suite, 20, 100, 0, revision=revs[4]),
        make_run(suite, 27, 97, 2, 1, revision=revs[5]),
    ]
    make_run(SuiteFactory(service=other), 3, 0, 50)
    # Deploys of web: 6 on days 2,5,9,16,20,27 (commit 2 h, 5 h, 30 h before; others unknown),
    # one rollback on day 6 away from revs[1]. Failed changes: revs[0] (first run failed),
    # revs[1] (failed and rolled back), revs[3], revs[5] -> 4 of 6.
    deploys = [
        make_deploy(web, 2, revs[0], 2),
        make_deploy(web, 5, revs[1], 5),
        make_deploy(web, 9, revs[2], 30),
        make_deploy(web, 16, revs[3]),
        make_deploy(web, 20, revs[4]),
        make_deploy(web, 27, revs[5]),
    ]
    make_deploy(web, 6, revs[0], trigger="rollback", previous=revs[1])
    # Probes: 1,000 checks of which 996 ok -> 99.6 %; latencies: 950 at 40 ms, 50 at 900 ms.
    probe = Probe.objects.create(service=web, name="health", path="/healthz")
    bins: sketch.Sketch = {}
    sketch.add(bins, 40.0, 950)
    sketch.add(bins, 900.0, 50)
    ProbeRollupHour.objects.create(
        probe=probe,
        bucket_start=at(10, 0),
        count=1000,
        ok_count=996,
        latency_sum=83000,
        sketch=bins,
    )
    # Incidents: one closed of 90 min on day 10; one opened on day 28 23:00 and still open
    # (1 h inside the period); one before the period (not counted).
    Incident.objects.create(
        probe=probe, service=web, opened_at=at(10, 1), closed_at=at(10, 1) + timedelta(minutes=90)
    )
    Incident.objects.create(probe=probe, service=web, opened_at=at(28, 23))
    Incident.objects.create(
        probe=Probe.objects.create(service=web, name="p2", path="/"),
        service=web,
        opened_at=at(1, 0) - timedelta(days=5),
        closed_at=at(1, 0) - timedelta(days=4),
    )
    return {
        "web": web,
        "other": other,
        "suite": suite,
        "runs": runs,
        "revs": revs,
        "deploys": deploys,
        "probe": probe,
    }


@pytest.fixture
def chat_tests(db):
    """A suite with chat and auth tests and their latest results."""
    suite = SuiteFactory(service=ServiceFactory(name="chat"), name="e2e")
    cases = {
        key: CaseFactory(
            suite=suite,
            key=key,
            name=key.rsplit("::", 1)[-1],
            classname=cls,
            file=key.split("::")[0],
        )
        for key, cls in [
            ("tests/test_ws.py::test_send", "TestWebSocket"),
            ("tests/test_ws.py::test_reconnect", "TestWebSocket"),
            ("tests/test_ws.py::test_slow_burst", "TestWebSocket"),
            ("tests/test_auth.py::test_login", "TestAuth"),
            ("tests/test_auth.py::test_logout", "TestAuth"),
        ]
    }
    older = make_run(suite, 10, 5, 0)
    newer = make_run(suite, 12, 3, 1)
    for case in cases.values():
        TestResult.objects.create(run=older, case=case, outcome="passed")
    outcomes = {
        "tests/test_ws.py::test_send": ("passed", False),
        "tests/test_ws.py::test_reconnect": ("failed", False),
        "tests/test_ws.py::test_slow_burst": ("passed", True),
        "tests/test_auth.py::test_login": ("passed", False),
    }  # test_logout did not run in the newer run: its latest result is the older pass
    for key, (outcome, flaky) in outcomes.items():
        TestResult.objects.create(run=newer, case=cases[key], outcome=outcome, flaky=flaky)
    return {"suite": suite, "cases": cases, "older": older, "newer": newer}
