"""The suite tree: a suite's tests grouped by file path and class ("suites") or by classname
package ("packages"), each node with its tests' pass rate, flaky and failing counts and duration
over the suite's last FLAKY_WINDOW finished runs.

The page reads the tree from its rollup (runs.models.SuiteTreeNode, rebuilt after each run by
runs.services.suite_tree_rollup): the root, then the children of the branches it renders, one
query per level of the tree it shows, so its cost does not grow with the suite. A suite without a
rollup yet (before `manage.py flaky_rebuild` after the upgrade) is computed as the rollup is: its
figures aggregated per test in one SQL query over the window and the tree built in Python.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Case, F, JSONField, When, Window
from django.db.models.functions import Lower, RowNumber

from runs.models import SuiteTreeNode, TestCase, TestResult, TestRun
from runs.selectors import flaky

VIEWS = ("suites", "packages")
# Nodes whose children the page renders at once; deeper branches load when opened.
INLINE_NODES = 200
# Children shown under one node (failing and flaky first); the rest are counted, not listed.
MAX_CHILDREN = 500

# Per test over the window: counted results, passes, failures, time, failing in the latest run,
# and flakiness as runs.selectors.flaky defines it (flips between consecutive runs of the same
# revision, or passes on a retry). Only tests with both passes and failures can flip, so the
# ordered scan that finds flips reads just those: a stable suite of 20,000 tests sorts few rows.
_PER_TEST = """
WITH agg AS (
    SELECT res.case_id,
           SUM(CASE WHEN res.outcome = 'passed' THEN 1 ELSE 0 END) AS passed,
           SUM(CASE WHEN res.outcome <> 'skipped' THEN 1 ELSE 0 END) AS counted,
           SUM(CASE WHEN res.outcome <> 'skipped' THEN res.duration ELSE 0 END) AS duration,
           MAX(CASE WHEN res.run_id = %s AND res.outcome IN ('failed', 'error')
                    THEN 1 ELSE 0 END) AS failing,
           SUM(CASE WHEN res.flaky AND res.outcome <> 'skipped' THEN 1 ELSE 0 END) AS retries
    FROM {result} res WHERE res.run_id IN ({run_ids}) GROUP BY res.case_id
),
seq AS (
    SELECT res.case_id,
           COALESCE(rr.revision_id, 0) * 2
               + CASE WHEN res.outcome = 'passed' THEN 1 ELSE 0 END AS state,
           LAG(COALESCE(rr.revision_id, 0) * 2
               + CASE WHEN res.outcome = 'passed' THEN 1 ELSE 0 END)
               OVER (PARTITION BY res.case_id ORDER BY res.run_id) AS prev_state
    FROM {result} res JOIN {run} rr ON rr.id = res.run_id
    WHERE res.run_id IN ({run_ids}) AND res.outcome <> 'skipped'
      AND res.case_id IN (SELECT case_id FROM agg WHERE passed > 0 AND passed < counted)
),
flips AS (
    SELECT case_id,
           SUM(CASE WHEN prev_state = state + 1 - 2 * (state %% 2) THEN 1 ELSE 0 END) AS flips
    FROM seq GROUP BY case_id
)
SELECT a.case_id, c.name, c.key, c.file, c.classname, a.passed, a.counted, a.duration,
       a.failing, a.retries + COALESCE(f.flips, 0)
FROM agg a JOIN {case} c ON c.id = a.case_id LEFT JOIN flips f ON f.case_id = a.case_id
"""


@dataclass(frozen=True)
class TestFigures:
    """One test's figures over the window."""

    __test__ = False

    case_id: int
    name: str
    key: str
    file: str
    classname: str
    passed: int
    counted: int
    duration: float
    failing: bool
    flaky: bool


