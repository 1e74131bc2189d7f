from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("runs", "0008_case_suite_no_db_constraint"),
    ]

    operations = [
        migrations.AddField(
            model_name="testcase",
            name="ever_real",
            field=models.BooleanField(default=False),
        ),
        # Fill the flag from the results already stored while the index it replaces still helps.
        migrations.RunSQL(
            "UPDATE runs_testcase SET ever_real = EXISTS (SELECT 1 FROM runs_testresult r "
            "WHERE r.case_id = runs_testcase.id "
            "AND (r.outcome IN ('failed', 'error') OR r.duration > 0.001))",
            migrations.RunSQL.noop,
        ),
        migrations.RemoveIndex(
            model_name="testresult",
            name="result_case_real",
        ),
    ]
