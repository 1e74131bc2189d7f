"""Partial indexes for the run page of a large run: its failures, its other (skipped) results and
its flaky results by run, in test order; and the tests never real, by suite (see bench/pages.py)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("runs", "0024_retention"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="testresult",
            index=models.Index(
                condition=models.Q(("outcome__in", ["failed", "error"])),
                fields=["run", "case"],
                name="result_run_failing",
            ),
        ),
        migrations.AddIndex(
            model_name="testresult",
            index=models.Index(
                condition=models.Q(("outcome__in", ["passed", "failed", "error"]), _negated=True),
                fields=["run", "case"],
                name="result_run_other",
            ),
        ),
        migrations.AddIndex(
            model_name="testresult",
            index=models.Index(
                condition=models.Q(("flaky", True)), fields=["run", "case"], name="result_run_flaky"
            ),
        ),
        migrations.AddIndex(
            model_name="testcase",
            index=models.Index(
                condition=models.Q(("ever_real", False)),
                fields=["suite"],
                name="testcase_suite_idle",
            ),
        ),
    ]
