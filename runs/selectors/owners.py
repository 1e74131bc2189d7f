"""Who owns a test: the suite's owner rules, read in order, the last match winning."""

from __future__ import annotations

from collections.abc import Sequence

from runs.models import OwnerRule, TestCase


def suite_owner_rules(*, suite_id: int) -> list[OwnerRule]:
    """The suite's rules in the order they are read. One query."""
    return list(OwnerRule.objects.filter(suite_id=suite_id).select_related("user", "team"))


def owner_of(
    *, file: str, classname: str, name: str, rules: Sequence[OwnerRule]
) -> OwnerRule | None:
    """The rule that owns a test with this file, classname and name: the last that matches."""
    for rule in reversed(rules):
        if rule.matches(file=file, classname=classname, name=name):
            return rule
    return None


def case_owner(*, case: TestCase) -> OwnerRule | None:
    """The owner rule of one test (None: nobody owns it). One query."""
    rules = suite_owner_rules(suite_id=case.suite_id)
    return owner_of(file=case.file, classname=case.classname, name=case.name, rules=rules)


def owns(rule: OwnerRule | None, user) -> bool:
    """Whether `user` is the rule's owner or in its team."""
    if rule is None or not user.is_authenticated:
        return False
    if rule.user_id is not None:
        return rule.user_id == user.pk
    return user.groups.filter(pk=rule.team_id).exists()
