"""The capability -> tests read model (reports.CapabilityCase): the pages' tests of a capability
always equal the old match of its patterns against every test, whatever wrote the tests or the
capability, and on PostgreSQL both before and after an import's tests are search-indexed."""

from __future__ import annotations

import random
from datetime import date

import pytest
from django.db import connection
from django.urls import reverse

from reports.models import Capability, CapabilityCase
from reports.patterns import patterns_q
from reports.scope import Scope
from reports.selectors.capabilities import mapped_case_ids, mapped_cases, mapped_tests
from reports.services.capability_cases import (
    capability_cases_rebuild,
    capability_cases_rebuild_all,
    capability_save,
)
from runs.models import TestCase
from runs.services.case_search import case_search_index
from runs.services.ingest import ReportFile, run_import
from tests.factories import ServiceFactory, SuiteFactory
from tests.live.conftest import LiveApi, result

pytestmark = pytest.mark.django_db

SCOPE = Scope(start=date(2000, 1, 1), end=date(2100, 1, 1), services=())
WORDS = ["cart", "Coupon", "chat", "login", "pay", "Socket", "a.b", "x_y"]


def _report(rng: random.Random, count: int) -> bytes:
    cases = []
    for _ in range(count):
        a, b, c = rng.choice(WORDS), rng.choice(WORDS), rng.choice(WORDS)
        file = f' file="tests/{c}/test_{a}.py"' if rng.random() < 0.7 else ""
        cases.append(
            f'<testcase classname="tests.{a}.{b.title()}Flow" '
            f'name="test_{b}_{c}_{rng.randrange(50)}"{file} time="0.01"/>'
        )
    return f'<testsuite name="{rng.choice(WORDS)}">{"".join(cases)}</testsuite>'.encode()


def _patterns(rng: random.Random) -> str:
    """A few random lines: globs on any field or one, some excluding."""
    lines = []
    for _ in range(rng.randint(1, 3)):
        word = rng.choice(WORDS)
        glob = rng.choice([f"*{word}*", f"*{word.upper()}*", f"test_{word}*", f"*{word[:2]}?*"])
        field = rng.choice(["", "name:", "class:", "file:", "key:"])
        lines.append(f"{field}{glob}")
    if rng.random() < 0.5:
        lines.append(f"!{rng.choice(['', 'file:', 'name:'])}*{rng.choice(WORDS)}*")
    return "\n".join(lines)


def _scanned(capability: Capability) -> set[int]:
    """The oracle: the patterns matched against every test, as the pages did before."""
    cases = TestCase.objects.filter(patterns_q(capability.patterns))
    return set(cases.values_list("pk", flat=True))


def _read(capability: Capability) -> set[int]:
    return {row["pk"] for row in mapped_case_ids(capability, SCOPE)}


def _assert_read_model_equals_the_scan() -> None:
    for capability in Capability.objects.all():
        assert capability.mapped_patterns == capability.patterns  # the read model answers
        assert _read(capability) == _scanned(capability), capability.patterns


def _import(suite, data: bytes):
    return run_import(suite=suite, files=[ReportFile(name="junit.xml", data=data)], analyze=False)


def _create(rng: random.Random, count: int) -> list[Capability]:
    return [
        capability_save(capability=Capability(name=f"cap {rng.random()}", patterns=_patterns(rng)))
        for _ in range(count)
    ]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_random_capabilities_and_imports_read_the_same_tests_as_the_pattern_scan(seed):
    rng = random.Random(seed)
    suites = [SuiteFactory(service=ServiceFactory()) for _ in range(2)]
    before = _create(rng, 4)  # capabilities saved before any test exists

    _import(suites[0], _report(rng, 40))
    _assert_read_model_equals_the_scan()  # PostgreSQL: the new tests still pending
    case_search_index(suite_id=suites[0].pk)
    _assert_read_model_equals_the_scan()  # indexed and mapped

    _create(rng, 4)  # capabilities saved after tests exist
    _import(suites[1], _report(rng, 40))
    _import(suites[0], _report(rng, 40))  # known tests and new ones
    _assert_read_model_equals_the_scan()

    edited = before[0]
    edited.patterns = _patterns(rng)
    capability_save(capability=edited)  # a pattern edit while tests are pending
    _assert_read_model_equals_the_scan()
    for suite in suites:
        case_search_index(suite_id=suite.pk)
    _assert_read_model_equals_the_scan()
    assert not TestCase.objects.filter(search_pending=True).exists()
    mapped = CapabilityCase.objects.count()
    assert mapped == sum(len(_scanned(c)) for c in Capability.objects.all())
    _assert_pages_list_the_first_tests_by_key(suites)


