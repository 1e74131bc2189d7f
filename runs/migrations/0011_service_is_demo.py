from django.db import migrations, models


def mark_seeded_services(apps, schema_editor):
    """Services seeded before the flag existed: only the seeders write runs triggered "seed"."""
    Service = apps.get_model("runs", "Service")
    TestRun = apps.get_model("runs", "TestRun")
    seeded = TestRun.objects.filter(trigger="seed").values("service_id")
    Service.objects.filter(pk__in=seeded).update(is_demo=True)


class Migration(migrations.Migration):
    dependencies = [
        ("runs", "0010_case_key_hash_bytewise"),
    ]

    operations = [
        migrations.AddField(
            model_name="service",
            name="is_demo",
            field=models.BooleanField(
                default=False,
                help_text="Seeded demo data, not real work; removable with remove_demo.",
            ),
        ),
        migrations.RunPython(mark_seeded_services, migrations.RunPython.noop),
    ]
