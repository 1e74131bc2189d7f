"""Create the role groups with their permissions (idempotent)."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

from runs.roles import ROLE_PERMISSIONS


def roles_ensure() -> dict[str, Group]:
    """Make sure Viewer, Operator and Manager exist with exactly their permissions."""
    groups = {}
    for role, pairs in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = [
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
            for app_label, codename in pairs
        ]
        group.permissions.set(permissions)
        groups[role] = group
    return groups
