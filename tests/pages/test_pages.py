"""Every page renders for a Viewer, hides Operator buttons, refuses bad input with a sentence, and
makes the same number of queries whatever the size of the history."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from runs.models import TestRun, TestRunArtifact
from tests.pages.conftest import build_history

pytestmark = pytest.mark.django_db


def page_urls(h: dict) -> dict[str, str]:
    run, previous = h["runs"][-1], h["runs"][-2]
    revision, earlier = h["revisions"][-1], h["revisions"][0]
    return {
        "overview": reverse("overview"),
        "service": reverse("service-detail", args=[h["suite"].service.name]),
        "suite": reverse("suite-detail", args=[h["suite"].pk]),
        "run": reverse("run-detail", args=[run.pk]),
        "run filtered": reverse("run-detail", args=[run.pk]) + "?outcome=failed&q=step",
        "run progress": reverse("run-progress", args=[run.pk]),
        "test": reverse("test-detail", args=[h["cases"][1].pk]),
        "revision": reverse("revision-detail", args=[revision.pk]),
        "compare runs": reverse("compare") + f"?runs={previous.pk},{run.pk}",
        "compare revisions": reverse("compare") + f"?revisions={earlier.pk},{revision.pk}",
    }


# Queries per page, the same for 4 runs x 4 tests and 40 runs x 25 tests: session, user and the
# user's permissions (base.html's nav asks for them) included.
# The overview adds two queries per service for its p95 latency trend (read from rollups), and
# one for the outbox's messages that wait for the broker (two more when there are some).
# The reality check on the suite and run pages takes up to two more once the suite has enough
# runs to judge tests (how long its history is, and the figures behind each flagged test).
MAX_QUERIES = {
    "overview": 21,
    "service": 20,  # + the compare picker's runs and revisions
    "suite": 26,  # + its quarantined tests, quarantine policy, flaky tests' owners, tree (2),
    # its schedule's skipped occurrences
    "run": 21,  # + its failures' owner rules, the counts on its "only" filter links, and up to
    # three keyset reads of its results (failures, passes, skipped) instead of a count and a page,
    # and the comparison's "fixed" tests read from the previous run's failures (its own query)
    "run filtered": 20,  # + the searched tests' ids, read once for every section and count
    "run progress": 3,
    "test": 14,  # + its state, state history, owner rules, the result shown and its attachments
    "revision": 21,  # + its gate verdict, the compared runs' suites (suites run on one side)
    "compare runs": 15,  # + the compare picker's runs and revisions, the compared runs' suites
    # (a suite run on one side only is counted from its run, as on the revision page)
    "compare revisions": 14,
}


@pytest.fixture
def history(db):
    return build_history(runs=7, tests=5)


def test_every_page_renders_for_a_viewer_without_operator_buttons(login, viewer, history):
    client = login(viewer)

    for name, url in page_urls(history).items():
        response = client.get(url)

        assert response.status_code == 200, name
        assert b"deploy-and-test" not in response.content, name


def test_an_operator_sees_deploy_and_test_on_the_overview(login, operator, history):
    response = login(operator).get(reverse("overview"))

    assert b'class="deploy-and-test"' in response.content


def test_pages_state_how_the_pass_rate_is_computed(login, viewer, history):
    client = login(viewer)
    urls = page_urls(history)

    for name in ("overview", "suite", "run", "revision", "compare runs"):
        assert "skipped tests are excluded" in client.get(urls[name]).content.decode(), name


@pytest.mark.parametrize("size", [(4, 4), (40, 25)], ids=["small", "ten-times"])
def test_query_counts_do_not_grow_with_the_history(
    login, viewer, django_assert_max_num_queries, size
):
    runs, tests = size
    client = login(viewer)
    urls = page_urls(build_history(runs=runs, tests=tests))

    for name, url in urls.items():
        with django_assert_max_num_queries(MAX_QUERIES[name]):
            assert client.get(url).status_code == 200, name


def test_the_run_page_lists_failures_first_and_filters_by_outcome_and_name(login, viewer, history):
    client = login(viewer)
    run = history["runs"][-1]  # test 1 failed, test 4 skipped
    url = reverse("run-detail", args=[run.pk])

    everything = client.get(url).content.decode()
    failed_only = client.get(url + "?outcome=failed").content.decode()
    by_name = client.get(url + "?q=step_003").content.decode()

    assert everything.index("test_step_001") < everything.index("test_step_000")
    assert everything.count('data-outcome="') == 5
    assert failed_only.count('data-outcome="failed"') == failed_only.count('data-outcome="') == 1
    assert by_name.count('data-outcome="') == 1
    assert "test_step_003" in by_name


def test_the_run_page_explains_each_failure_and_groups_them(login, viewer, history):
    page = login(viewer).get(reverse("run-detail", args=[history["runs"][-1].pk])).content.decode()

    assert '<details class="failure">' in page
    assert "1 test:" in page
    assert 'id="cmp-new">1<' in page  # test 1 broke on the last revision
    assert 'id="cmp-fixed">1<' in page  # test 0 errored in the run before


@pytest.mark.parametrize(
    ("query", "sentence"),
    [
        ("?outcome=broken", "“broken” is not an outcome"),
        ("?after=9", "“9” is not a place in this list"),
        ("?before=1.x", "“1.x” is not a place in this list"),
    ],
)
def test_the_run_page_refuses_a_bad_filter_with_a_sentence(login, viewer, history, query, sentence):
    url = reverse("run-detail", args=[history["runs"][-1].pk]) + query

    response = login(viewer).get(url)

    assert response.status_code == 400
    assert sentence in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/runs/999999/",
        "/runs/999999/progress",
        "/suites/999999/",
        "/tests/999999/",
        "/revisions/999999/",
        "/services/no-such-service/",
    ],
)
def test_unknown_ids_are_404(login, viewer, url):
    assert login(viewer).get(url).status_code == 404


@pytest.mark.parametrize(
    ("query", "sentence"),
    [
        ("", "Give two runs (?runs=12,15) or two revisions (?revisions=3,4) to compare."),
        ("?runs=1,2&revisions=1,2", "Give two runs"),
        ("?runs=1", "Give exactly two run ids separated by a comma, not “1”."),
        ("?runs=1,x", "“x” is not a run id; ids are whole numbers."),
        ("?runs=999998,999999", "There is no run #999998, #999999."),
        ("?revisions=999999,{revision}", "There is no revision 999999."),
        ("?runs={run},{run}", "pick two different runs"),
    ],
)
def test_compare_refuses_bad_or_missing_ids_with_a_sentence(
    login, viewer, history, query, sentence
):
    query = query.format(run=history["runs"][0].pk, revision=history["revisions"][0].pk)

    response = login(viewer).get(reverse("compare") + query)

    assert response.status_code == 400
    assert sentence in response.content.decode()


def test_compare_shows_counts_and_per_test_differences(login, viewer, history):
    first, last = history["runs"][0], history["runs"][-1]

    page = login(viewer).get(reverse("compare") + f"?runs={first.pk},{last.pk}").content.decode()

    assert "1 newly failing in B" in page
    assert page.count("<tr><td><a href=") == 1  # test_step_001: passed -> failed


def test_an_artifact_downloads_as_an_attachment(login, viewer, history, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    run = history["runs"][-1]
    artifact = TestRunArtifact.objects.create(
        run=run, name="junit.xml", file=ContentFile(b"<testsuite/>", name="junit.xml"), size=12
    )
    client = login(viewer)

    page = client.get(reverse("run-detail", args=[run.pk])).content.decode()
    response = client.get(reverse("run-artifact", args=[run.pk, artifact.pk]))

    assert reverse("run-artifact", args=[run.pk, artifact.pk]) in page
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="junit.xml"'
    assert b"".join(response.streaming_content) == b"<testsuite/>"


def test_an_artifact_of_another_run_or_without_its_file_is_404(
    login, viewer, history, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    run, other = history["runs"][-1], history["runs"][0]
    artifact = TestRunArtifact.objects.create(run=run, name="gone.xml", file="artifacts/gone.xml")
    client = login(viewer)

    assert client.get(reverse("run-artifact", args=[other.pk, artifact.pk])).status_code == 404
    assert client.get(reverse("run-artifact", args=[run.pk, artifact.pk])).status_code == 404


def test_a_running_run_polls_its_progress_and_reloads_when_done(login, viewer, history):
    run = history["runs"][-1]
    TestRun.objects.filter(pk=run.pk).update(status="running", progress_done=2, progress_total=5)
    client = login(viewer)

    page = client.get(reverse("run-detail", args=[run.pk])).content.decode()
    TestRun.objects.filter(pk=run.pk).update(status="passed")
    finished = client.get(reverse("run-progress", args=[run.pk]), headers={"HX-Request": "true"})

    assert f'hx-get="{reverse("run-progress", args=[run.pk])}"' in page
    assert "2 of 5 tests" in page
    assert finished["HX-Refresh"] == "true"
    assert b"hx-get" not in finished.content


def test_the_revision_page_says_who_deployed_it_and_what_newly_fails(login, viewer, history):
    revision = history["revisions"][-1]

    page = login(viewer).get(reverse("revision-detail", args=[revision.pk])).content.decode()

    assert "took 42.00 s" in page
    assert 'id="newly-failing-count">1<' in page  # test 1 broke on this revision
    assert 'id="newly-passing-count">1<' in page  # test 0 errored in the last run before it
    assert f"?revisions={history['revisions'][-2].pk},{revision.pk}" in page


def test_the_test_page_says_since_when_a_test_is_broken_and_how_flaky_it_is(login, viewer, history):
    broken, flaky = history["cases"][1], history["cases"][0]
    client = login(viewer)

    broken_page = client.get(reverse("test-detail", args=[broken.pk])).content.decode()
    flaky_page = client.get(reverse("test-detail", args=[flaky.pk])).content.decode()

    assert f'since <a href="/runs/{history["runs"][-1].pk}/">' in broken_page
    assert "web-00002" in broken_page
    # test 0 alternates error/passed: 2 flips within web-00000, 2 within web-00001
    assert '<span class="badge flaky">flaky</span> 4 flips' in flaky_page
