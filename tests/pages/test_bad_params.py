"""Every page, every query parameter it reads, every kind of bad value: a 400 with a sentence,
never a 500 (issue 13). Free text (the run page's search) is harmless and answers 200; every
other malformed value, including one a page used to ignore, is a 400."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import RevisionFactory, RunFactory, ServiceFactory, SuiteFactory

pytestmark = pytest.mark.django_db

BAD_VALUES = ["²", "-1", "9999999999999999999999", "9999-12-01", "' OR 1=1", "a\x00"]
SCOPE = ["start", "end", "services"]

# name: (path, base query, parameters validated, free-text parameters, who looks)
PAGES = {
    "run": ("/runs/{run}/", {}, ["after", "before", "outcome"], ["q"], "viewer"),
    "suite": ("/suites/{suite}/", {}, ["page"], [], "viewer"),
    "revision": ("/revisions/{revision}/", {}, ["page"], [], "viewer"),
    "compare": ("/compare", {}, ["runs", "revisions"], [], "viewer"),
    "compare-page": ("/compare", {"runs": "{run},{run2}"}, ["page"], [], "viewer"),
    "analyses": ("/analyses/", {}, ["status", "service", "page"], [], "viewer"),
    "action-items": ("/action-items/", {}, ["owner", "page"], [], "viewer"),
    "health": ("/services/web/health/", {}, ["range"], [], "viewer"),
    "summary": ("/reports/summary", {}, SCOPE, [], "manager"),
    "summary.md": ("/reports/summary.md", {}, SCOPE, [], "manager"),
    "summary.csv": ("/reports/summary.csv", {}, SCOPE, [], "manager"),
    "summary.pdf": ("/reports/summary.pdf", {}, SCOPE, [], "manager"),
    "evidence-runs": ("/reports/evidence/runs", {}, [*SCOPE, "status", "suite"], [], "manager"),
    "evidence-deploys": ("/reports/evidence/deploys", {}, [*SCOPE, "failed"], [], "manager"),
}
# Lists of ids are also tried with the bad value beside a good one.
ID_LISTS = {"runs": "{run}", "revisions": "{revision}"}


@pytest.fixture
def ids(db) -> dict[str, int]:
    service = ServiceFactory(name="web")
    suite = SuiteFactory(service=service, name="e2e")
    revision = RevisionFactory(service=service)
    run = RunFactory(suite=suite, revision=revision)
    run2 = RunFactory(suite=suite, revision=revision)
    return {"run": run.pk, "run2": run2.pk, "suite": suite.pk, "revision": revision.pk}


@pytest.fixture
def clients(client, viewer, manager):
    viewing, managing = client, Client()
    viewing.force_login(viewer)
    managing.force_login(manager)
    return {"viewer": viewing, "manager": managing}


def _cases():
    for name, (_path, _base, params, texts, _who) in PAGES.items():
        for param in params:
            for value in BAD_VALUES:
                yield pytest.param(name, param, value, 400, id=f"{name}-{param}-{value!r}")
                if param in ID_LISTS:
                    listed = f"{value},{ID_LISTS[param]}"
                    yield pytest.param(name, param, listed, 400, id=f"{name}-{param}-{listed!r}")
        for param in texts:
            for value in BAD_VALUES:
                status = 400 if "\x00" in value else 200
                yield pytest.param(name, param, value, status, id=f"{name}-{param}-{value!r}")


def _get(clients, ids, name: str, query: dict):
    path, base, _params, _texts, who = PAGES[name]
    full = {key: value.format(**ids) for key, value in base.items()}
    full.update({key: value.format(**ids) for key, value in query.items()})
    return clients[who].get(path.format(**ids), full)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_each_page_answers_without_parameters(clients, ids, name):
    response = _get(clients, ids, name, {})

    assert response.status_code == (400 if name == "compare" else 200)


@pytest.mark.parametrize(("name", "param", "value", "status"), list(_cases()))
def test_a_bad_query_parameter_is_a_400_never_a_500(clients, ids, name, param, value, status):
    response = _get(clients, ids, name, {param: value})

    assert response.status_code == status, response.content[:2000]
    if status == 400:
        page = response.content.decode()
        assert "<h1>" in page  # a page with a sentence, not an empty answer


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("summary", {"start": "1999-12-31"}),
        ("summary", {"end": "2101-01-01"}),
        ("evidence-runs", {"end": "9999-12-31"}),
        ("analyses", {"service": "0"}),
        ("action-items", {"owner": "9223372036854775808"}),
        ("evidence-runs", {"suite": "-5"}),
    ],
)
def test_values_out_of_range_are_refused_with_a_sentence(clients, ids, name, query):
    response = _get(clients, ids, name, query)

    assert response.status_code == 400
    (param,) = query
    assert param in response.content.decode()


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("analyses", {"status": "draft", "service": "{suite}", "page": "1"}),
        ("analyses", {"status": "", "service": ""}),
        ("action-items", {"owner": "{run}"}),
        ("evidence-runs", {"status": "failing", "suite": "{suite}"}),
        ("evidence-deploys", {"failed": "1"}),
        ("summary", {"start": "2026-01-01", "end": "2026-01-31", "services": "web"}),
    ],
)
def test_good_values_still_work(clients, ids, name, query):
    assert _get(clients, ids, name, query).status_code == 200
