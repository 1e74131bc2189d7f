"""Latency sketches replace the fixed-bucket histograms of rollups.

Each existing histogram becomes sketch bins: a bucket's count goes to the bin of the bucket's
geometric middle (0.5 ms for the first bucket, 60 s for "more than 60 s"), and the rollup keeps
the histogram's bound, 1/3, in ``latency_error``. ``manage.py rebuild_latency_sketches``
later recomputes the rollups whose raw results are still kept (14 days by default) to the 1 %
of a sketch. The keys below are ``health.sketch.key_of`` of those middles at 1 % accuracy,
frozen here so that this migration means the same thing whatever the module becomes.
"""

from django.db import migrations, models

LEGACY_ERROR = 1 / 3

# Index of a bucket in the old 50-bucket histogram → sketch key of the bucket's middle.
LEGACY_KEYS = (
    "-34", "6", "16", "28", "41", "51", "63", "75", "86", "96", "108", "121", "131", "143",
    "156", "166", "178", "191", "201", "211", "224", "236", "246", "258", "271", "281", "293",
    "306", "316", "326", "339", "351", "362", "373", "386", "396", "408", "421", "431", "441",
    "454", "467", "477", "488", "501", "511", "523", "536", "546", "551",
)  # fmt: skip

_PG = """
UPDATE {table} AS t SET latency_error = %s, sketch = COALESCE((
    SELECT jsonb_object_agg(m.k, e.n::bigint)
    FROM jsonb_array_elements_text(t.histogram) WITH ORDINALITY AS e(n, i)
    JOIN (VALUES {pairs}) AS m(i, k) ON m.i = e.i - 1
    WHERE e.n <> '0'
), '{{}}'::jsonb)
"""

_SQLITE = """
UPDATE {table} SET latency_error = %s, sketch = COALESCE((
    SELECT json_group_object(m.column2, e.value)
    FROM json_each({table}.histogram) AS e
    JOIN (VALUES {pairs}) AS m ON m.column1 = e.key
    WHERE e.value <> 0
), '{{}}')
"""


def histograms_to_sketches(apps, schema_editor):
    connection = schema_editor.connection
    template = _PG if connection.vendor == "postgresql" else _SQLITE
    pairs = ", ".join(f"({i}, '{key}')" for i, key in enumerate(LEGACY_KEYS))
    for name in ("ProbeRollupMinute", "ProbeRollupHour"):
        table = apps.get_model("health", name)._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(template.format(table=table, pairs=pairs), [LEGACY_ERROR])


class Migration(migrations.Migration):
    dependencies = [
        ("health", "0003_rollup_probe_time_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="proberolluphour",
            name="sketch",
            field=models.JSONField(default=dict),
        ),
        migrations.AddField(
            model_name="proberollupminute",
            name="sketch",
            field=models.JSONField(default=dict),
        ),
        # Existing rows get the old bound; new rows the sketch's (the AlterField below).
        migrations.AddField(
            model_name="proberolluphour",
            name="latency_error",
            field=models.FloatField(default=LEGACY_ERROR),
        ),
        migrations.AddField(
            model_name="proberollupminute",
            name="latency_error",
            field=models.FloatField(default=LEGACY_ERROR),
        ),
        migrations.AlterField(
            model_name="proberolluphour",
            name="latency_error",
            field=models.FloatField(default=0.01),
        ),
        migrations.AlterField(
            model_name="proberollupminute",
            name="latency_error",
            field=models.FloatField(default=0.01),
        ),
        migrations.RunPython(histograms_to_sketches, migrations.RunPython.noop),
        migrations.RemoveField(model_name="proberolluphour", name="histogram"),
        migrations.RemoveField(model_name="proberollupminute", name="histogram"),
    ]
