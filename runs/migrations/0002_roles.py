"""Create the Viewer, Operator and Manager groups with their permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


# The roles as they were when this migration was written: a migration must not follow later code
# (the analyses models left runs for their own app in analyses 0001, their permissions with them).
_READ = [
    ("runs", f"view_{model}")
    for model in (
        "service",
        "build",
        "revision",
        "deploy",
        "suite",
        "testrun",
        "testrunartifact",
        "testcase",
        "testresult",
        "failuresignature",
        "analysis",
        "why",
        "actionitem",
        "analysisevent",
        "loop",
        "loopiteration",
    )
] + [("health", f"view_{model}") for model in ("probe", "proberesult", "incident")]

ROLE_PERMISSIONS = {
    "Viewer": _READ,
    "Operator": [*_READ, ("runs", "trigger_deploy"), ("runs", "write_analysis")],
    "Manager": [*_READ, ("runs", "export_report")],
}


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; make them exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, pairs in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        for app_label, codename in pairs:
            permission = Permission.objects.get(content_type__app_label=app_label, codename=codename)
            group.permissions.add(permission)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(
        name__in=["Viewer", "Operator", "Manager"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("runs", "0001_initial"),
        ("health", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
