"""The suite tree: tests grouped by file and class or by package, each node with exact figures
over the suite's recent runs; the page and its branches make as many queries at any size."""

from __future__ import annotations

import pytest
from django.urls import reverse

from runs.selectors import flaky, suite_tree
from tests.factories import CaseFactory
from tests.pages.conftest import build_history, make_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree_suite(suite, at):
    """Three runs of five tests: test_bad starts failing in run 2 (a flip: flaky), test_ok passes
    on a retry in run 3 (flaky), testCharge is skipped once."""

    def case(name, file, classname):
        return CaseFactory(
            suite=suite, key=f"{classname or file}::{name}", file=file, classname=classname
        )

    ok = case("test_ok", "tests/auth/test_login.py", "tests.auth.test_login.TestLogin")
    bad = case("test_bad", "tests/auth/test_login.py", "tests.auth.test_login.TestLogin")
    out = case("test_out", "tests/auth/test_logout.py", "tests.auth.test_logout")
    users = case("test_list", "tests/api/test_users.py", "tests.api.test_users.TestUsers")
    charge = case("testCharge", "", "com.acme.BillingTest")
    durations = {ok: 1.0, bad: 2.0, out: 1.0, users: 4.0, charge: 3.0}
    for n, (bad_outcome, charge_outcome) in enumerate(
        [("passed", "skipped"), ("failed", "passed"), ("failed", "passed")]
    ):
        make_run(
            suite,
            {
                ok: "passed",
                bad: bad_outcome,
                out: "passed",
                users: "passed",
                charge: charge_outcome,
            },
            at=at(n),
            durations=durations,
            flaky=(ok,) if n == 2 else (),
        )
    return suite


def figures(node) -> tuple:
    return (node.tests, node.passed, node.counted, node.flaky, node.failing, node.duration)


def test_the_suites_view_groups_by_file_path_then_class(tree_suite):
    root = suite_tree.suite_tree(suite_id=tree_suite.pk, view="suites").root

    tests = root.children["d:tests"]
    auth = tests.children["d:auth"]
    login_class = auth.children["f:test_login.py"].children["c:TestLogin"]
    assert figures(root) == (5, 12, 14, 2, 1, 11.0)
    assert figures(tests) == (4, 10, 12, 2, 1, 8.0)
    assert figures(auth) == (3, 7, 9, 2, 1, 4.0)
    assert figures(login_class) == (2, 4, 6, 2, 1, 3.0)
    assert login_class.pass_rate == pytest.approx(4 / 6)
    # a module-level test sits under its file: no class named like the module
    assert list(auth.children["f:test_logout.py"].children) == [f"t:{_id(tree_suite, 'test_out')}"]
    # no file: the classname is the group
    assert figures(root.children["c:com.acme.BillingTest"]) == (1, 2, 2, 0, 0, 3.0)


def test_the_packages_view_groups_by_dotted_classname(tree_suite):
    root = suite_tree.suite_tree(suite_id=tree_suite.pk, view="packages").root

    assert [n.key for n in root.shown] == ["p:tests", "p:com"]  # failing first
    acme = root.children["p:com"].children["p:acme"]
    assert figures(acme.children["c:BillingTest"]) == (1, 2, 2, 0, 0, 3.0)
    auth = root.children["p:tests"].children["p:auth"]
    assert figures(auth.children["p:test_login"].children["c:TestLogin"]) == (2, 4, 6, 2, 1, 3.0)
    assert figures(auth.children["c:test_logout"]) == (1, 3, 3, 0, 0, 1.0)


def test_it_lists_failing_then_flaky_nodes_first_and_opens_failing_top_level_ones(tree_suite):
    root = suite_tree.suite_tree(suite_id=tree_suite.pk, view="suites").root

    login_class = root.children["d:tests"].children["d:auth"].children["f:test_login.py"]
    leaves = login_class.children["c:TestLogin"].shown
    assert [leaf.label for leaf in leaves] == ["test_bad", "test_ok"]
    assert [n.label for n in root.shown] == ["tests", "com.acme.BillingTest"]
    assert root.children["d:tests"].open
    assert not root.children["d:tests"].children["d:auth"].open  # only top-level groups open
    assert not root.children["c:com.acme.BillingTest"].open


def _id(suite, name: str) -> int:
    return suite.cases.get(name=name).pk


def shown_nodes(node) -> list:
    """The nodes rendered under a laid out `node`, depth first."""
    found = []
    for child in node.shown:
        found.append(child)
        if child.inline:
            found.extend(shown_nodes(child))
    return found


