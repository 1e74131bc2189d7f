"""The suite tree's rollup (runs.models.SuiteTreeNode), rebuilt whole for a suite after each of
its runs, so that the suite page reads the branches it shows instead of aggregating every test.

A rebuild costs one aggregation of the suite's window of runs (runs.selectors.suite_tree) and a
write of its branches: it grows with the suite (about a minute for 200,000 tests on a loaded
machine), so it runs after the import commits, in the run's post-import task, not in the import's
transaction; the page shows the previous window until it is done, and says how many runs its
figures cover. It also keeps the page's slowest and most failing tests of the suite's last
runs (runs.SuiteRecentTables).
"""

from __future__ import annotations

from django.db import transaction

from runs.models import Suite, SuiteRecentTables, SuiteTreeNode, TestRun
from runs.selectors import suites as suite_selectors
from runs.selectors.flaky import recent_run_ids
from runs.selectors.suite_tree import VIEWS, Node, build_tree, tree_figures

_BATCH = 2000


def _rows(root: Node, *, suite_id: int, view: str, window: int) -> list[SuiteTreeNode]:
    sep = SuiteTreeNode.PATH_SEP
    rows: list[SuiteTreeNode] = []
    stack = [root]
    while stack:
        node = stack.pop()
        branches = [c for c in node.children.values() if not c.is_leaf]
        leaves = [
            [c.case_id, c.label, c.passed, c.counted, c.duration, c.failing, c.flaky]
            for c in node.children.values()
            if c.is_leaf
        ]
        rows.append(
            SuiteTreeNode(
                suite_id=suite_id,
                view=view,
                path=sep.join(node.path),
                parent=sep.join(node.path[:-1]) if node.path else None,
                key=node.key,
                label=node.label,
                kind=node.kind,
                tests=node.tests,
                passed=node.passed,
                counted=node.counted,
                flaky=node.flaky,
                failing=node.failing,
                duration=node.duration,
                size=len(node.children),
                leaves=leaves,
                window=window,
            )
        )
        stack.extend(branches)
    return rows


def suite_tree_rebuild(*, suite_id: int) -> bool:
    """Recompute the suite's tree rollup (both views) from its last FLAKY_WINDOW finished runs.
    Returns False, writing nothing, when another run finished meanwhile (its own rebuild follows,
    and must not be overwritten by this older window)."""
    tests, run_ids = tree_figures(suite_id=suite_id)
    with transaction.atomic():
        # Two rebuilds of one suite write in turns.
        if not Suite.objects.select_for_update().filter(pk=suite_id).exists():
            return False
        if recent_run_ids(suite_id=suite_id) != run_ids:
            return False
        SuiteTreeNode.objects.filter(suite_id=suite_id).delete()
        for view in VIEWS:
            root = build_tree(tests, view=view)
            SuiteTreeNode.objects.bulk_create(
                _rows(root, suite_id=suite_id, view=view, window=len(run_ids)), batch_size=_BATCH
            )
        _recent_tables_store(suite_id=suite_id)
    return True


def _recent_tables_store(*, suite_id: int) -> None:
    """The suite page's slowest and most failing tests over its last finished runs, kept for
    the page (runs.SuiteRecentTables), in the rebuild's transaction."""
    suite = Suite(pk=suite_id)
    recent = suite_selectors.recent_runs(suite=suite)
    SuiteRecentTables.objects.update_or_create(
        suite_id=suite_id,
        defaults={
            "run_ids": recent,
            "slowest": suite_selectors.slowest_tests_in(run_ids=recent),
            "failing": suite_selectors.most_failing_tests_in(run_ids=recent),
        },
    )


def suite_tree_refresh(*, run_id: int) -> None:
    """After a run's results are written and committed (its post-import task): rebuild its
    suite's tree rollup."""
    suite_id = TestRun.objects.filter(pk=run_id).values_list("suite_id", flat=True).first()
    if suite_id is not None:
        suite_tree_rebuild(suite_id=suite_id)
