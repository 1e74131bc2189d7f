"""The analyses models left runs for their own app: the migrations move them without touching a row.

Forwards and backwards on a database holding the demo data, its analyses, whys, action items,
the roles' permissions on them and an admin log entry.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.state import StateApps

from analyses.models import ActionItem, Analysis
from analyses.services.analyze import run_analyze_execute
from runs.models import TestRun
from runs.roles import OPERATOR, VIEWER
from runs.services.roles import roles_ensure

pytestmark = pytest.mark.django_db(transaction=True)

# The state before the move: the models in runs, no analyses app yet.
BEFORE = [("runs", "0012_merge_action_links_and_demo_flag"), ("analyses", None)]
TABLES = (
    "runs_analysis",
    "runs_why",
    "runs_actionitem",
    "runs_analysisevent",
    "runs_analysis_cases",
)
MODELS = ("analysis", "why", "actionitem", "analysisevent")


def _migrate(targets) -> StateApps:
    """Migrate to the targets; return the models as the migrated database has them."""
    MigrationExecutor(connection).migrate(targets)
    ContentType.objects.clear_cache()
    loader = MigrationExecutor(connection).loader
    return loader.project_state(list(loader.applied_migrations)).apps


def _latest() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.fixture
def back_to_latest():
    """Whatever happens in the test, leave the database fully migrated for the next one."""
    yield
    _migrate(_latest())


def _rows(like: dict[str, list[dict]] | None = None) -> dict[str, list[dict]]:
    """Every row of the moved tables, as the database holds it; with ``like``, only the columns
    those rows have (a later migration may add a column: the move must keep what was there)."""
    with connection.cursor() as cursor:
        rows = {}
        for table in TABLES:
            cursor.execute(f"SELECT * FROM {table} ORDER BY id")  # noqa: S608 (fixed names)
            names = [column[0] for column in cursor.description]
            rows[table] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    if like is None:
        return rows
    return {
        table: [
            {name: row[name] for name in (like[table][0] if like[table] else row)} for row in found
        ]
        for table, found in rows.items()
    }


def _content_types() -> dict[str, tuple[int, str]]:
    """model -> (content type id, app label) of the moved models."""
    return {
        model: (pk, app_label)
        for pk, app_label, model in ContentType.objects.filter(model__in=MODELS).values_list(
            "pk", "app_label", "model"
        )
    }


def _group_permissions() -> set[tuple[str, int, str]]:
    """(group, permission id, codename) of every permission a group holds on the moved models."""
    from django.contrib.auth.models import Group

    return set(
        Group.objects.filter(permissions__content_type__model__in=MODELS).values_list(
            "name", "permissions__pk", "permissions__codename"
        )
    )


def _seed_in_runs(apps) -> int:
    """One analysis written through the models as runs had them, with whys, action items, an
    event, a linked test, a group holding its permissions and an admin log entry."""
    Analysis = apps.get_model("runs", "Analysis")
    TestResult = apps.get_model("runs", "TestResult")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    ContentTypeThen = apps.get_model("contenttypes", "ContentType")
    LogEntry = apps.get_model("admin", "LogEntry")
    User = apps.get_model("auth", "User")

    failed = TestResult.objects.filter(outcome="failed").select_related("run").first()
    owner = User.objects.create(username="rita-reviewer")
    analysis = Analysis.objects.create(
        service_id=failed.run.service_id,
        run_id=failed.run_id,
        title="Checkout times out",
        problem="The cart page answers 504.",
        root_causes=["proxy idle timeout"],
        status="done",
        created_by=owner,
    )
    analysis.cases.add(failed.case_id)
    for position, question in enumerate(["Why 504?", "Why slow?"], start=1):
        analysis.whys.create(position=position, question=question, evidence=["/runs/1/"])
    analysis.action_items.create(what="Raise the timeout", owner=owner, link="abc1234")
    analysis.action_items.create(what="Alert on 504s", status="done")
    analysis.events.create(who=owner, what="Marked done", details=["Status Draft → Done"])

    reviewers = Group.objects.create(name="Reviewers")
    reviewers.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="runs", codename__in=["write_analysis", "view_why"]
        )
    )
    owner.groups.add(reviewers)
    LogEntry.objects.create(
        user=owner,
        content_type=ContentTypeThen.objects.get(app_label="runs", model="analysis"),
        object_id=str(analysis.pk),
        object_repr=analysis.title,
        action_flag=2,
        change_message="[]",
    )
    return analysis.pk


def test_the_move_keeps_every_row_and_permission_forwards_and_backwards(back_to_latest):
    # given: the demo data, the drafts its analyze step opens, and the roles
    call_command("seed_demo", password="demo-password-for-this-test", stdout=StringIO())
    for run_id in TestRun.objects.filter(status="failed").values_list("pk", flat=True):
        run_analyze_execute(run_id=run_id)
    roles_ensure()
    assert Analysis.objects.count() > 0
    types_after = _content_types()
    assert {app_label for _, app_label in types_after.values()} == {"analyses"}

    # when: back to before the move
    apps_then = _migrate(BEFORE)

    # then: the same rows; the content types (same ids) and the roles' permissions are runs' again
    assert _content_types() == {m: (ct, "runs") for m, (ct, _) in types_after.items()}
    assert {(g, c) for g, _, c in _group_permissions()} >= {
        (VIEWER, "view_analysis"),
        (OPERATOR, "write_analysis"),
    }

    # given: an analysis written while the models were runs'
    pk = _seed_in_runs(apps_then)
    rows, permissions = _rows(), _group_permissions()
    assert len(rows["runs_why"]) >= 2 and len(rows["runs_actionitem"]) >= 2

    # when: forwards
    _migrate(_latest())

    # then: every row is still there, the content types moved app with their ids
    assert _rows(like=rows) == rows
    assert _group_permissions() == permissions
    assert _content_types() == types_after
    analysis = Analysis.objects.get(pk=pk)
    assert [w.question for w in analysis.whys.all()] == ["Why 504?", "Why slow?"]
    assert set(analysis.action_items.values_list("what", flat=True)) == {
        "Raise the timeout",
        "Alert on 504s",
    }
    assert ActionItem.objects.get(what="Raise the timeout").owner.username == "rita-reviewer"
    assert analysis.events.get().details == ["Status Draft → Done"]
    assert analysis.cases.count() == 1
    reviewer = get_user_model().objects.get(username="rita-reviewer")
    assert reviewer.has_perm("analyses.write_analysis")
    assert reviewer.has_perm("analyses.view_why")
    assert not reviewer.has_perm("runs.write_analysis")
    from django.contrib.admin.models import LogEntry

    assert LogEntry.objects.get(object_id=str(pk)).get_edited_object() == analysis

    # when: backwards again
    _migrate(BEFORE)

    # then: the rows are untouched and the content types are runs' once more
    assert _rows(like=rows) == rows
    assert _group_permissions() == permissions
    assert _content_types() == {m: (ct, "runs") for m, (ct, _) in types_after.items()}