def _assert_pages_list_the_first_tests_by_key(suites) -> None:
    """A capability's page lists its first tests by key (then id) with their latest results,
    from its own rows' key index: the same as ordering the scanned tests, in any scope."""
    for scope in (SCOPE, Scope(start=SCOPE.start, end=SCOPE.end, services=(suites[0].service,))):
        for capability in Capability.objects.prefetch_related("services"):
            listed = mapped_tests(capability, scope, limit=7)
            oracle = list(
                mapped_cases(capability, scope)
                .filter(pk__in=_scanned(capability))
                .order_by("key", "pk")
                .values_list("pk", "latest_id")[:7]
            )
            assert [(c.pk, r.pk if r else None) for c, r in listed] == oracle


def test_an_import_s_tests_are_pending_then_mapped_by_their_search_indexing():
    suite = SuiteFactory(service=ServiceFactory())
    capability = capability_save(capability=Capability(name="Chat", patterns="class:*Chat*"))
    report = (
        b'<testsuite name="s"><testcase classname="tests.ChatFlow" name="test_send" time="1"/>'
        b'<testcase classname="tests.CartFlow" name="test_add" time="1"/></testsuite>'
    )

    _import(suite, report)
    mapped_at_import = CapabilityCase.objects.count()
    found_at_import = _read(capability)
    case_search_index(suite_id=suite.pk)

    chat = TestCase.objects.get(name="test_send").pk
    # PostgreSQL maps them in the indexing task (found meanwhile as pending); SQLite at import.
    assert mapped_at_import == (0 if connection.vendor == "postgresql" else 1)
    assert found_at_import == {chat} == _read(capability)
    assert list(CapabilityCase.objects.values_list("case_id", flat=True)) == [chat]


def test_tests_from_the_live_api_are_mapped_as_they_are_created(operator):
    from django.test import Client

    from runs.services.tokens import token_create

    capability_save(capability=Capability(name="Checkout", patterns="name:*check*"))
    capability_save(capability=Capability(name="All", patterns="*\n!*slow*"))
    SuiteFactory(service=ServiceFactory(name="shop"), name="e2e")
    live = LiveApi(Client(), token_create(user=operator, name="ci")[1])
    run_id = live.started()

    response = live.results(
        run_id, [result("test_checkout_total"), result("test_slow_checkout"), result("test_other")]
    )

    assert response.status_code in (200, 201, 202), response.content
    assert CapabilityCase.objects.count() == 2 + 2  # both checkout tests; all but the slow one
    _assert_read_model_equals_the_scan()


def test_a_pattern_edit_in_the_ui_rebuilds_the_capability_s_tests(manager, login):
    suite = SuiteFactory(service=ServiceFactory())
    _import(suite, _report(random.Random(7), 30))
    client = login(manager)
    client.post(
        reverse("reports:capability-create"),
        {"name": "Cart", "patterns": "class:*cart*", "position": "1"},
    )
    capability = Capability.objects.get()
    _assert_read_model_equals_the_scan()

    client.post(
        reverse("reports:capability-edit", args=[capability.pk]),
        {"name": "Cart", "patterns": "file:*login*\n!name:*pay*", "position": "1"},
    )

    capability.refresh_from_db()
    assert capability.patterns == "file:*login*\n!name:*pay*"
    _assert_read_model_equals_the_scan()
    assert CapabilityCase.objects.count() == len(_scanned(capability)) > 0


def test_patterns_written_without_the_service_are_matched_against_every_test():
    suite = SuiteFactory(service=ServiceFactory())
    _import(suite, _report(random.Random(8), 30))
    case_search_index(suite_id=suite.pk)
    capability = capability_save(capability=Capability(name="Chat", patterns="*chat*"))

    Capability.objects.filter(pk=capability.pk).update(patterns="*pay*")  # a shell, a fixture
    capability.refresh_from_db()

    # The rows were built for other patterns: the page matches the patterns, never the rows.
    assert (
        _read(capability)
        == _scanned(capability)
        != set(CapabilityCase.objects.values_list("case_id", flat=True))
    )
    assert capability_cases_rebuild_all() == len(_scanned(capability))
    _assert_read_model_equals_the_scan()


