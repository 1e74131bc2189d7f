"""The content types of the moved models change app: runs → analyses.

Renaming the rows in place keeps their ids, so the permissions hanging off them (the roles' view_*
and write_analysis) and the admin log entries stay where they are.
"""

from django.db import migrations

MODELS = ("analysis", "why", "actionitem", "analysisevent")


def _move(apps, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not ContentType.objects.filter(app_label=old, model=model).exists():
            continue  # a database the content types were never made for
        # One made in between (post_migrate after a partial migrate) holds only fresh permissions.
        ContentType.objects.filter(app_label=new, model=model).delete()
        ContentType.objects.filter(app_label=old, model=model).update(app_label=new)
    ContentType.objects.clear_cache()


def forwards(apps, schema_editor):
    _move(apps, "runs", "analyses")


def backwards(apps, schema_editor):
    _move(apps, "analyses", "runs")


class Migration(migrations.Migration):
    dependencies = [
        ("analyses", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
