"""Every page needs a login; only Operators see and use Deploy and test; CSRF is enforced."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from runs.models import Deploy, TestRun
from tests.factories import ServiceFactory, SuiteFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def service():
    suite = SuiteFactory(service=ServiceFactory(name="chat"))
    return suite.service


def test_groups_exist_with_their_permissions():
    perms = {
        g.name: set(g.permissions.values_list("codename", flat=True)) for g in Group.objects.all()
    }

    assert "trigger_deploy" in perms["Operator"]
    assert "write_analysis" in perms["Operator"]
    assert "export_report" in perms["Manager"]
    assert not {"trigger_deploy", "write_analysis", "export_report"} & perms["Viewer"]
    assert "view_testrun" in perms["Viewer"]


@pytest.mark.parametrize("url", ["/", "/services/chat/", "/worker-status"])
def test_every_page_needs_a_login(client, service, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_health_endpoint_needs_no_login(client):
    assert client.get("/healthz").status_code == 200


def test_viewer_does_not_see_the_deploy_button(login, viewer, service):
    page = login(viewer).get("/").content.decode()

    assert "chat" in page
    assert "Deploy and test" not in page


def test_operator_sees_the_deploy_button(login, operator, service):
    page = login(operator).get("/").content.decode()

    assert "Deploy and test" in page


def test_a_forged_post_by_a_viewer_is_forbidden_and_writes_nothing(login, viewer, service):
    response = login(viewer).post(reverse("deploy-and-test", args=["chat"]))

    assert response.status_code == 403
    assert not Deploy.objects.exists()


def test_operator_post_creates_deploy_and_run_together(login, operator, service):
    response = login(operator).post(reverse("deploy-and-test", args=["chat"]))

    deploy = Deploy.objects.get()
    assert response.status_code == 302
    assert response["Location"] == deploy.get_absolute_url()
    assert deploy.requested_by == operator
    assert TestRun.objects.get().deploy == deploy


def test_a_post_without_csrf_token_is_refused(csrf_client, operator, service):
    csrf_client.force_login(operator)  # django-axes needs the request that login() lacks

    response = csrf_client.post(reverse("deploy-and-test", args=["chat"]))

    assert response.status_code == 403
    assert not Deploy.objects.exists()


def test_a_second_click_while_deploying_links_to_the_active_deploy(login, operator, service):
    client = login(operator)
    client.post(reverse("deploy-and-test", args=["chat"]))

    response = client.post(reverse("deploy-and-test", args=["chat"]), follow=True)

    active = Deploy.objects.get()
    assert response.redirect_chain[-1][0] == active.get_absolute_url()
    assert f"already in progress (deploy #{active.pk})" in response.content.decode()
