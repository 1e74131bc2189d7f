"""On PostgreSQL, compare key hashes bytewise: they are hex digests, and the unique index every
import writes to is cheaper without locale-aware comparisons. SQLite compares bytewise already."""

from django.db import migrations


def _alter(collation: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(
                "ALTER TABLE runs_testcase ALTER COLUMN key_hash TYPE varchar(40) "
                f'COLLATE "{collation}"'
            )

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("runs", "0009_case_ever_real"),
    ]

    operations = [migrations.RunPython(_alter("C"), _alter("default"))]