@dataclass
class Node:
    """A branch (directory, file, class, package) or a leaf (one test) of the tree."""

    key: str  # unique among its siblings: kind initial + ":" + label, or "t:<case id>"
    label: str
    kind: str  # "dir", "file", "class", "package" or "test"
    path: tuple[str, ...] = ()
    case_id: int | None = None
    tests: int = 0
    passed: int = 0
    counted: int = 0
    flaky: int = 0
    failing: int = 0
    duration: float = 0.0  # sum of its tests' mean durations: the time it takes per run
    children: dict[str, Node] = field(default_factory=dict)
    # Set by `layout`: whether the page renders the children now, and which ones.
    inline: bool = False
    shown: list[Node] = field(default_factory=list)
    # Read from the rollup: how many children it has (`children` holds the loaded ones only).
    size: int | None = None
    suite_id: int | None = None
    view: str = ""
    leaf_rows: list | None = None  # its direct tests' figures, when read with the row

    @property
    def is_leaf(self) -> bool:
        return self.case_id is not None

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.counted if self.counted else None

    @property
    def hidden(self) -> int:
        return self.child_count - len(self.shown)

    @property
    def child_count(self) -> int:
        return len(self.children) if self.size is None else self.size

    @property
    def from_rollup(self) -> bool:
        return self.suite_id is not None

    @property
    def open(self) -> bool:
        """Opened by default: a top-level branch rendered now with a test failing in the latest
        run (deeper ones stay closed, or a suite failing everywhere would open everything)."""
        return self.inline and self.failing > 0 and len(self.path) == 1

    def add(self, figures: TestFigures, mean: float) -> None:
        self.tests += 1
        self.passed += figures.passed
        self.counted += figures.counted
        self.flaky += figures.flaky
        self.failing += figures.failing
        self.duration += mean


@dataclass
class Tree:
    root: Node
    view: str
    window: int  # runs the figures cover

    def find(self, path: list[str]) -> Node | None:
        node = self.root
        for key in path:
            node = node.children.get(key)  # type: ignore[assignment]
            if node is None:
                return None
        return node


def tree_figures(*, suite_id: int) -> tuple[list[TestFigures], list[int]]:
    """Every test seen in the suite's last FLAKY_WINDOW finished runs with its figures, and the
    ids of those runs (newest first). Two queries."""
    run_ids = flaky.recent_run_ids(suite_id=suite_id)
    if not run_ids:
        return [], []
    sql = _PER_TEST.format(
        result=TestResult._meta.db_table,
        run=TestRun._meta.db_table,
        case=TestCase._meta.db_table,
        run_ids=", ".join(["%s"] * len(run_ids)),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [run_ids[0], *run_ids, *run_ids])
        rows = cursor.fetchall()
    return [
        TestFigures(
            case_id=row[0],
            name=row[1],
            key=row[2],
            file=row[3],
            classname=row[4],
            passed=row[5],
            counted=row[6],
            duration=float(row[7] or 0),
            failing=bool(row[8]),
            flaky=row[9] > 0,
        )
        for row in rows
    ], run_ids


def _path_segments(path: str, last_kind: str) -> list[tuple[str, str]]:
    parts = [p for p in path.replace("\\", "/").split("/") if p]
    return [("dir", p) for p in parts[:-1]] + [(last_kind, parts[-1])] if parts else []


def _scope(test: TestFigures) -> str:
    """The part of the key before its last "::": the file or class the importer saw."""
    return test.key.rsplit("::", 1)[0] if "::" in test.key else ""


def _suites_branch(test: TestFigures) -> list[tuple[str, str]]:
    """File path segments then the class, as Allure's Suites view. Without a file, the key's
    scope stands for it; a class named like the file's module is not repeated."""
    file = test.file or (_scope(test) if "/" in _scope(test) else "")
    classname = test.classname or ("" if file else _scope(test))
    segments = _path_segments(file, "file")
    if classname:
        module = file.rsplit(".", 1)[0].replace("/", ".") if file else ""
        if module and classname.startswith(module + "."):
            classname = classname[len(module) + 1 :]
        if classname != module:
            segments.append(("class", classname))
    return segments


