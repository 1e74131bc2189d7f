"""Trigram indexes for search (runs.selectors.search), on PostgreSQL only.

Django's ``icontains`` compares ``UPPER(column::text) LIKE UPPER('%text%')`` on PostgreSQL, so
each index is a pg_trgm GIN index on that same expression: a substring anywhere in a name, a
path or a message is found through the index. SQLite keeps plain LIKE (see the selector).
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


def indexes_create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table, column in INDEXES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def indexes_drop(apps, schema_editor):
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
        TrigramExtension(),
        migrations.RunPython(indexes_create, indexes_drop),
    ]
