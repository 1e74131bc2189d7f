"""Which Stageloop roles a user's identity-provider groups give (the mapping is configured in
settings from STAGELOOP_OIDC_ROLE_<ROLE>), and making the user's roles exactly those."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction

from runs.roles import ROLE_PERMISSIONS
from runs.services.roles import roles_ensure

logger = logging.getLogger(__name__)

ADMIN = "admin"


def groups_from_claim(value: object) -> list[str]:
    """The groups claim as a list of names: providers send a list, some a single string."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    logger.warning("oidc: ignoring a groups claim that is neither a list nor a string: %r", value)
    return []


def roles_for_groups(groups: Iterable[str]) -> set[str]:
    """The roles (Viewer, Operator, Manager, admin) that any of `groups` maps to."""
    held = set(groups)
    return {role for role, names in settings.OIDC_ROLE_GROUPS.items() if held & set(names)}


def user_roles_sync(*, user, groups: Iterable[str]) -> set[str]:
    """Give `user` exactly the roles its provider groups map to, taking away the others; the
    admin role is Django's superuser (and staff) flag. Returns the roles it now holds."""
    wanted = roles_for_groups(groups)
    with transaction.atomic():
        role_groups = {g.name: g for g in Group.objects.filter(name__in=ROLE_PERMISSIONS)}
        if len(role_groups) < len(ROLE_PERMISSIONS):
            role_groups = roles_ensure()
        user.groups.remove(*[g for name, g in role_groups.items() if name not in wanted])
        user.groups.add(*[g for name, g in role_groups.items() if name in wanted])
        is_admin = ADMIN in wanted
        if user.is_superuser != is_admin or user.is_staff != is_admin:
            user.is_superuser = user.is_staff = is_admin
            user.save(update_fields=["is_superuser", "is_staff"])
    return wanted