def _packages_branch(test: TestFigures) -> list[tuple[str, str]]:
    """Classname packages (dotted) ending with the class, as Allure's Packages view; without a
    classname, the file's directories stand for packages."""
    if test.classname:
        parts = [p for p in test.classname.split(".") if p]
        return [("package", p) for p in parts[:-1]] + [("class", parts[-1])] if parts else []
    return [
        ("package" if kind == "dir" else kind, label)
        for kind, label in _path_segments(test.file or _scope(test), "file")
    ]


def _order(node: Node) -> tuple:
    """Failing first, then flaky, then by name."""
    return (-node.failing, -node.flaky, node.is_leaf, node.label.lower(), node.key)


def build_tree(tests: list[TestFigures], *, view: str) -> Node:
    """The tree of `tests` in `view` ("suites" or "packages"), with each node's figures summed
    over the tests under it."""
    branch = _suites_branch if view == "suites" else _packages_branch
    root = Node(key="", label="", kind="root")
    parents: dict[tuple[str, str, str], Node] = {}  # tests of one file and class share a branch
    for test in tests:
        where = (test.file, test.classname, "" if test.file else _scope(test))
        node = parents.get(where)
        if node is None:
            node = root
            for kind, label in branch(test):
                key = f"{kind[0]}:{label}"
                child = node.children.get(key)
                if child is None:
                    child = node.children[key] = Node(key=key, label=label, kind=kind)
                    child.path = (*node.path, key)
                node = child
            parents[where] = node
        leaf = Node(key=f"t:{test.case_id}", label=test.name, kind="test", case_id=test.case_id)
        leaf.path = (*node.path, leaf.key)
        leaf.add(test, test.duration / test.counted if test.counted else 0.0)
        node.children[leaf.key] = leaf
    _sum(root)
    return root


def _sum(node: Node) -> None:
    """Each branch's figures: the sums of its children's (post-order)."""
    for child in node.children.values():
        if not child.is_leaf:
            _sum(child)
        node.tests += child.tests
        node.passed += child.passed
        node.counted += child.counted
        node.flaky += child.flaky
        node.failing += child.failing
        node.duration += child.duration


def layout(node: Node, *, budget: int = INLINE_NODES) -> None:
    """Choose what to render under `node`: its children (sorted, at most MAX_CHILDREN), and,
    breadth first, the children of their branches while fewer than `budget` nodes are shown.
    Branches left out load when opened."""
    if node.from_rollup:
        _rollup_layout(node, budget=budget)
        return
    queue: deque[Node] = deque([node])
    shown = 0
    while queue:
        current = queue.popleft()
        children = sorted(current.children.values(), key=_order)[:MAX_CHILDREN]
        if current is not node and shown + len(children) > budget:
            continue
        current.inline, current.shown = True, children
        shown += len(children)
        queue.extend(c for c in children if not c.is_leaf)


def _rollup_layout(node: Node, *, budget: int) -> None:
    """`layout` over the rollup: the same choice, made level by level from the children counts
    the rows carry, with one query per level for the children of the branches rendered."""
    _children_load([node])
    node.inline = True
    shown = len(node.shown)
    level = [c for c in node.shown if not c.is_leaf]
    while level:
        opened = []
        for current in level:
            count = min(current.child_count, MAX_CHILDREN)
            if shown + count > budget:
                continue
            current.inline = True
            shown += count
            opened.append(current)
        _children_load(opened)
        level = [c for current in opened for c in current.shown if not c.is_leaf]


def _node(row: SuiteTreeNode, *, leaves: list | None) -> Node:
    keys = tuple(row.path.split(SuiteTreeNode.PATH_SEP)) if row.path else ()
    return Node(
        key=row.key,
        label=row.label,
        kind=row.kind,
        path=keys,
        tests=row.tests,
        passed=row.passed,
        counted=row.counted,
        flaky=row.flaky,
        failing=row.failing,
        duration=row.duration,
        size=row.size,
        suite_id=row.suite_id,
        view=row.view,
        leaf_rows=leaves,
    )


