"""Migration runs 0034 remakes the tests' trigram indexes without stopping uploads (PostgreSQL):
while it waits for a transaction that writes tests, other tests can still be written, and it
ends with the indexes it promised."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from runs.models import TestCase
from tests.db_threads import in_thread, waits_on_a_lock
from tests.factories import CaseFactory, SuiteFactory

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("runs", "0033_testcase_search_pending")]
AFTER = [("runs", "0034_search_indexes_concurrently")]


def _migrate(targets) -> None:
    MigrationExecutor(connection).migrate(targets)


@pytest.fixture
def before_the_swap():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite searches its FTS5 table; it has no trigram indexes to swap")
    _migrate(BEFORE)
    yield
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def _case_indexes() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_indexdef(c.oid), i.indisvalid FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname LIKE 'search\\_case\\_%%'"
        )
        rows = cursor.fetchall()
    assert all(valid for _, _, valid in rows), rows
    return {name: definition for name, definition, _ in rows}


def test_the_swap_lets_tests_be_written_while_it_waits_for_an_upload(before_the_swap):
    suite = SuiteFactory()
    assert not any("search_pending" in d for d in _case_indexes().values())
    uploading, commit_upload = threading.Event(), threading.Event()

    def upload() -> None:  # an import's transaction, open while the migration starts
        with transaction.atomic():
            CaseFactory(suite=suite, key="t::open")
            uploading.set()
            commit_upload.wait(30)

    uploader, upload_errors = in_thread(upload)
    assert uploading.wait(30)
    migration, migration_errors = in_thread(lambda: _migrate(AFTER))
    assert waits_on_a_lock("CREATE INDEX")  # the build waits for the open upload

    with connection.cursor() as cursor:  # another upload is not held behind it
        cursor.execute("SET lock_timeout = '3s'")
        try:
            CaseFactory(suite=suite, key="t::meanwhile")
        finally:
            cursor.execute("SET lock_timeout = 0")
    commit_upload.set()
    uploader.join(30)
    migration.join(120)

    assert not upload_errors and not migration_errors
    assert not migration.is_alive()
    found = _case_indexes()
    assert set(found) == {"search_case_name", "search_case_classname", "search_case_file"}
    assert all("NOT search_pending" in d and "gin_trgm_ops" in d for d in found.values())
    assert TestCase.objects.filter(suite=suite).count() == 2
