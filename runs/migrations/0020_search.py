"""Trigram indexes for search (runs.selectors.search).

PostgreSQL: Django's ``icontains`` compares ``UPPER(column::text) LIKE UPPER('%text%')``, so each
index is a pg_trgm GIN index on that same expression: a substring anywhere in a name, a path or
a message is found through the index.
SQLite: the tests (up to 100,000s of rows) get an FTS5 table with the trigram tokenizer, kept by
triggers; plain LIKE read every test (about 100 ms at 100,000 tests, bench/search_sqlite.py),
FTS5 about 1 ms. The other kinds are a few thousand rows and keep LIKE. Without FTS5 in the
SQLite build, nothing is created and the tests keep LIKE too.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

# (index name, table, column): the columns runs.selectors.search matches.
INDEXES = [
    ("search_service_name", "runs_service", "name"),
    ("search_service_display", "runs_service", "display_name"),
    ("search_suite_name", "runs_suite", "name"),
    ("search_case_name", "runs_testcase", "name"),
    ("search_case_classname", "runs_testcase", "classname"),
    ("search_case_file", "runs_testcase", "file"),
    ("search_revision_name", "runs_revision", "name"),
    ("search_revision_sha", "runs_revision", "commit_sha"),
    ("search_signature_normalized", "runs_failuresignature", "normalized"),
    ("search_signature_example", "runs_failuresignature", "example"),
]


SQLITE_FTS = [
    "CREATE VIRTUAL TABLE search_case_fts USING fts5(name, classname, file, "
    "content='runs_testcase', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER search_case_fts_insert AFTER INSERT ON runs_testcase BEGIN "
    "INSERT INTO search_case_fts(rowid, name, classname, file) "
    "VALUES (new.id, new.name, new.classname, new.file); END",
    "CREATE TRIGGER search_case_fts_delete AFTER DELETE ON runs_testcase BEGIN "
    "INSERT INTO search_case_fts(search_case_fts, rowid, name, classname, file) "
    "VALUES ('delete', old.id, old.name, old.classname, old.file); END",
    "CREATE TRIGGER search_case_fts_update AFTER UPDATE OF name, classname, file "
    "ON runs_testcase BEGIN "
    "INSERT INTO search_case_fts(search_case_fts, rowid, name, classname, file) "
    "VALUES ('delete', old.id, old.name, old.classname, old.file); "
    "INSERT INTO search_case_fts(rowid, name, classname, file) "
    "VALUES (new.id, new.name, new.classname, new.file); END",
    "INSERT INTO search_case_fts(search_case_fts) VALUES ('rebuild')",
]


class PostgresTrigramExtension(TrigramExtension):
    """pg_trgm on PostgreSQL only: Django's CreateExtension skips other databases going forwards
    but asks pg_extension going backwards, which SQLite does not have."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def _sqlite_has_fts5_trigram(schema_editor) -> bool:
    with schema_editor.connection.cursor() as cursor:
        try:
            cursor.execute(
                "CREATE VIRTUAL TABLE temp.search_probe USING fts5(x, tokenize='trigram')"
            )
        except Exception:  # noqa: BLE001 (any failure means: no FTS5 trigram here)
            return False
        cursor.execute("DROP TABLE temp.search_probe")
    return True


def indexes_create(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite" and _sqlite_has_fts5_trigram(schema_editor):
        for statement in SQLITE_FTS:
            schema_editor.execute(statement)
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table, column in INDEXES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def indexes_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for trigger in ("insert", "delete", "update"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS search_case_fts_{trigger}")
        schema_editor.execute("DROP TABLE IF EXISTS search_case_fts")
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("runs", "0019_owner_rules"),
    ]

    operations = [
        # CreateExtension does nothing on other databases.
        PostgresTrigramExtension(),
        migrations.RunPython(indexes_create, indexes_drop),
    ]
