"""Websocket: authenticated, answers pings and echoes, and chats into a thread."""

import aiohttp
import pytest
from conftest import USER

pytestmark = pytest.mark.p1

WS_TIMEOUT = aiohttp.ClientWSTimeout(ws_receive=5)


async def test_websocket_refuses_a_connection_without_a_token(api):
    async with api(token=None) as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect("/ws")
    assert refused.value.status == 401


async def test_websocket_greets_pongs_and_echoes(api):
    async with api() as http, http.ws_connect("/ws", timeout=WS_TIMEOUT) as ws:
        hello = await ws.receive_json()
        assert hello["type"] == "hello" and hello["user"] == USER
        await ws.send_json({"type": "ping"})
        assert await ws.receive_json() == {"type": "pong"}
        await ws.send_json({"type": "echo", "text": "über ✓"})
        assert await ws.receive_json() == {"type": "echo", "text": "über ✓"}


async def test_websocket_accepts_the_token_as_a_query_parameter(api, token):
    async with (
        api(token=None) as http,
        http.ws_connect("/ws", params={"token": token}, timeout=WS_TIMEOUT) as ws,
    ):
        assert (await ws.receive_json())["type"] == "hello"


async def test_websocket_chat_is_stored_in_the_thread(api, new_thread):
    async with api() as http:
        async with http.ws_connect("/ws", timeout=WS_TIMEOUT) as ws:
            await ws.receive_json()  # hello
            await ws.send_json({"type": "chat", "thread_id": new_thread["id"], "content": "hi"})
            sent = await ws.receive_json()
            reply = await ws.receive_json()
        async with http.get(f"/threads/{new_thread['id']}/messages") as resp:
            messages = (await resp.json())["messages"]
    assert sent["type"] == "message" and sent["message"]["content"] == "hi"
    assert reply["type"] == "reply" and reply["message"]["role"] == "assistant"
    assert [m["id"] for m in messages] == [sent["message"]["id"], reply["message"]["id"]]


async def test_websocket_answers_a_bad_frame_with_an_error_and_stays_open(api):
    async with api() as http, http.ws_connect("/ws", timeout=WS_TIMEOUT) as ws:
        await ws.receive_json()  # hello
        await ws.send_str("not json")
        assert (await ws.receive_json())["type"] == "error"
        await ws.send_json({"type": "ping"})
        assert await ws.receive_json() == {"type": "pong"}
