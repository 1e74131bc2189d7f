"""Who owns a test: the suite's owner rules, read in order, the last match winning."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db.models import Q

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
    return is_owner(rule, user_id=user.pk, team_ids=user_team_ids(user))


def case_owners(*, suite_id: int, case_ids: Sequence[int]) -> dict[int, OwnerRule | None]:
    """The owner rule of each of these tests of the suite. Two queries."""
    rules = suite_owner_rules(suite_id=suite_id)
    if not rules:
        return dict.fromkeys(case_ids)
    rows = TestCase.objects.filter(pk__in=list(case_ids)).values_list(
        "pk", "file", "classname", "name"
    )
    return {
        pk: owner_of(file=file, classname=classname, name=name, rules=rules)
        for pk, file, classname, name in rows
    }


def user_team_ids(user) -> set[int]:
    """The teams (groups) `user` is in. One query."""
    return set(user.groups.values_list("pk", flat=True)) if user.is_authenticated else set()


def is_owner(rule: OwnerRule | None, *, user_id: int | None, team_ids: set[int]) -> bool:
    """Whether the user with this id (in these teams) owns through `rule`."""
    if rule is None or user_id is None:
        return False
    return rule.user_id == user_id if rule.user_id is not None else rule.team_id in team_ids


def owners_of_cases(*, suite_id: int, cases: Sequence[TestCase]) -> dict[int, OwnerRule]:
    """The owner rule of each of these loaded tests that has one. One query."""
    rules = suite_owner_rules(suite_id=suite_id) if cases else []
    found = {
        case.pk: owner_of(file=case.file, classname=case.classname, name=case.name, rules=rules)
        for case in cases
    }
    return {pk: rule for pk, rule in found.items() if rule is not None}


def rules_by_suite(*, suite_ids: Iterable[int]) -> dict[int, list[OwnerRule]]:
    """The rules of each of these suites that has any, in reading order. One query."""
    by_suite: dict[int, list[OwnerRule]] = {}
    for rule in OwnerRule.objects.filter(suite_id__in=list(suite_ids)).select_related(
        "user", "team"
    ):
        by_suite.setdefault(rule.suite_id, []).append(rule)
    return by_suite


def suites_naming(*, user_id: int, team_ids: set[int]) -> set[int]:
    """The suites with a rule naming this user or one of these teams: no test elsewhere can be
    theirs. One query."""
    named = OwnerRule.objects.filter(Q(user_id=user_id) | Q(team_id__in=team_ids))
    return set(named.values_list("suite_id", flat=True).order_by().distinct())


def owners_by_name(
    *, suite_id: int, tests: Sequence[tuple[str, str, str]]
) -> list[OwnerRule | None]:
    """The owner rule of each (classname, name, file), in the order given; a test asked without
    a file is matched with the file of the suite's test of that classname and name. At most two
    queries."""
    rules = suite_owner_rules(suite_id=suite_id)
    if not rules:
        return [None] * len(tests)
    known: dict[tuple[str, str], str] = {}
    if any(not file for _, _, file in tests):
        rows = TestCase.objects.filter(suite_id=suite_id).order_by("-pk")
        known = {(c, n): f for c, n, f in rows.values_list("classname", "name", "file")}
    return [
        owner_of(
            file=file or known.get((classname, name), ""),
            classname=classname,
            name=name,
            rules=rules,
        )
        for classname, name, file in tests
    ]
