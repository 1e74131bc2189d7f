"""Streaming: the reply arrives as several partial chunks, then completes, without stalling."""

import asyncio
import json

import pytest
from conftest import STREAM_TIMEOUT

pytestmark = pytest.mark.p1


async def test_stream_sends_partial_chunks_then_completes(api, new_thread):
    thread_id = new_thread["id"]
    partials: list[dict] = []
    final = None
    stalled = False
    async with api() as http:
        async with http.post(f"/threads/{thread_id}/messages", json={"content": "status?"}) as r:
            assert r.status == 201
        async with http.get(f"/threads/{thread_id}/stream") as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"].startswith("application/x-ndjson")
            while final is None:
                try:
                    # each read is bounded: a stream that stops talking is a failure, not a wait
                    line = await asyncio.wait_for(resp.content.readline(), STREAM_TIMEOUT)
                except TimeoutError:
                    stalled = True
                    break
                assert line, "the stream ended without a final chunk"
                chunk = json.loads(line)
                if chunk["type"] == "partial":
                    partials.append(chunk)
                else:
                    final = chunk
        if stalled:
            pytest.fail(
                f"Timeout: the stream sent {len(partials)} partial chunk(s) and then nothing "
                f"for {STREAM_TIMEOUT:g} s"
            )
        async with http.get(f"/threads/{thread_id}/messages") as resp:
            messages = (await resp.json())["messages"]

    assert len(partials) >= 2, "a streamed reply should arrive in several parts"
    assert [p["index"] for p in partials] == list(range(len(partials)))
    assert final["type"] == "final"
    assert final["chunks"] == len(partials)
    assert "".join(p["text"] for p in partials) == final["text"]
    assert "status?" in final["text"]
    assert messages[-1]["role"] == "assistant" and messages[-1]["content"] == final["text"]


async def test_stream_of_an_empty_thread_is_409(api, new_thread):
    async with api() as http, http.get(f"/threads/{new_thread['id']}/stream") as resp:
        assert resp.status == 409


async def test_stream_of_an_unknown_thread_is_404(api):
    async with api() as http, http.get("/threads/th_does_not_exist/stream") as resp:
        assert resp.status == 404
