"""A real HTTP server on 127.0.0.1 standing for GitHub's or GitLab's API in commit-status tests:
it records each request (method, path, headers, JSON body) and answers from a plan."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.integrations.http_server import Reply, Request, http_server, wait_until


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: dict


@dataclass
class Answer:
    status: int = 201
    body: str = '{"id": 1}'
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # hold the connection open until the test ends


@dataclass
class CodeHostServer:
    url: str = ""
    plan: list[Answer] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        return wait_until(lambda: len(self.calls) >= count, timeout)

    def reply(self, request: Request) -> Reply:
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.calls.append(
            Call(request.method, request.path, headers, json.loads(request.body or b"{}"))
        )
        answer = self.plan.pop(0) if self.plan else Answer()
        return Reply(answer.status, answer.body.encode(), answer.headers, answer.hang)


@pytest.fixture
def codehost() -> Iterator[CodeHostServer]:
    state = CodeHostServer()
    with http_server(state.reply) as url:
        state.url = url
        yield state