def _children_load(parents: list[Node]) -> None:
    """Each parent's children, sorted and at most MAX_CHILDREN, into `children` and `shown`:
    its branches (the first MAX_CHILDREN of each parent, in one query, skipped when none has
    branches) and its leaves (from the parent's row). Rows come with their leaves when they have
    few enough children to be rendered with the page, so a level costs one query."""
    if not parents:
        return
    first = parents[0]
    assert first.suite_id is not None
    sep = SuiteTreeNode.PATH_SEP
    nodes = SuiteTreeNode.objects.filter(suite_id=first.suite_id, view=first.view)
    by_path = {sep.join(p.path): p for p in parents}
    unread = [path for path, p in by_path.items() if p.leaf_rows is None]
    if unread:
        for path, leaves in nodes.filter(path__in=unread).values_list("path", "leaves"):
            by_path[path].leaf_rows = leaves
    with_branches = [path for path, p in by_path.items() if len(p.leaf_rows or []) < p.child_count]
    if with_branches:
        rank = Window(
            RowNumber(),
            partition_by=[F("parent")],
            order_by=[F("failing").desc(), F("flaky").desc(), Lower("label"), F("key")],
        )
        small = Case(
            When(size__lte=INLINE_NODES, then=F("leaves")), default=None, output_field=JSONField()
        )
        rows = (
            nodes.filter(parent__in=with_branches)
            .defer("leaves")
            .annotate(small_leaves=small)
            .alias(rank=rank)
            .filter(rank__lte=MAX_CHILDREN)
        )
        for row in rows:
            # `small_leaves`, annotated: None for a branch too big to render with its parent.
            node = _node(row, leaves=row.__dict__["small_leaves"])
            by_path[row.parent or ""].children[row.key] = node
    for parent in parents:
        for case_id, name, passed, counted, duration, failing, is_flaky in parent.leaf_rows or []:
            leaf = Node(
                key=f"t:{case_id}",
                label=name,
                kind="test",
                path=(*parent.path, f"t:{case_id}"),
                case_id=case_id,
                tests=1,
                passed=passed,
                counted=counted,
                flaky=is_flaky,
                failing=failing,
                duration=duration,
            )
            parent.children[leaf.key] = leaf
        parent.shown = sorted(parent.children.values(), key=_order)[:MAX_CHILDREN]


def _rollup_root(*, suite_id: int, view: str) -> tuple[Node, int] | None:
    row = SuiteTreeNode.objects.filter(suite_id=suite_id, view=view, path="").first()
    return None if row is None else (_node(row, leaves=row.leaves), row.window)


def suite_tree(*, suite_id: int, view: str = "suites") -> Tree:
    """The suite's tree in `view`, laid out from the root: from its rollup, a query for the root
    and one per level rendered; without one, two queries and every test of the suite."""
    found = _rollup_root(suite_id=suite_id, view=view)
    if found is None:
        tests, run_ids = tree_figures(suite_id=suite_id)
        root = build_tree(tests, view=view)
        layout(root)
        return Tree(root=root, view=view, window=len(run_ids))
    root, window = found
    layout(root)
    return Tree(root=root, view=view, window=window)


def suite_tree_branch(*, suite_id: int, view: str, path: list[str]) -> tuple[Tree, Node] | None:
    """The tree (not laid out) and its branch at `path`, laid out; None when there is no such
    branch. From the rollup: two queries and one per level rendered."""
    sep = SuiteTreeNode.PATH_SEP
    rows = {
        row.path: row
        for row in SuiteTreeNode.objects.filter(
            suite_id=suite_id, view=view, path__in=["", sep.join(path)]
        )
    }
    if "" not in rows:  # no rollup yet
        tree = suite_tree(suite_id=suite_id, view=view)
        node = tree.find(path)
        if node is None or node.is_leaf or not path:
            return None
        layout(node)
        return tree, node
    branch = rows.get(sep.join(path))
    if branch is None or not path:
        return None
    node = _node(branch, leaves=branch.leaves)
    layout(node)
    return Tree(root=_node(rows[""], leaves=None), view=view, window=rows[""].window), node
