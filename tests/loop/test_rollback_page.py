"""The revision page's Roll back button, with the Django test client, on the local target: real
processes, and a retired revision started again."""

from __future__ import annotations

import sys

import pytest

from runs.models import Deploy, Revision, Suite
from runs.services.deploys import deploy_and_test_create
from runs.services.pipeline import deploy_and_test_execute
from runs.services.rollback import rollback_execute
from tests.loop.conftest import FAULTY, FIXED, process_alive

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def two_revisions(service) -> tuple[Revision, Revision]:
    """Deploy FAULTY, then FIXED (no suite: only the deploys matter here)."""
    Suite.objects.filter(service=service).delete()
    revisions = []
    for image in (FAULTY, FIXED):
        deploy, _ = deploy_and_test_create(service=service, image=image)
        deploy_and_test_execute(deploy_id=deploy.pk)
        deploy.refresh_from_db()
        assert deploy.status == "succeeded", deploy.error
        revisions.append(deploy.revision)
    for revision in revisions:
        revision.refresh_from_db()
    return revisions[0], revisions[1]


def test_an_operator_rolls_back_from_the_revision_page_and_the_old_revision_serves_again(
    csrf_client, operator, demo_service
):
    old, new = two_revisions(demo_service)
    assert old.status == "retired" and not process_alive(old.target_state["pid"])
    csrf_client.force_login(operator)

    page = csrf_client.get(old.get_absolute_url()).content.decode()
    assert "Roll back to this revision" in page
    assert (
        "Roll back to this revision" not in csrf_client.get(new.get_absolute_url()).content.decode()
    )
    response = csrf_client.post(
        f"/revisions/{old.pk}/rollback",
        {"csrfmiddlewaretoken": csrf_client.cookies["csrftoken"].value},
    )

    rollback = Deploy.objects.get(trigger="rollback")
    assert response.status_code == 302
    assert response["Location"] == rollback.get_absolute_url()
    assert (rollback.revision, rollback.previous_revision) == (old, new)
    assert rollback.requested_by == operator

    rollback_execute(deploy_id=rollback.pk)  # what the worker's task does

    rollback.refresh_from_db()
    assert rollback.status == "succeeded", rollback.error
    assert rollback.traffic_before == [{"revision": new.name, "percent": 100}]
    assert rollback.traffic_after == [{"revision": old.name, "percent": 100}]
    again = Revision.objects.get(pk=old.pk)
    assert (again.status, again.traffic_percent) == ("ready", 100)
    assert again.target_state["pid"] != old.target_state["pid"]  # started again
    assert again.url != old.url and again.url.endswith(str(again.target_state["port"]))
    assert process_alive(again.target_state["pid"])
    new.refresh_from_db()
    assert (new.status, new.traffic_percent) == ("retired", 0)
    assert not process_alive(new.target_state["pid"])
    demo_service.refresh_from_db()
    assert demo_service.current_revision == again
    shown = csrf_client.get(rollback.get_absolute_url()).content.decode()
    assert "Rolled back to" in shown
    assert f"after: {old.name} 100 %" in shown


def test_the_button_needs_the_operator_role_and_a_post_with_csrf(
    csrf_client, client, viewer, operator, demo_service
):
    old, _ = two_revisions(demo_service)
    csrf_client.force_login(viewer)
    assert (
        "Roll back to this revision" not in csrf_client.get(old.get_absolute_url()).content.decode()
    )
    csrf_client.get(old.get_absolute_url())
    refused = csrf_client.post(
        f"/revisions/{old.pk}/rollback",
        {"csrfmiddlewaretoken": csrf_client.cookies["csrftoken"].value},
    )
    assert refused.status_code == 403
    client.force_login(operator)
    assert client.get(f"/revisions/{old.pk}/rollback").status_code == 405
    operator_csrf = type(csrf_client)(enforce_csrf_checks=True)
    operator_csrf.force_login(operator)
    assert operator_csrf.post(f"/revisions/{old.pk}/rollback").status_code == 403  # no token
    assert Deploy.objects.filter(trigger="rollback").count() == 0


def test_a_second_rollback_while_one_is_queued_goes_to_the_active_deploy(
    login, operator, demo_service
):
    old, _ = two_revisions(demo_service)
    client = login(operator)

    first = client.post(f"/revisions/{old.pk}/rollback")
    second = client.post(f"/revisions/{old.pk}/rollback", follow=True)

    rollback = Deploy.objects.get(trigger="rollback")
    assert first["Location"] == rollback.get_absolute_url()
    assert second.redirect_chain[-1][0] == rollback.get_absolute_url()
    assert f"already in progress (deploy #{rollback.pk})" in second.content.decode()
    page = client.get(old.get_absolute_url()).content.decode()
    assert 'id="rollback-busy"' in page
    Deploy.objects.filter(pk=rollback.pk).update(status="cancelled")


def test_a_local_rollback_whose_restart_fails_says_so_and_traffic_stays_where_it_is(
    login, operator, demo_service
):
    old, new = two_revisions(demo_service)
    config = {**demo_service.target_config}
    config["command"] = [sys.executable, "-c", "print('cannot bind'); raise SystemExit(3)"]
    type(demo_service).objects.filter(pk=demo_service.pk).update(target_config=config)
    login(operator).post(f"/revisions/{old.pk}/rollback")
    rollback = Deploy.objects.get(trigger="rollback")

    rollback_execute(deploy_id=rollback.pk)

    rollback.refresh_from_db()
    assert rollback.status == "failed"
    assert rollback.error.startswith(f"rollback to {old.name} failed: ")
    assert "cannot bind" in rollback.error
    assert rollback.error.endswith(f"the target reports traffic {new.name} (100 %)")
    assert rollback.traffic_after == [{"revision": new.name, "percent": 100}]
    demo_service.refresh_from_db()
    assert demo_service.current_revision == new
    assert process_alive(new.target_state["pid"])
    old.refresh_from_db()
    assert (old.status, old.traffic_percent) == ("retired", 0)
