"""Agents: listed, runnable, recorded in a thread on request, and 4xx on bad input."""

import pytest

pytestmark = pytest.mark.p1


async def test_agents_are_listed_with_descriptions(api):
    async with api() as http, http.get("/agents") as resp:
        assert resp.status == 200
        agents = {a["name"]: a["description"] for a in (await resp.json())["agents"]}
    assert {"echo", "reverse", "summarize"} <= agents.keys()
    assert all(agents.values())


async def test_reverse_agent_replies_with_its_output(api):
    async with api() as http, http.post("/agents/reverse/run", json={"input": "staging"}) as resp:
        assert resp.status == 200
        result = await resp.json()
    assert result["agent"] == "reverse"
    assert result["output"] == "gnigats"
    assert result["usage"] == {"input_chars": 7, "output_chars": 7}


async def test_agent_run_is_recorded_in_the_thread(api, new_thread):
    body = {"input": "ship it", "thread_id": new_thread["id"]}
    async with api() as http:
        async with http.post("/agents/echo/run", json=body) as resp:
            assert resp.status == 200
            assert (await resp.json())["message"]["content"] == "ship it"
        async with http.get(f"/threads/{new_thread['id']}/messages") as resp:
            messages = (await resp.json())["messages"]
    assert [(m["role"], m["content"]) for m in messages] == [
        ("user", "ship it"),
        ("assistant", "ship it"),
    ]


async def test_unknown_agent_is_404(api):
    async with api() as http, http.post("/agents/nope/run", json={"input": "hi"}) as resp:
        assert resp.status == 404


async def test_agent_without_input_is_refused_with_400(api):
    async with api() as http, http.post("/agents/echo/run", json={}) as resp:
        assert resp.status == 400
