"""Apprise URLs: checked when saved, masked wherever shown or logged, sent with timeouts.

Pure Python, no Django: callers pass the admin's switch (private targets) and the timeouts.
Apprise (one library for Slack, Teams, Discord, Telegram, ntfy, Matrix, JSON, email and ninety
more) does the sending; this module only decides whether a URL may be used and keeps its
secrets out of pages and logs.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import apprise

from integrations.urlguard import host_refusal

# Schemes whose host is a server the team runs (anything else with a dotted host is checked too).
SELF_HOSTED = {
    "json", "jsons", "form", "forms", "xml", "xmls", "ntfy", "ntfys", "mmost", "mmosts",
    "matrix", "matrixs", "gotify", "gotifys", "apprise", "apprises", "rocket", "rockets",
    "mailto", "mailtos", "nctalk", "nctalks", "ncloud", "nclouds", "signal", "signals",
}  # fmt: skip
# Query arguments that carry a secret whatever the scheme: header values (+Name / -Name) and
# these names.
_SECRET_ARGS = re.compile(r"^([+-]|%2B)|token|key|secret|pass|auth|sig|bearer", re.IGNORECASE)
_MASK = "****"


class AppriseUrlInvalid(ValueError):
    """The Apprise URL cannot be used; the message says why and what to do."""


def _plugin(url: str):
    return apprise.Apprise.instantiate(url.strip(), suppress_exceptions=True)


def _hosts(plugin) -> list[tuple[str, int | None]]:
    """The network hosts a plugin will connect to, when the URL names them."""
    scheme = str(getattr(plugin, "secure_protocol" if plugin.secure else "protocol", "") or "")
    hosts: list[tuple[str, int | None]] = []
    for host, port in (
        (getattr(plugin, "host", "") or "", getattr(plugin, "port", None)),
        (getattr(plugin, "smtp_host", "") or "", getattr(plugin, "port", None)),
    ):
        if not host or host in (h for h, _ in hosts):
            continue
        if (
            scheme in SELF_HOSTED
            or "." in host
            or ":" in host
            or host == "localhost"
            or _is_ip(host)
        ):
            hosts.append((host, port))
    return hosts


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def apprise_check(url: str, *, allow_private: bool) -> None:
    """Raise AppriseUrlInvalid unless ``url`` is an Apprise URL whose hosts may be reached."""
    url = url.strip()
    if "://" not in url:
        raise AppriseUrlInvalid(
            "This is not an Apprise URL: it needs a scheme such as slack://, msteams://, "
            "discord://, ntfy://, json:// or mailto:// (see the Apprise documentation)."
        )
    scheme = url.split("://", 1)[0].lower()
    plugin = _plugin(url)
    if plugin is None:
        if _known(scheme):
            raise AppriseUrlInvalid(
                f"The {scheme}:// URL is incomplete or malformed: check its tokens and host "
                "against the Apprise documentation for that service."
            )
        raise AppriseUrlInvalid(
            f"{scheme}:// is not a service Apprise knows: check the spelling of the scheme."
        )
    for host, port in _hosts(plugin):
        why = host_refusal(host, port or 80, allow_private=allow_private)
        if why:
            raise AppriseUrlInvalid(why)


def _known(scheme: str) -> bool:
    for entry in apprise.Apprise().details().get("schemas", []) or []:
        protocols = [*(entry.get("protocols") or ()), *(entry.get("secure_protocols") or ())]
        if scheme in protocols:
            return True
    return False


def apprise_mask(url: str) -> str:
    """The URL with its secrets masked: Apprise's own privacy form (tokens, passwords), and
    header and token-like query arguments as well."""
    plugin = _plugin(url)
    masked = plugin.url(privacy=True) if plugin is not None else _fallback_mask(url)
    return _mask_args(masked)


def _fallback_mask(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{_MASK}" if parts.scheme else _MASK


def _args(query: str) -> list[tuple[str, str]]:
    """Query arguments as written (parse_qsl would turn the + of a header name into a space)."""
    pairs = (part.partition("=") for part in query.split("&") if part)
    return [(name, value) for name, _, value in pairs]


def _mask_args(url: str) -> str:
    if "?" not in url:
        return url
    base, query = url.split("?", 1)
    args = [
        f"{name}={_MASK if _SECRET_ARGS.search(name) and value else value}"
        for name, value in _args(query)
    ]
    return f"{base}?{'&'.join(args)}"


def apprise_secrets(url: str) -> list[str]:
    """The pieces of ``url`` that its masked form hides: what must never reach a log."""
    masked = apprise_mask(url)
    shown = set(re.split(r"[/:@?&=#,]+", masked))
    pieces = re.split(r"[/:@?&=#,]+", url.split("://", 1)[-1])
    secrets = {p for p in pieces if len(p) >= 4 and p not in shown}
    if "?" in url:
        query = url.split("?", 1)[1]
        secrets |= {
            value for name, value in _args(query) if _SECRET_ARGS.search(name) and len(value) >= 2
        }
    return sorted(secrets, key=len, reverse=True)  # longest first: a piece may contain another


def scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, _MASK)
    return text


class _ThreadCapture(logging.Handler):
    """Apprise's warnings from this thread only: sends run side by side in a pool, and one
    channel's error (or secret) must never land on another's delivery."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.thread = threading.get_ident()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.lines.append(record.getMessage())


@dataclass(frozen=True)
class Result:
    ok: bool
    error: str
    response_ms: int


def apprise_send(
    url: str, *, title: str, body: str, connect_timeout: float, read_timeout: float
) -> Result:
    """Send one message through Apprise; every failure is a Result, never an exception, and its
    error (from Apprise's warnings) carries no secret of the URL."""
    started = time.perf_counter()
    secrets = apprise_secrets(url)
    plugin = _plugin(url)
    if plugin is None:
        return Result(False, "The Apprise URL is no longer valid; fix the channel.", 0)
    plugin.socket_connect_timeout = connect_timeout
    plugin.socket_read_timeout = read_timeout
    captured = _ThreadCapture()
    logger = logging.getLogger("apprise")
    logger.addHandler(captured)
    try:
        ok = bool(plugin.notify(title=title, body=body))
    except Exception as exc:  # a plugin's bug must not lose the other outcomes
        ok = False
        captured.lines.append(f"{type(exc).__name__}: {exc}")
    finally:
        logger.removeHandler(captured)
    ms = round((time.perf_counter() - started) * 1000)
    if ok:
        return Result(True, "", ms)
    error = " ".join(captured.lines) or "Apprise could not send the message (no detail given)."
    return Result(False, scrub(error, secrets)[:1000], ms)
