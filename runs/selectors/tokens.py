"""What a user's API tokens may do: a token acts with its owner's current role."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from runs.roles import API_ACTIONS, roles_holding
from runs.selectors.roles import role_text


def _join(items: Sequence[str], last: str) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {last} {items[-1]}"


def _needs(roles: Sequence[str]) -> str:
    return f"the {roles[0]} role" if len(roles) == 1 else f"one of the roles {_join(roles, 'or')}"


@dataclass(frozen=True)
class TokenAbilities:
    role: str
    may: list[str]
    may_not: list[str]
    needed_roles: list[str]

    @property
    def may_text(self) -> str:
        if not self.may:
            return "May do nothing through the API."
        return f"May {_join(self.may, 'and')}."

    @property
    def may_not_text(self) -> str:
        if not self.may_not:
            return ""
        return f"May not {_join(self.may_not, 'or')}: that needs {_needs(self.needed_roles)}."


def token_abilities(*, user) -> TokenAbilities:
    """What any active token of `user` may do now, from the user's current permissions."""
    may, may_not, needed = [], [], []
    for (app_label, codename), does in API_ACTIONS.values():
        if user.has_perm(f"{app_label}.{codename}"):
            may.append(does)
        else:
            may_not.append(does)
            needed += [r for r in roles_holding((app_label, codename)) if r not in needed]
    return TokenAbilities(role=role_text(user), may=may, may_not=may_not, needed_roles=needed)


def action_refusal(*, user, action: str) -> str | None:
    """None when `user` may do the API `action`, else the sentence that says why not."""
    (app_label, codename), does = API_ACTIONS[action]
    if user.has_perm(f"{app_label}.{codename}"):
        return None
    needed = roles_holding((app_label, codename))
    return (
        f"{user.get_username()} ({role_text(user)}) may not {does}: that needs {_needs(needed)}. "
        "Ask an admin for it, or use a token of a user who has it."
    )
