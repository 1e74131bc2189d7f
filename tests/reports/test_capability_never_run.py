"""The tests behind a capability's status that never ran: the first ones by key, whatever order
the tests were created in (the summary shows at most MAX_BEHIND)."""

from __future__ import annotations

import random
from datetime import date

import pytest

from reports.models import Capability
from reports.scope import Scope
from reports.selectors.capabilities import MAX_BEHIND, capability_status
from reports.services.capability_cases import capability_save
from tests.factories import CaseFactory, ServiceFactory, SuiteFactory

pytestmark = pytest.mark.django_db


def test_the_never_run_tests_shown_are_the_first_by_key():
    suite = SuiteFactory(service=ServiceFactory())
    keys = [f"tests::test_{n:03d}" for n in range(MAX_BEHIND + 30)]
    random.Random(3).shuffle(keys)  # created in no particular order
    for key in keys:
        CaseFactory(suite=suite, key=key, name=key.split("::")[1])
    capability = capability_save(capability=Capability(name="All", patterns="*"))

    status = capability_status(capability, Scope(date(2000, 1, 1), date(2100, 1, 1), ()))

    assert (status.total, status.not_run) == (MAX_BEHIND + 30, MAX_BEHIND + 30)
    assert [t.key for t in status.behind] == sorted(keys)[:MAX_BEHIND]
    assert {t.outcome for t in status.behind} == {"not run"}
