"""runs.SuiteRecentTables: the suite page's slowest and most failing tests over the suite's last
runs, kept by the suite tree's rollup (no backfill: until a suite's next rollup the page
aggregates them as before)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('runs', '0035_case_behind_read_model'),
    ]

    operations = [
        migrations.CreateModel(
            name='SuiteRecentTables',
            fields=[
                ('suite', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to='runs.suite')),
                ('run_ids', models.JSONField(default=list)),
                ('slowest', models.JSONField(default=list)),
                ('failing', models.JSONField(default=list)),
            ],
        ),
    ]
