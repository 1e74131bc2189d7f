"""Tests' search indexing moves off the import: TestCase.search_pending, and the trigram indexes
of name, class and file hold only cases whose indexing is done (not pending).

The three GIN indexes cost about three quarters of writing a first import's 100,000 new cases
(bench/ingest.py, 14-16 s against 3-4.5 s without them at load 9). The importer now writes its
new cases pending; a task sent on commit (runs.services.case_search) clears the flag, which is
when the GIN entries are written, and runs.selectors.search matches pending cases through the
small partial index on suite. The GIN indexes are remade in 0034 (PostgreSQL only, without
locking writes). SQLite's FTS5 table, kept by triggers, is unchanged (the importer writes nothing
pending there); but SQLite adds the column by rebuilding runs_testcase, which drops the table's
triggers, so they are made again here.
"""

from django.db import migrations, models

# The FTS5 triggers of 0020_search, as they were made there.
SQLITE_TRIGGERS = [
    "CREATE TRIGGER IF NOT EXISTS search_case_fts_insert AFTER INSERT ON runs_testcase BEGIN "
    "INSERT INTO search_case_fts(rowid, name, classname, file) "
    "VALUES (new.id, new.name, new.classname, new.file); END",
    "CREATE TRIGGER IF NOT EXISTS search_case_fts_delete AFTER DELETE ON runs_testcase BEGIN "
    "INSERT INTO search_case_fts(search_case_fts, rowid, name, classname, file) "
    "VALUES ('delete', old.id, old.name, old.classname, old.file); END",
    "CREATE TRIGGER IF NOT EXISTS search_case_fts_update AFTER UPDATE OF name, classname, file "
    "ON runs_testcase BEGIN "
    "INSERT INTO search_case_fts(search_case_fts, rowid, name, classname, file) "
    "VALUES ('delete', old.id, old.name, old.classname, old.file); "
    "INSERT INTO search_case_fts(rowid, name, classname, file) "
    "VALUES (new.id, new.name, new.classname, new.file); END",
]


def _sqlite_triggers(schema_editor) -> None:
    """The FTS5 table's triggers again, after the table rebuild (where FTS5 was available)."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'search_case_fts'")
        if cursor.fetchone() is None:
            return
    for statement in SQLITE_TRIGGERS:
        schema_editor.execute(statement)


def triggers_again(apps, schema_editor):
    """After AddField (forwards) or RemoveField (backwards) rebuilt the SQLite table without
    its triggers."""
    if schema_editor.connection.vendor == "sqlite":
        _sqlite_triggers(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("runs", "0032_case_latest_read_model"),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, triggers_again),
        migrations.AddField(
            model_name="testcase",
            name="search_pending",
            field=models.BooleanField(db_default=False, default=False),
        ),
        migrations.AddIndex(
            model_name="testcase",
            index=models.Index(
                condition=models.Q(("search_pending", True)),
                fields=["suite"],
                name="testcase_search_pending",
            ),
        ),
        migrations.RunPython(triggers_again, migrations.RunPython.noop),
        # The trigram indexes leave out pending cases in 0034, outside a transaction.
    ]
