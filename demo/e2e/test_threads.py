"""Threads: create, fetch, list, validate, and keep each user's threads to themselves."""

import pytest

pytestmark = pytest.mark.p1


async def test_create_thread_returns_201_with_an_id(api):
    async with api() as http, http.post("/threads", json={"title": "  Release 1.4  "}) as resp:
        assert resp.status == 201
        thread = await resp.json()
    assert thread["id"]
    assert thread["title"] == "Release 1.4"
    assert thread["message_count"] == 0


async def test_created_thread_can_be_fetched_and_is_listed(api, new_thread):
    async with api() as http:
        async with http.get(f"/threads/{new_thread['id']}") as resp:
            assert resp.status == 200
            assert await resp.json() == new_thread
        async with http.get("/threads") as resp:
            assert resp.status == 200
            listed = {thread["id"] for thread in (await resp.json())["threads"]}
    assert new_thread["id"] in listed


@pytest.mark.parametrize(
    "body",
    [{}, {"title": ""}, {"title": "   "}, {"title": 42}, {"title": "x" * 201}],
    ids=["missing", "empty", "blank", "not-a-string", "too-long"],
)
async def test_invalid_title_is_refused_with_400(api, body):
    async with api() as http, http.post("/threads", json=body) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"] == "validation_error"


async def test_unknown_thread_is_404(api):
    async with api() as http, http.get("/threads/th_does_not_exist") as resp:
        assert resp.status == 404


async def test_another_users_thread_is_invisible(api, new_thread, other_token):
    async with api(token=other_token) as http:
        async with http.get(f"/threads/{new_thread['id']}") as resp:
            assert resp.status == 404
        async with http.get("/threads") as resp:
            listed = {thread["id"] for thread in (await resp.json())["threads"]}
    assert new_thread["id"] not in listed
