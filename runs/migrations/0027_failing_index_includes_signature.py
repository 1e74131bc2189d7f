"""The failing-results index carries each failure's signature, so the summary counts a period's
failures by triage from the index alone (an index-only scan; see bench/pages.py)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("runs", "0026_suite_tree_nodes"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="testresult",
            name="result_run_failing",
        ),
        migrations.AddIndex(
            model_name="testresult",
            index=models.Index(
                condition=models.Q(("outcome__in", ["failed", "error"])),
                fields=["run", "case"],
                include=("signature",),
                name="result_run_failing",
            ),
        ),
    ]
