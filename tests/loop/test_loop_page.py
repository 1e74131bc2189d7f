"""The loop page's reads: a fixed number of queries whatever the number of iterations."""

from __future__ import annotations

import pytest
from django.urls import reverse

from runs.models import Loop, LoopIteration, Suite, TestRun
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("iterations", [1, 8])
def test_the_loop_progress_takes_a_fixed_number_of_queries(
    login, viewer, django_assert_max_num_queries, iterations
):
    service = ServiceFactory()
    suite = Suite.objects.create(service=service, name="e2e")
    loop = Loop.objects.create(service=service, suite=suite, max_iterations=10)
    for number in range(1, iterations + 1):
        run = TestRun.objects.create(suite=suite, service=service, status="failed", total=3)
        LoopIteration.objects.create(loop=loop, number=number, run=run, goal_met=False)
    client = login(viewer)

    with django_assert_max_num_queries(6):
        response = client.get(reverse("loop-progress", args=[loop.pk]))

    assert response.status_code == 200
    assert response.content.decode().count("data-iteration=") == iterations


def test_an_unknown_loop_is_404(login, viewer):
    assert login(viewer).get(reverse("loop-detail", args=[999])).status_code == 404
