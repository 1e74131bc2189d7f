"""The capability -> tests read model (reports.CapabilityCase): which tests each capability's
patterns match, so a page reads an index instead of matching regexes against every test.

Kept at every write that can change the answer:

- a capability saved with new patterns: its rows rebuilt (DELETE, then one INSERT … SELECT of
  the matching tests) in the saving transaction, and ``mapped_patterns`` set to what they were
  built for;
- tests created: mapped by id as they are created (SQLite's importer, the live API), or, for an
  import's tests on PostgreSQL (written ``search_pending``), by the search indexing task in the
  same transaction that clears the flag; until then the pages match the pending tests directly
  (reports.selectors.capabilities), so no moment exists where a test is in neither set.

A test's key, name, class and file never change after it is created, so nothing else moves a
test in or out of a capability. Deleting a capability or a test deletes its rows (cascade).
Each change also moves the summary's counts (reports.services.capability_tallies).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, transaction

from reports.models import Capability, CapabilityCase
from reports.patterns import PatternError, patterns_q
from reports.services.capability_tallies import tallies_add_cases, tallies_rebuild
from runs.models import TestCase

_TABLE = CapabilityCase._meta.db_table
# Ids per statement when mapping new tests on SQLite (one parameter each; it allows 32,766).
CHUNK = 900


def _insert(*, capability_id: int, patterns: str, ids: Sequence[int] | None = None) -> int:
    """Map the tests with these ids (all when None) that ``patterns`` match; how many rows were
    added. Raises PatternError for patterns that cannot be read. Tests mapped by id are counted
    into the capability's tallies at once; a whole rebuild recounts them after."""
    cases = TestCase.objects.filter(patterns_q(patterns))
    where, extra = "1 = 1", []  # `WHERE`: SQLite reads ON CONFLICT after a bare FROM as a join's ON
    if ids is not None and connection.vendor == "postgresql":
        # One array parameter, not thousands: the subquery is pulled up, so this is an index
        # condition on the tests' primary key.
        where, extra = "m.pk = ANY(%s)", [list(ids)]
    elif ids is not None:
        cases = cases.filter(pk__in=ids)
    sql, params = cases.values("pk", "key", "suite_id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_TABLE} (capability_id, case_id, key, suite_id) "  # noqa: S608
            f"SELECT %s, m.* FROM ({sql}) AS m WHERE {where} ON CONFLICT DO NOTHING"
            + (" RETURNING case_id" if ids is not None else ""),
            [capability_id, *params, *extra],
        )
        if ids is None:
            return cursor.rowcount
        added = [pk for (pk,) in cursor.fetchall()]
    tallies_add_cases(capability_id=capability_id, case_ids=added)
    return len(added)


def capability_cases_rebuild(*, capability_id: int) -> int:
    """Rebuild one capability's rows from its current patterns, in the caller's transaction (or
    one of its own); how many tests it maps. The capability's row stays locked until the commit,
    so the indexing task (capability_cases_map) waits and then maps with the new patterns.
    Patterns that cannot be read map no tests (the pages say why)."""
    with transaction.atomic():
        capability = Capability.objects.select_for_update().get(pk=capability_id)
        CapabilityCase.objects.filter(capability_id=capability_id).delete()
        try:
            mapped = _insert(capability_id=capability_id, patterns=capability.patterns)
        except PatternError:
            mapped = 0
        tallies_rebuild(capability_id=capability_id)
        Capability.objects.filter(pk=capability_id).update(mapped_patterns=capability.patterns)
    return mapped


def capability_cases_rebuild_all() -> int:
    """Rebuild every capability's rows (a seeder's last step, a repair); how many rows."""
    ids = list(Capability.objects.order_by("pk").values_list("pk", flat=True))
    return sum(capability_cases_rebuild(capability_id=pk) for pk in ids)


def capability_cases_map(*, case_ids: Sequence[int]) -> int:
    """Map newly created tests to every capability whose rows are current; how many rows. Runs
    in the caller's transaction (the one that creates the tests or clears their search_pending
    flag), so a reader sees each test either mapped or still pending, never neither.

    On PostgreSQL the capabilities are read FOR SHARE: a concurrent rebuild (which holds its
    row FOR UPDATE) finishes first, and this then maps with the patterns it committed."""
    if not case_ids:
        return 0
    size = CHUNK if connection.vendor == "sqlite" else len(case_ids)
    added = 0
    with transaction.atomic():
        for pk, patterns in _current():
            for start in range(0, len(case_ids), size):
                chunk = case_ids[start : start + size]
                try:
                    added += _insert(capability_id=pk, patterns=patterns, ids=chunk)
                except PatternError:
                    break
    return added


def _current() -> list[tuple[int, str]]:
    """(pk, patterns) of the capabilities whose rows were built for their patterns."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, patterns FROM {Capability._meta.db_table} "  # noqa: S608
                "WHERE mapped_patterns = patterns ORDER BY id FOR SHARE"
            )
            return cursor.fetchall()
    rows = Capability.objects.order_by("pk").values_list("pk", "patterns", "mapped_patterns")
    return [(pk, patterns) for pk, patterns, mapped in rows if mapped == patterns]


def capability_save(*, capability: Capability) -> Capability:
    """Save a capability (a form's or the admin's instance) and, when it is new or its patterns
    changed, rebuild its rows in the same transaction."""
    with transaction.atomic():
        capability.save()
        if capability.mapped_patterns != capability.patterns:
            capability_cases_rebuild(capability_id=capability.pk)
            capability.mapped_patterns = capability.patterns
    return capability
