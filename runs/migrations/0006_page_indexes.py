"""Indexes the dashboard pages ask for (see bench/pages.py)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("runs", "0005_analyses"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="testresult",
            index=models.Index(
                condition=models.Q(("outcome__in", ["failed", "error"]))
                | models.Q(("duration__gt", 0.001)),
                fields=["case"],
                name="result_case_real",
            ),
        ),
    ]
