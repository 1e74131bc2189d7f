"""factory_boy factories for the rows tests need."""

from __future__ import annotations

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
