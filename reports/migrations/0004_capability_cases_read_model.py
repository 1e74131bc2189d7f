"""The capability -> tests read model (reports.CapabilityCase), backfilled here: one
INSERT … SELECT per capability, the same match the pages made (reports.patterns), and
``mapped_patterns`` set to the patterns the rows were built for. Patterns that cannot be read
map no tests (the pages say why). From now on reports.services.capability_cases keeps it."""

import django.db.models.deletion
from django.db import migrations, models

from reports.patterns import PatternError, patterns_q


def backfill(apps, schema_editor):
    Capability = apps.get_model("reports", "Capability")
    TestCase = apps.get_model("runs", "TestCase")
    table = apps.get_model("reports", "CapabilityCase")._meta.db_table
    connection = schema_editor.connection
    for capability in Capability.objects.order_by("pk"):
        try:
            cases = TestCase.objects.filter(patterns_q(capability.patterns))
        except PatternError:
            cases = None
        if cases is not None:
            sql, params = cases.values("pk").query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {table} (capability_id, case_id) "  # noqa: S608
                    f"SELECT %s, m.* FROM ({sql}) AS m",
                    [capability.pk, *params],
                )
        Capability.objects.filter(pk=capability.pk).update(mapped_patterns=capability.patterns)


class Migration(migrations.Migration):

    dependencies = [
        ('reports', '0003_status_pages'),
        ('runs', '0033_testcase_search_pending'),
    ]

    operations = [
        migrations.AddField(
            model_name='capability',
            name='mapped_patterns',
            field=models.TextField(blank=True, default='', editable=False),
        ),
        migrations.CreateModel(
            name='CapabilityCase',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('capability', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='case_rows', to='reports.capability')),
                ('case', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='capability_rows', to='runs.testcase')),
            ],
            options={
                'indexes': [models.Index(fields=['case'], name='capabilitycase_case')],
                'constraints': [models.UniqueConstraint(fields=('capability', 'case'), name='capabilitycase_unique')],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
