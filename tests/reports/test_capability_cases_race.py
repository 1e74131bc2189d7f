"""A capability's rebuild racing the search indexing task on PostgreSQL, in both orders: whichever
commits first, the read model ends equal to the scan of the patterns that were committed last.

The indexing task maps each batch of an import's pending tests with the capabilities' patterns;
a pattern edit rebuilds the capability's rows from every test. If the task mapped with patterns
read before an edit committed, it would leave rows of the old patterns behind the rebuild. These
tests hold one side's transaction open at the point of conflict, check that the other side
waits on a lock (pg_stat_activity), then let the first commit.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from reports.models import Capability, CapabilityCase
from reports.patterns import patterns_q
from reports.services.capability_cases import capability_save
from runs.models import TestCase
from runs.services.case_search import case_search_index
from runs.services.ingest import ReportFile, run_import
from tests.db_threads import in_thread, waits_on_a_lock
from tests.factories import ServiceFactory, SuiteFactory

pytestmark = pytest.mark.django_db(transaction=True)

REPORT = (
    b'<testsuite name="s">'
    + b"".join(
        f'<testcase classname="tests.{kind}Flow" name="test_{kind.lower()}_{i}"/>'.encode()
        for kind in ("Chat", "Cart")
        for i in range(30)
    )
    + b"</testsuite>"
)


@pytest.fixture
def pending_suite():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite maps tests as it creates them, under its one writer: no task to race")
    suite = SuiteFactory(service=ServiceFactory())
    run_import(suite=suite, files=[ReportFile(name="junit.xml", data=REPORT)], analyze=False)
    assert TestCase.objects.filter(suite=suite, search_pending=True).count() == 60
    return suite


def _assert_read_model_equals_the_scan(capability: Capability) -> None:
    capability.refresh_from_db()
    assert capability.mapped_patterns == capability.patterns
    rows = CapabilityCase.objects.filter(capability=capability).values_list("case_id", flat=True)
    scanned = TestCase.objects.filter(patterns_q(capability.patterns)).values_list("pk", flat=True)
    assert set(rows) == set(scanned)
    assert len(set(rows)) == 30


def test_an_edit_committed_while_the_task_maps_is_what_the_task_maps_with(pending_suite):
    capability = capability_save(capability=Capability(name="Chat", patterns="class:*Chat*"))
    editing, commit_edit = threading.Event(), threading.Event()

    def edit() -> None:
        with transaction.atomic():
            capability.patterns = "class:*Cart*"
            capability_save(capability=capability)
            editing.set()
            commit_edit.wait(30)

    editor, editor_errors = in_thread(edit)
    assert editing.wait(30)
    indexer, indexer_errors = in_thread(lambda: case_search_index(suite_id=pending_suite.pk))

    # The task has marked its batch indexed and waits to read the capabilities FOR SHARE.
    assert waits_on_a_lock("SELECT id, patterns FROM")
    commit_edit.set()
    editor.join(30)
    indexer.join(30)

    assert not editor_errors and not indexer_errors
    assert not TestCase.objects.filter(search_pending=True).exists()
    _assert_read_model_equals_the_scan(capability)


def test_an_edit_made_while_the_task_holds_its_batch_rebuilds_after_the_task_commits(
    pending_suite,
):
    capability = capability_save(capability=Capability(name="Chat", patterns="class:*Chat*"))
    mapped, commit_task = threading.Event(), threading.Event()

    def index() -> None:
        with transaction.atomic():  # the task's batch stays uncommitted, its capability read held
            case_search_index(suite_id=pending_suite.pk)
            mapped.set()
            commit_task.wait(30)

    indexer, indexer_errors = in_thread(index)
    assert mapped.wait(30)

    def edit() -> None:
        fresh = Capability.objects.get(pk=capability.pk)
        fresh.patterns = "class:*Cart*"
        capability_save(capability=fresh)

    editor, editor_errors = in_thread(edit)
    assert waits_on_a_lock("UPDATE")  # the edit waits for the task's FOR SHARE
    commit_task.set()
    indexer.join(30)
    editor.join(30)

    assert not editor_errors and not indexer_errors
    assert not TestCase.objects.filter(search_pending=True).exists()
    _assert_read_model_equals_the_scan(capability)