def wide_suite(suite, at, *, tests: int) -> None:
    """`tests` tests over 5 directories, 7 files each and 3 classes per file, in two runs."""
    cases = [
        CaseFactory(
            suite=suite,
            key=f"t{i}",
            name=f"test_{i:04d}",
            file=f"tests/pkg{i % 5}/test_mod{i % 7}.py",
            classname=f"tests.pkg{i % 5}.test_mod{i % 7}.TestC{i % 3}",
        )
        for i in range(tests)
    ]
    make_run(suite, dict.fromkeys(cases, "passed"), at=at(1))
    make_run(
        suite, {c: "failed" if i % 11 == 0 else "passed" for i, c in enumerate(cases)}, at=at(2)
    )


def test_a_big_tree_renders_its_top_levels_and_loads_deeper_branches_when_opened(
    login, viewer, suite, at
):
    wide_suite(suite, at, tests=400)
    client = login(viewer)
    tree = suite_tree.suite_tree(suite_id=suite.pk, view="suites")
    lazy = next(n for n in shown_nodes(tree.root) if not n.inline and not n.is_leaf)

    page = client.get(reverse("suite-detail", args=[suite.pk])).content.decode()
    branch = client.get(
        reverse("suite-tree-branch", args=[suite.pk]), {"tree": "suites", "path": list(lazy.path)}
    )

    assert 'hx-trigger="toggle once"' in page
    assert page.count('class="tree-node') < 250  # not 400 leaves and their groups
    assert branch.status_code == 200
    suite_tree.layout(lazy)
    leaves = [n for n in shown_nodes(lazy) if n.is_leaf]
    body = branch.content.decode()
    for leaf in leaves:
        assert reverse("test-detail", args=[leaf.case_id]) in body


@pytest.mark.parametrize(
    ("query", "sentence"),
    [
        ({"tree": "flat"}, "“flat” is not a view of the suite tree"),
        ({"tree": "suites", "path": ["d:nowhere"]}, "That branch is not in the tree of this suite"),
        ({"tree": "suites"}, "That branch is not in the tree of this suite"),
    ],
)
def test_a_bad_tree_view_or_branch_is_refused_with_a_sentence(
    login, viewer, tree_suite, query, sentence
):
    client = login(viewer)

    branch = client.get(reverse("suite-tree-branch", args=[tree_suite.pk]), query)

    assert branch.status_code == 400
    assert sentence in branch.content.decode()
    if "path" not in query:
        page = client.get(reverse("suite-detail", args=[tree_suite.pk]), {"tree": "flat"})
        assert page.status_code == 400


def test_the_suite_page_shows_the_tree_with_figures_and_links_to_tests(login, viewer, tree_suite):
    page = login(viewer).get(reverse("suite-detail", args=[tree_suite.pk])).content.decode()

    assert 'id="suite-tree"' in page
    assert reverse("test-detail", args=[_id(tree_suite, "test_bad")]) in page
    assert "5 tests" in page
    assert "1 failing" in page and "2 flaky" in page


@pytest.mark.parametrize("tests", [12, 600])
def test_the_tree_makes_as_many_queries_at_any_size(
    login, viewer, suite, at, django_assert_max_num_queries, tests
):
    wide_suite(suite, at, tests=tests)
    client = login(viewer)
    tree = suite_tree.suite_tree(suite_id=suite.pk, view="packages")
    branch = tree.root.shown[0].shown[0]

    with django_assert_max_num_queries(26):
        page = client.get(reverse("suite-detail", args=[suite.pk]), {"tree": "packages"})
        assert page.status_code == 200
    with django_assert_max_num_queries(6):
        response = client.get(
            reverse("suite-tree-branch", args=[suite.pk]),
            {"tree": "packages", "path": list(branch.path)},
        )
        assert response.status_code == 200


def test_its_flaky_tests_are_the_flaky_cards(db):
    h = build_history(runs=9, tests=6)  # test 0 flips within revisions, test 1 broke: no flips
    suite = h["suite"]
    listed, _ = flaky.flaky_cases(suite_id=suite.pk, limit=100)

    root = suite_tree.suite_tree(suite_id=suite.pk, view="suites").root
    leaves = [n for n in shown_nodes(root) if n.is_leaf]

    assert {n.case_id for n in leaves if n.flaky} == {f.case_id for f in listed} != set()
