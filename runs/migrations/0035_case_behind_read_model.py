"""runs.CaseBehind: the tests whose latest result is not a clean pass, backfilled from
runs.CaseLatest (runs.services.read_models keeps both from now on)."""

import django.db.models.deletion
from django.db import migrations, models


def backfill(apps, schema_editor):
    from runs.services.read_models import case_behind_rebuild

    case_behind_rebuild()


class Migration(migrations.Migration):

    dependencies = [
        ('runs', '0034_search_indexes_concurrently'),
    ]

    operations = [
        migrations.CreateModel(
            name='CaseBehind',
            fields=[
                ('case', models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='behind_result', serialize=False, to='runs.testcase')),
                ('suite_id', models.BigIntegerField()),
                ('run_at', models.DateTimeField()),
                ('outcome', models.CharField(max_length=8)),
                ('flaky', models.BooleanField(default=False)),
                ('run', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='runs.testrun')),
            ],
            options={
                'indexes': [models.Index(fields=['-run_at'], name='casebehind_newest'), models.Index(fields=['suite_id'], name='casebehind_suite')],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
