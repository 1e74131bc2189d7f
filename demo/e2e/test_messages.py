"""Messages: post to a thread, read them back in order, refuse what is not a message."""

import pytest

pytestmark = pytest.mark.p1


async def test_posted_messages_are_listed_in_order(api, new_thread):
    url = f"/threads/{new_thread['id']}/messages"
    async with api() as http:
        for text in ("first", "second", "third"):
            async with http.post(url, json={"content": text}) as resp:
                assert resp.status == 201
                posted = await resp.json()
                assert posted["role"] == "user" and posted["content"] == text
        async with http.get(url) as resp:
            assert resp.status == 200
            messages = (await resp.json())["messages"]
        async with http.get(f"/threads/{new_thread['id']}") as resp:
            thread = await resp.json()
    assert [m["content"] for m in messages] == ["first", "second", "third"]
    assert thread["message_count"] == 3


async def test_limit_returns_the_latest_messages(api, new_thread):
    url = f"/threads/{new_thread['id']}/messages"
    async with api() as http:
        for text in ("one", "two", "three"):
            async with http.post(url, json={"content": text}) as resp:
                assert resp.status == 201
        async with http.get(url, params={"limit": "2"}) as resp:
            messages = (await resp.json())["messages"]
    assert [m["content"] for m in messages] == ["two", "three"]


async def test_invalid_limit_is_refused_with_400(api, new_thread):
    async with (
        api() as http,
        http.get(f"/threads/{new_thread['id']}/messages", params={"limit": "0"}) as resp,
    ):
        assert resp.status == 400


async def test_empty_message_is_refused_with_400(api, new_thread):
    url = f"/threads/{new_thread['id']}/messages"
    async with api() as http, http.post(url, json={"content": "   "}) as resp:
        assert resp.status == 400
        assert "content" in (await resp.json())["message"]


async def test_message_to_an_unknown_thread_is_404(api):
    url = "/threads/th_does_not_exist/messages"
    async with api() as http, http.post(url, json={"content": "hello"}) as resp:
        assert resp.status == 404