def test_deleting_a_test_or_a_capability_deletes_its_rows():
    suite = SuiteFactory(service=ServiceFactory())
    _import(suite, _report(random.Random(9), 30))
    case_search_index(suite_id=suite.pk)
    kept = capability_save(capability=Capability(name="All", patterns="*"))
    gone = capability_save(capability=Capability(name="Chat", patterns="*chat*"))
    case = TestCase.objects.filter(name__contains="chat").first()

    case.delete()
    gone.delete()

    assert not CapabilityCase.objects.filter(case_id=case.pk).exists()
    assert not CapabilityCase.objects.filter(capability_id=gone.pk).exists()
    _assert_read_model_equals_the_scan()
    suite.delete()
    assert not CapabilityCase.objects.exists() and _read(kept) == set()


def test_a_rebuild_of_unreadable_patterns_maps_nothing():
    SuiteFactory(service=ServiceFactory())
    capability = Capability.objects.create(name="Bad", patterns="!only-excludes")

    assert capability_cases_rebuild(capability_id=capability.pk) == 0
    capability.refresh_from_db()
    assert capability.mapped_patterns == "!only-excludes"
    assert not CapabilityCase.objects.exists()


def test_the_migration_backfills_every_capability_with_the_pattern_scan():
    import importlib
    from types import SimpleNamespace

    from django.apps import apps

    migration = importlib.import_module("reports.migrations.0004_capability_cases_read_model")
    suite = SuiteFactory(service=ServiceFactory())
    _import(suite, _report(random.Random(10), 40))
    rng = random.Random(11)
    for n in range(5):  # as they were before the migration: no rows, nothing mapped
        Capability.objects.create(name=f"cap {n}", patterns=_patterns(rng))
    Capability.objects.create(name="unreadable", patterns="!only-excludes")

    migration.backfill(apps, SimpleNamespace(connection=connection))

    assert Capability.objects.get(name="unreadable").mapped_patterns == "!only-excludes"
    for capability in Capability.objects.exclude(name="unreadable"):
        assert capability.mapped_patterns == capability.patterns
        rows = CapabilityCase.objects.filter(capability=capability)
        assert set(rows.values_list("case_id", flat=True)) == _scanned(capability)
        assert _read(capability) == _scanned(capability)


def test_a_capability_saved_in_the_admin_maps_its_tests(admin_client):
    suite = SuiteFactory(service=ServiceFactory())
    _import(suite, _report(random.Random(12), 30))

    response = admin_client.post(
        reverse("admin:reports_capability_add"),
        {"name": "Chat", "patterns": "*chat*", "description": "", "position": "0"},
    )
    capability = Capability.objects.get()
    admin_client.post(
        reverse("admin:reports_capability_change", args=[capability.pk]),
        {"name": "Chat", "patterns": "class:*cart*", "description": "", "position": "0"},
    )

    assert response.status_code == 302
    capability.refresh_from_db()
    assert capability.patterns == "class:*cart*"
    _assert_read_model_equals_the_scan()
    assert CapabilityCase.objects.count() == len(_scanned(capability)) > 0


def test_the_key_migration_fills_each_row_with_its_test_s_key_and_suite():
    import importlib
    from types import SimpleNamespace

    from django.apps import apps

    migration = importlib.import_module("reports.migrations.0006_capability_case_key")
    suite = SuiteFactory(service=ServiceFactory())
    _import(suite, _report(random.Random(13), 30))
    case_search_index(suite_id=suite.pk)
    capability = capability_save(capability=Capability(name="All", patterns="*"))
    CapabilityCase.objects.update(key="", suite_id=None)  # as rows were before the migration

    migration.backfill(apps, SimpleNamespace(connection=connection))

    rows = CapabilityCase.objects.filter(capability=capability)
    assert rows.count() == TestCase.objects.count() > 0
    for row in rows.select_related("case"):
        assert (row.key, row.suite_id) == (row.case.key, row.case.suite_id)
