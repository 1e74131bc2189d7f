"""factory_boy factories for the rows tests need."""

from __future__ import annotations

from contextlib import contextmanager

import factory

from runs import models
from runs.models.testing import case_key_hash


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Service

    name = factory.Sequence(lambda n: f"svc-{n}")
    display_name = factory.LazyAttribute(lambda o: o.name.title())
    default_image = "registry.local/svc:1.0.0"


class RevisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Revision

    service = factory.SubFactory(ServiceFactory)
    name = factory.Sequence(lambda n: f"rev-{n:05d}")
    image = "registry.local/svc:1.0.0"
    status = models.Revision.Status.READY


class SuiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Suite

    service = factory.SubFactory(ServiceFactory)
    name = factory.Sequence(lambda n: f"suite-{n}")


class RunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.TestRun

    suite = factory.SubFactory(SuiteFactory)
    service = factory.LazyAttribute(lambda o: o.suite.service)
    status = models.TestRun.Status.PASSED


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.TestCase

    suite = factory.SubFactory(SuiteFactory)
    key = factory.Sequence(lambda n: f"tests.test_x::test_{n}")
    key_hash = factory.LazyAttribute(lambda o: case_key_hash(o.key))
    name = factory.LazyAttribute(lambda o: o.key.rsplit("::", 1)[-1])


class ResultFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.TestResult

    run = factory.SubFactory(RunFactory)
    case = factory.SubFactory(CaseFactory, suite=factory.SelfAttribute("..run.suite"))
    outcome = "passed"


@contextmanager
def _explicit_created_at(*model_classes):
    """Let bulk_create store the created_at a test gives (auto_now_add would overwrite it)."""
    fields = [m._meta.get_field("created_at") for m in model_classes]
    saved = [f.auto_now_add for f in fields]
    for f in fields:
        f.auto_now_add = False
    try:
        yield
    finally:
        for f, value in zip(fields, saved, strict=True):
            f.auto_now_add = value


def chart_history(points: int, *, service_name: str = "demo-checkout", per_revision: int = 3):
    """A service whose every chart has ``points`` points, written with bulk_create (a thousand
    points in well under a second): one run a quarter hour apart ending now, a revision named
    like the demo's (a shared ``demo-checkout-`` prefix) and a deploy every ``per_revision``
    runs (every fifth failed), the first test's result in every run, and a minute rollup of
    latency per run. Returns the service, suite, case, runs and revisions."""
    from datetime import timedelta

    from django.utils import timezone

    from health import sketch
    from health.models import Probe, ProbeRollupHour, ProbeRollupMinute
    from health.services.rollups import day_rollups_refresh

    now = timezone.now().replace(second=0, microsecond=0)
    service = ServiceFactory(name=service_name)
    suite = SuiteFactory(service=service, name="e2e", target_test_count=4)
    cases = [CaseFactory(suite=suite, key=f"tests/test_shop.py::test_step_{i}") for i in range(3)]
    times = [now - timedelta(minutes=15 * (points - 1 - n)) for n in range(points)]
    revision_count = (points + per_revision - 1) // per_revision
    with _explicit_created_at(models.Revision, models.Deploy, models.TestRun):
        revisions = models.Revision.objects.bulk_create(
            [
                models.Revision(
                    service=service,
                    name=f"{service_name}-{i:04d}-{i * 2654435761 % 16**6:06x}",
                    image="registry.local/svc:1.0.0",
                    status=models.Revision.Status.READY,
                    created_at=times[i * per_revision] - timedelta(minutes=1),
                )
                for i in range(revision_count)
            ]
        )
        models.Deploy.objects.bulk_create(
            [
                models.Deploy(
                    service=service,
                    revision=revision,
                    status="failed" if i % 5 == 4 else "succeeded",
                    created_at=revision.created_at,
                    started_at=revision.created_at,
                    finished_at=revision.created_at + timedelta(seconds=30),
                )
                for i, revision in enumerate(revisions)
            ]
        )
        runs = models.TestRun.objects.bulk_create(
            [
                models.TestRun(
                    suite=suite,
                    service=service,
                    revision=revisions[n // per_revision],
                    status="failed" if n % 4 == 1 else "passed",
                    total=4,
                    passed=3 if n % 4 == 1 else 4,
                    failed=1 if n % 4 == 1 else 0,
                    duration=30 + (n * 7) % 13,
                    created_at=at,
                    started_at=at,
                    finished_at=at + timedelta(seconds=40),
                )
                for n, at in enumerate(times)
            ]
        )
    models.TestResult.objects.bulk_create(
        [
            models.TestResult(
                run=run,
                case=cases[0],
                outcome="failed" if n % 4 == 1 else "passed",
                duration=0.2 + (n * 37) % 11 / 10,
                flaky=n % 9 == 5,
            )
            for n, run in enumerate(runs)
        ]
    )
    probe = Probe.objects.create(service=service, name="healthz", path="/healthz")
    minutes = ProbeRollupMinute.objects.bulk_create(
        [
            ProbeRollupMinute(
                probe=probe,
                revision=run.revision,
                bucket_start=now - timedelta(minutes=points - n),
                count=4,
                ok_count=4,
                latency_sum=4 * 40.0,
                latency_min=10.0,
                latency_max=120.0,
                sketch=sketch.from_latencies(
                    [10 + n % 7, 30 + (n * 13) % 40, 60 + (n * 7) % 50, 90 + n % 30]
                ),
            )
            for n, run in enumerate(runs)
        ]
    )
    # The hour rollups the recorder writes beside the minutes (ranges over 24 h read them).
    hours: dict[tuple, ProbeRollupHour] = {}
    for m in minutes:
        key = (m.revision_id, m.bucket_start.replace(minute=0))
        hour = hours.setdefault(
            key,
            ProbeRollupHour(
                probe=probe,
                revision_id=m.revision_id,
                bucket_start=key[1],
                count=0,
                ok_count=0,
                latency_sum=0.0,
                latency_min=m.latency_min,
                latency_max=m.latency_max,
                sketch={},
            ),
        )
        hour.count += m.count
        hour.ok_count += m.ok_count
        hour.latency_sum += m.latency_sum
        hour.sketch = sketch.merge(hour.sketch, m.sketch)
    ProbeRollupHour.objects.bulk_create(hours.values())
    # and the local days' rollups (ranges over 7 days, the overview's 30 days among them)
    day_rollups_refresh(since=None, probe_ids=[probe.pk])
    service.current_revision = revisions[-1]
    service.save(update_fields=["current_revision"])
    return {
        "service": service,
        "suite": suite,
        "case": cases[0],
        "runs": runs,
        "revisions": revisions,
    }
