"""Health: the service answers, names its build, and labels every response with its revision."""

import pytest
from conftest import REVISION

pytestmark = pytest.mark.p1


async def test_health_is_ok_and_names_the_build(api):
    async with api(token=None) as http, http.get("/healthz") as resp:
        assert resp.status == 200
        body = await resp.json()
    assert body["status"] == "ok"
    assert isinstance(body["build"], str) and body["build"]


async def test_responses_carry_the_revision_header(api):
    async with api(token=None) as http, http.get("/healthz") as resp:
        revision = resp.headers.get("X-Stageloop-Revision")
    assert revision, "X-Stageloop-Revision header is missing"
    if REVISION:
        assert revision == REVISION


async def test_unknown_path_is_a_json_404(api):
    async with api() as http, http.get("/no-such-endpoint") as resp:
        assert resp.status == 404
        assert (await resp.json())["error"] == "not_found"
