"""Seed the delivery bands from the DORA 2023 Accelerate State of DevOps Report.

The report gives each performance cluster a range (deploy frequency, lead time, recovery time) or
a typical value (change failure rate: 5 %, 10 %, 15 %, 64 %). Stageloop reads the ranges as
bounds and the typical failure rates as upper bounds; Low deploy frequency, which the report gives
as the same range as Medium, is read as "less often than once a month". Admins may edit them.
"""

from django.db import migrations

SOURCE = "DORA 2023 Accelerate State of DevOps Report (bounds read by Stageloop)"

# metric, rank, level, lower, upper, description
BANDS = [
    ("deploy_frequency", 1, "Elite", 1.0, None, "On demand (daily or more often)"),
    ("deploy_frequency", 2, "High", 1 / 7, 1.0, "Between once per day and once per week"),
    ("deploy_frequency", 3, "Medium", 1 / 30, 1 / 7, "Between once per week and once per month"),
    ("deploy_frequency", 4, "Low", None, 1 / 30, "Less often than once per month"),
    ("change_failure_rate", 1, "Elite", None, 0.05, "5 % or less"),
    ("change_failure_rate", 2, "High", None, 0.10, "10 % or less"),
    ("change_failure_rate", 3, "Medium", None, 0.15, "15 % or less"),
    ("change_failure_rate", 4, "Low", None, None, "More than 15 % (typical: 64 %)"),
    ("lead_time", 1, "Elite", None, 24.0, "Less than one day"),
    ("lead_time", 2, "High", None, 24.0 * 7, "Between one day and one week"),
    ("lead_time", 3, "Medium", None, 24.0 * 30, "Between one week and one month"),
    ("lead_time", 4, "Low", None, None, "More than one month"),
    ("time_to_restore", 1, "Elite", None, 1.0, "Less than one hour"),
    ("time_to_restore", 2, "High", None, 24.0, "Less than one day"),
    ("time_to_restore", 3, "Medium", None, 24.0 * 7, "Between one day and one week"),
    ("time_to_restore", 4, "Low", None, None, "More than one week"),
]


def seed(apps, schema_editor):
    DeliveryBand = apps.get_model("reports", "DeliveryBand")
    for metric, rank, level, lower, upper, description in BANDS:
        DeliveryBand.objects.update_or_create(
            metric=metric,
            rank=rank,
            defaults={
                "level": level,
                "lower": lower,
                "upper": upper,
                "description": description,
                "source": SOURCE,
            },
        )


def unseed(apps, schema_editor):
    apps.get_model("reports", "DeliveryBand").objects.filter(source=SOURCE).delete()


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_capabilities_and_bands")]

    operations = [migrations.RunPython(seed, unseed)]
