"""Who owns what an analysis is about: the owners of its tests, by their suites' owner rules (the
last matching rule wins, as on the test page)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from analyses.models import ActionItem, Analysis
from runs.models import OwnerRule, TestCase
from runs.selectors.owners import owner_of, rules_by_suite, suites_naming, user_team_ids

_Link = tuple[int, int, str, str, str]  # analysis id, suite id, file, classname, name


def _links(*, analysis_ids: Iterable[int] | None = None, suite_ids: Iterable[int] | None = None):
    links = Analysis.cases.through.objects.all()
    if analysis_ids is not None:
        links = links.filter(analysis_id__in=list(analysis_ids))
    if suite_ids is not None:
        links = links.filter(testcase__suite_id__in=list(suite_ids))
    return links.values_list(
        "analysis_id",
        "testcase__suite_id",
        "testcase__file",
        "testcase__classname",
        "testcase__name",
    ).order_by("analysis_id", "testcase__key")


def _owners(links: Sequence[_Link]) -> dict[int, list[OwnerRule]]:
    """The distinct owners of each analysis's tests, in the order of its tests. One query."""
    rules = rules_by_suite(suite_ids={suite_id for _, suite_id, *_ in links}) if links else {}
    found: dict[int, list[OwnerRule]] = {}
    for analysis_id, suite_id, file, classname, name in links:
        rule = owner_of(file=file, classname=classname, name=name, rules=rules.get(suite_id, []))
        if rule is not None:
            found.setdefault(analysis_id, []).append(rule)
    return {pk: distinct_owners(owners) for pk, owners in found.items()}


def analysis_owners(*, analysis_ids: Iterable[int]) -> dict[int, list[OwnerRule]]:
    """The owners of the tests of each of these analyses that has an owned test. Two queries."""
    return _owners(list(_links(analysis_ids=analysis_ids)))


def analyses_owned_by(*, user) -> set[int]:
    """The analyses about a test that `user` or one of their teams owns. At most four queries,
    whatever the number of analyses."""
    if not user.is_authenticated:
        return set()
    teams = user_team_ids(user)
    suite_ids = suites_naming(user_id=user.pk, team_ids=teams)
    if not suite_ids:
        return set()
    owners = _owners(list(_links(suite_ids=suite_ids)))
    return {
        pk
        for pk, rules in owners.items()
        if any(rule.user_id == user.pk or rule.team_id in teams for rule in rules)
    }


def analysis_case_owners(*, analysis: Analysis) -> dict[int, OwnerRule]:
    """The owner of each of the analysis's tests that has one, by test id (its cases
    prefetched). One query."""
    cases: list[TestCase] = list(analysis.cases.all())
    rules = rules_by_suite(suite_ids={case.suite_id for case in cases}) if cases else {}
    found = {
        case.pk: owner_of(
            file=case.file,
            classname=case.classname,
            name=case.name,
            rules=rules.get(case.suite_id, []),
        )
        for case in cases
    }
    return {pk: rule for pk, rule in found.items() if rule is not None}


def distinct_owners(rules: Iterable[OwnerRule]) -> list[OwnerRule]:
    """Each owner once (a user or a team can own through several rules), first seen first."""
    seen: dict[tuple[int | None, int | None], OwnerRule] = {}
    for rule in rules:
        seen.setdefault((rule.user_id, rule.team_id), rule)
    return list(seen.values())


def with_test_owners(analyses: Sequence[Analysis]) -> Sequence[Analysis]:
    """Give each analysis `test_owners`: the owners of its tests; a row that stands for a run's
    drafts (with ``run.drafts``) gets the owners of every draft. Two queries."""
    ids = {a.pk for a in analyses}
    for a in analyses:
        ids.update(d.pk for d in _drafts_of(a))
    owners = analysis_owners(analysis_ids=ids)
    for a in analyses:
        rules = [rule for member in [a, *_drafts_of(a)] for rule in owners.get(member.pk, [])]
        a.test_owners = distinct_owners(rules)  # type: ignore[attr-defined]
    return analyses


def _drafts_of(analysis: Analysis) -> list[Analysis]:
    if getattr(analysis, "batch_size", 1) > 1 and analysis.run is not None:
        return getattr(analysis.run, "drafts", [])
    return []


def items_with_test_owners(items: Sequence[ActionItem]) -> Sequence[ActionItem]:
    """Give each action item `test_owners`: the owners of its analysis's tests. Two queries."""
    owners = analysis_owners(analysis_ids={item.analysis_id for item in items})
    for item in items:
        item.test_owners = owners.get(item.analysis_id, [])  # type: ignore[attr-defined]
    return items
