"""The summary's counts read model (reports.CapabilityTally), backfilled here by one recount from
the capability -> tests rows and the tests' latest results. From now on
reports.services.capability_tallies keeps it."""

import django.db.models.deletion
from django.db import migrations, models


def backfill(apps, schema_editor):
    from reports.services.capability_tallies import tallies_rebuild

    tallies_rebuild()


class Migration(migrations.Migration):

    dependencies = [
        ('reports', '0004_capability_cases_read_model'),
        ('runs', '0034_search_indexes_concurrently'),
    ]

    operations = [
        migrations.CreateModel(
            name='CapabilityTally',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('mapped', models.IntegerField(default=0)),
                ('ran', models.IntegerField(default=0)),
                ('passing', models.IntegerField(default=0)),
                ('failing', models.IntegerField(default=0)),
                ('flaky', models.IntegerField(default=0)),
                ('skipped', models.IntegerField(default=0)),
                ('capability', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='tallies', to='reports.capability')),
                ('suite', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='runs.suite')),
            ],
            options={
                'indexes': [models.Index(fields=['suite'], name='capabilitytally_suite')],
                'constraints': [models.UniqueConstraint(fields=('capability', 'suite'), name='capabilitytally_unique')],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
