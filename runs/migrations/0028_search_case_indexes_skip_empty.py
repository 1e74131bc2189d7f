"""The tests' classname and file trigram indexes hold only rows where the column is not empty.

Each index entry costs the importer a trigram extraction per new test, even for an empty
string (GIN stores an "empty item" entry for it); many reports leave file (and some classname)
empty, and the file index alone was about a tenth of a 100,000-test first import
(bench/ingest.py). runs.selectors.search matches those columns with `<> ''` beside the
substring, so the planner still reads these indexes. PostgreSQL only; SQLite's FTS5 table is
unchanged.
"""

from django.db import migrations

# (index name, column)
PARTIAL = [("search_case_classname", "classname"), ("search_case_file", "file")]


def _create(schema_editor, *, partial: bool) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in PARTIAL:
        where = f" WHERE \"{column}\" <> ''" if partial else ""
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')
        schema_editor.execute(
            f'CREATE INDEX "{name}" ON "runs_testcase" '
            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops){where}'
        )


def indexes_partial(apps, schema_editor):
    _create(schema_editor, partial=True)


def indexes_whole(apps, schema_editor):
    _create(schema_editor, partial=False)


class Migration(migrations.Migration):
    dependencies = [
        ("runs", "0027_failing_index_includes_signature"),
    ]

    operations = [
        migrations.RunPython(indexes_partial, indexes_whole),
    ]
