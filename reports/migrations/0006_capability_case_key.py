"""reports.CapabilityCase carries its test's key and suite (neither ever changes), filled here
from the tests, and an index of a capability's rows by key: the capability's page lists its
first tests by key without sorting every test it maps."""

from django.db import migrations, models


def backfill(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "UPDATE reports_capabilitycase SET key = c.key, suite_id = c.suite_id "
                "FROM runs_testcase c WHERE c.id = reports_capabilitycase.case_id"
            )
        else:
            cursor.execute(
                "UPDATE reports_capabilitycase SET "
                "key = (SELECT c.key FROM runs_testcase c WHERE c.id = case_id), "
                "suite_id = (SELECT c.suite_id FROM runs_testcase c WHERE c.id = case_id)"
            )


class Migration(migrations.Migration):

    dependencies = [
        ('reports', '0005_capability_tallies'),
        ('runs', '0035_case_behind_read_model'),
    ]

    operations = [
        migrations.AddField(
            model_name='capabilitycase',
            name='key',
            field=models.TextField(db_default='', default=''),
        ),
        migrations.AddField(
            model_name='capabilitycase',
            name='suite_id',
            field=models.BigIntegerField(null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name='capabilitycase',
            index=models.Index(fields=['capability', 'key'], name='capabilitycase_by_key'),
        ),
    ]
