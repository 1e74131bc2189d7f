"""The one httpx wrapper for Stageloop's API: bearer token, timeouts, retries, one-line errors."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx

from stageloop import __version__

# Exit codes every command shares; the CLI's --help and client/README.md list them.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INCONCLUSIVE = 2
EXIT_TIMEOUT = 3
EXIT_REFUSED = 4
EXIT_AUTH = 5
EXIT_UNREACHABLE = 6
EXIT_USAGE = 64

RETRY_STATUSES = frozenset({500, 502, 503, 504})
PROGRESS_MIN_BYTES = 1024 * 1024


class ClientError(Exception):
    """A request that did not get the answer it wanted; `str()` is one sentence for people."""

    exit_code = EXIT_REFUSED

    def __init__(self, message: str, *, status: int = 0, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class Refused(ClientError):
    """The server understood and said no (400, 404, 409, 413...)."""


class NotAuthorized(ClientError):
    """No token, a wrong or revoked one (401), or a role that may not (403)."""

    exit_code = EXIT_AUTH


class Unreachable(ClientError):
    """No answer after every retry: connection errors, timeouts or 5xx."""

    exit_code = EXIT_UNREACHABLE


@dataclass(frozen=True)
class Settings:
    url: str
    token: str
    retries: int = 4
    timeout: float = 30.0


def settings_from(
    *, url: str | None = None, token: str | None = None, retries: int | None = None
) -> Settings:
    """Flags first, then STAGELOOP_URL / STAGELOOP_TOKEN / STAGELOOP_RETRIES."""
    url = (url or os.environ.get("STAGELOOP_URL") or "").strip().rstrip("/")
    if not url:
        raise ClientError(
            "No server given: set STAGELOOP_URL (e.g. https://stageloop.example.com) or pass --url."
        )
    if not url.startswith(("http://", "https://")):
        raise ClientError(f"The server URL {url!r} must start with http:// or https://.")
    token = (token or os.environ.get("STAGELOOP_TOKEN") or "").strip()
    if retries is None:
        raw = os.environ.get("STAGELOOP_RETRIES", "4")
        try:
            retries = int(raw)
        except ValueError:
            raise ClientError(f"STAGELOOP_RETRIES must be a whole number, not {raw!r}.") from None
    return Settings(url=url, token=token, retries=max(0, retries))


class _Progress:
    """A file wrapper that reports the bytes httpx has read from it, at most twice a second."""

    def __init__(self, file: IO[bytes], name: str, size: int, out: IO[str]) -> None:
        self._file = file
        self._name = name
        self._size = size
        self._sent = 0
        self._out = out
        self._shown = 0.0

    def fileno(self) -> int:
        return self._file.fileno()

    def read(self, size: int = -1) -> bytes:
        chunk = self._file.read(size)
        self._sent += len(chunk)
        now = time.monotonic()
        if now - self._shown >= 0.5 or self._sent >= self._size:
            self._shown = now
            percent = 100 * self._sent // max(self._size, 1)
            self._out.write(
                f"stageloop: uploading {self._name}: {self._sent / 1e6:.1f} of "
                f"{self._size / 1e6:.1f} MB ({percent} %)\n"
            )
            self._out.flush()
        return chunk


class Api:
    """Stageloop's API with a bearer token. Retries connection errors and 5xx with backoff."""

    def __init__(
        self,
        settings: Settings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        progress: IO[str] | None = None,
    ) -> None:
        self.settings = settings
        self._sleep = sleep
        self._progress = progress
        headers = {"User-Agent": f"stageloop-client/{__version__}"}
        if settings.token:
            headers["Authorization"] = f"Bearer {settings.token}"
        self._http = httpx.Client(
            base_url=f"{settings.url}/api/v1",
            headers=headers,
            timeout=httpx.Timeout(settings.timeout, connect=10.0),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, path: str, **params: str) -> Any:
        return self._call("GET", path, params=params or None)

    def post(self, path: str, body: Any) -> Any:
        return self._call("POST", path, json=body)

    def put(self, path: str, body: Any) -> Any:
        return self._call("PUT", path, json=body)

    def upload(self, path: str, files: list[Path], data: dict[str, str]) -> Any:
        """POST files as multipart `files` with form `data`; files are reopened on each retry."""
        return self._call("POST", path, data=data, upload=files)

    def upload_form(self, path: str, data: dict[str, str]) -> Any:
        """POST a multipart form without files."""
        return self._call("POST", path, data=data, upload=[])

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
        upload: list[Path] | None = None,
    ) -> Any:
        where = f"{self.settings.url}/api/v1{path}"
        attempts = self.settings.retries + 1
        problem = ""
        for attempt in range(attempts):
            if attempt:
                self._sleep(self._backoff(attempt, problem))
            opened: list[IO[bytes]] = []
            try:
                files = None
                if upload is not None:
                    files = []
                    for file in upload:
                        handle: IO[bytes] = file.open("rb")
                        opened.append(handle)
                        files.append(("files", (file.name, self._wrap(handle, file))))
                response = self._http.request(
                    method, path, json=json, params=params, data=data, files=files
                )
            except httpx.TransportError as exc:
                problem = _transport_problem(exc)
                continue
            finally:
                for handle in opened:
                    handle.close()
            if response.status_code in RETRY_STATUSES:
                problem = f"it answered {response.status_code}: {_error_text(response)}"
                self._retry_after = _retry_after(response)
                continue
            return _answer(response, where)
        tries = f" (tried {attempts} times)" if attempts > 1 else ""
        raise Unreachable(f"Cannot reach Stageloop at {self.settings.url}: {problem}{tries}.")

    _retry_after: float | None = None

    def _backoff(self, attempt: int, problem: str) -> float:
        wait = min(0.5 * 2 ** (attempt - 1), 8.0)
        if self._retry_after is not None:
            wait, self._retry_after = min(max(wait, self._retry_after), 30.0), None
        return wait

    def _wrap(self, handle: IO[bytes], file: Path) -> Any:
        size = file.stat().st_size
        if self._progress is None or size < PROGRESS_MIN_BYTES:
            return handle
        return _Progress(handle, file.name, size, self._progress)


def _transport_problem(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "the connection was refused or the host is unknown"
    if isinstance(exc, httpx.TimeoutException):
        return "it did not answer in time"
    return f"the connection broke ({type(exc).__name__})"


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200] or response.reason_phrase
    if isinstance(body, dict) and body.get("error"):
        return str(body["error"])
    return response.reason_phrase


def _error_code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("code", "")) if isinstance(body, dict) else ""


def _answer(response: httpx.Response, where: str) -> Any:
    if response.is_success:
        try:
            return response.json()
        except ValueError:
            raise Refused(
                f"{where} answered {response.status_code} with something that is not JSON: "
                "is STAGELOOP_URL the Stageloop server?",
                status=response.status_code,
            ) from None
    text = _error_text(response)
    code = _error_code(response)
    if response.status_code == 401:
        raise NotAuthorized(
            f"{where} refused the token: it is missing, wrong or revoked. Set STAGELOOP_TOKEN "
            "(or --token) to a valid token from your API tokens page.",
            status=401,
            code=code,
        )
    if response.status_code == 403:
        raise NotAuthorized(text, status=403, code=code)
    raise Refused(text, status=response.status_code, code=code)


def say(message: str) -> None:
    """One line on stderr, prefixed so it stands out in a CI log."""
    print(f"stageloop: {message}", file=sys.stderr, flush=True)
