"""The suite tree's rollup: the page reads it instead of the results, the run's post-import task
rebuilds it, and a suite without one is still shown from its results."""

from __future__ import annotations

import pytest
from django.urls import reverse

from analyses.tasks import run_analyze
from runs.models import SuiteTreeNode, TestResult
from runs.selectors import suite_tree
from runs.services.suite_tree_rollup import suite_tree_rebuild
from tests.pages import test_suite_tree
from tests.pages.test_suite_tree import figures, shown_nodes, wide_suite

pytestmark = pytest.mark.django_db

tree_suite = test_suite_tree.tree_suite  # three runs of five tests, figures known


def _figures_by_path(root) -> dict:
    return {node.path: figures(node) for node in shown_nodes(root)}


def test_the_page_reads_the_tree_from_its_rollup_not_from_the_results(login, viewer, tree_suite):
    # given a suite whose rollup was built after its runs, and whose results are then gone
    TestResult.objects.filter(run__suite=tree_suite).delete()

    # when the page is shown
    page = login(viewer).get(reverse("suite-detail", args=[tree_suite.pk])).content.decode()

    # then the tree still has its figures
    assert "5 tests" in page
    assert "1 failing" in page and "2 flaky" in page


@pytest.mark.parametrize("view", suite_tree.VIEWS)
def test_a_suite_without_a_rollup_shows_the_same_tree_from_its_results(tree_suite, view):
    from_rollup = suite_tree.suite_tree(suite_id=tree_suite.pk, view=view)
    SuiteTreeNode.objects.filter(suite=tree_suite).delete()

    from_results = suite_tree.suite_tree(suite_id=tree_suite.pk, view=view)

    assert _figures_by_path(from_results.root) == _figures_by_path(from_rollup.root) != {}
    assert figures(from_results.root) == figures(from_rollup.root)
    assert from_results.window == from_rollup.window == 3


def test_the_post_import_task_rebuilds_the_rollup_of_the_runs_suite(tree_suite):
    SuiteTreeNode.objects.filter(suite=tree_suite).delete()
    latest = tree_suite.runs.order_by("-pk").first()

    run_analyze(latest.pk)

    root = suite_tree.suite_tree(suite_id=tree_suite.pk, view="suites").root
    assert SuiteTreeNode.objects.filter(suite=tree_suite, path="").count() == 2  # both views
    assert (root.tests, root.failing, root.flaky) == (5, 1, 2)


def test_a_rebuild_for_a_window_that_moved_on_writes_nothing(tree_suite, monkeypatch):
    # given a rebuild whose figures were read before another run finished
    from runs.services import suite_tree_rollup

    real = suite_tree_rollup.tree_figures

    def stale(*, suite_id):
        tests, run_ids = real(suite_id=suite_id)
        return tests, run_ids[1:]

    monkeypatch.setattr(suite_tree_rollup, "tree_figures", stale)
    before = list(SuiteTreeNode.objects.filter(suite=tree_suite).values_list("pk", flat=True))

    # when it comes to write, then it leaves the newer rollup alone
    assert suite_tree_rebuild(suite_id=tree_suite.pk) is False
    assert list(SuiteTreeNode.objects.filter(suite=tree_suite).values_list("pk", flat=True)) == (
        before
    )


@pytest.mark.parametrize("tests", [300, 1200])
def test_opening_a_branch_of_the_rollup_makes_as_many_queries_at_any_size(
    login, viewer, suite, at, django_assert_max_num_queries, tests
):
    # given suites of 300 and 1,200 tests (5 directories, 7 files each, 3 classes per file)
    wide_suite(suite, at, tests=tests)
    client = login(viewer)
    tree = suite_tree.suite_tree(suite_id=suite.pk, view="suites")
    closed = next(n for n in shown_nodes(tree.root) if not n.inline and not n.is_leaf)

    # when the page is shown and a closed branch opened, then the query counts are the same
    with django_assert_max_num_queries(26):
        assert client.get(reverse("suite-detail", args=[suite.pk])).status_code == 200
    with django_assert_max_num_queries(6):
        branch = client.get(
            reverse("suite-tree-branch", args=[suite.pk]),
            {"tree": "suites", "path": list(closed.path)},
        )
    assert branch.status_code == 200
    assert 'class="tree-node' in branch.content.decode()
