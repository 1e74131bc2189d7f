"""A user's roles, as the pages and the API name them."""

from __future__ import annotations


def user_role_names(user) -> list[str]:
    """The user's roles (group names), plus "admin" for a superuser."""
    names = sorted(user.groups.values_list("name", flat=True))
    return [*names, "admin"] if user.is_superuser else names


def role_text(user) -> str:
    """Such as "Viewer", "Manager, Operator" or "no role"."""
    return ", ".join(user_role_names(user)) or "no role"
