"""The tests' trigram indexes (name, class, file) leave out the cases pending search indexing
(0033): remade without locking the table's writes.

A plain CREATE INDEX holds a lock that blocks every insert into runs_testcase while it builds:
at 2.2 M tests the three GIN indexes take minutes, and every upload in that time would wait.
So this migration runs outside a transaction and builds each new index CONCURRENTLY under a
temporary name, drops the old one CONCURRENTLY, then renames the new one (searches use the old
index until the swap). PostgreSQL only: SQLite keeps its FTS5 table.
"""

from django.db import migrations

# (index name, column, whether empty values are left out: 0028)
GIN = [
    ("search_case_name", "name", False),
    ("search_case_classname", "classname", True),
    ("search_case_file", "file", True),
]


def _remake(schema_editor, *, indexed_only: bool) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column, skip_empty in GIN:
        conditions = [f"\"{column}\" <> ''"] if skip_empty else []
        if indexed_only:
            conditions.append('NOT "search_pending"')
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        new = f"{name}_new"
        # A build interrupted before left an invalid index under the new name: start again.
        schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{new}"')
        schema_editor.execute(
            f'CREATE INDEX CONCURRENTLY "{new}" ON "runs_testcase" '
            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops){where}'
        )
        schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')
        schema_editor.execute(f'ALTER INDEX "{new}" RENAME TO "{name}"')
    if indexed_only:
        # Without statistics the planner takes half the cases for pending and plans every
        # test search for it (a parallel scan) until autovacuum's next analyze.
        schema_editor.execute('ANALYZE "runs_testcase" ("search_pending")')


def indexes_indexed_only(apps, schema_editor):
    _remake(schema_editor, indexed_only=True)


def indexes_every_case(apps, schema_editor):
    _remake(schema_editor, indexed_only=False)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("runs", "0033_testcase_search_pending"),
    ]

    operations = [
        # Going back, the indexes stop naming search_pending before 0033 removes it.
        migrations.RunPython(indexes_indexed_only, indexes_every_case, atomic=False),
    ]
