"""The SSRF guard: a webhook may only reach public addresses, unless an admin allows private ones.

Checked twice: when a webhook is saved (``url_refusal``, a sentence for the form) and at every
connection the sender opens (``GuardedBackend``), on the very address it connects to, so a name
that resolved to a public address when saved and to 127.0.0.1 later (DNS rebinding) is refused.
Pure Python, no Django: callers pass the admin's switch.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpcore

# Cloud metadata services answer credentials to whoever asks: never reachable, switch or not.
METADATA_ADDRESSES = {
    ipaddress.ip_address("169.254.169.254"),
    ipaddress.ip_address("fd00:ec2::254"),
}


class UrlRefused(Exception):
    """The URL may not be called; the message says why and what to do."""


def _why_not(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_private:
        return "a private address"
    if address.is_multicast or address.is_reserved or not address.is_global:
        return "a non-public address"
    return ""


def address_refusal(address: str, *, allow_private: bool) -> str:
    """Why a connection to ``address`` (an IP) is refused, or '' when it may go ahead."""
    why = _why_not(ipaddress.ip_address(address.split("%", 1)[0]))
    if not why or (allow_private and why != "a cloud metadata address"):
        return ""
    return why


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def url_refusal(url: str, *, allow_private: bool) -> str:
    """Why ``url`` may not be a webhook's URL, as a sentence, or '' when it may."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return "Only http:// and https:// URLs can receive webhooks."
    host = parts.hostname
    if not host:
        return (
            "The URL has no host name; give the full address, such as https://ci.example.com/hooks."
        )
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "The URL's port is not a number between 1 and 65535."
    try:
        addresses = _resolve(host, port)
    except OSError:
        return f"The host {host} does not resolve; check the URL's spelling and the DNS."
    for address in addresses:
        why = address_refusal(address, allow_private=allow_private)
        if why:
            return (
                f"The host {host} resolves to {address}, {why}: webhooks only call public "
                "addresses, so they cannot reach the server's own network. An admin can allow "
                "private addresses with STAGELOOP_WEBHOOKS_ALLOW_PRIVATE=1 (metadata "
                "addresses are never allowed)."
            )
    return ""


def host_refusal(host: str, port: int, *, allow_private: bool) -> str:
    """Why a notification channel may not connect to ``host``, as a sentence, or ''."""
    host = host.strip("[]")
    try:
        addresses = _resolve(host, port)
    except OSError:
        return f"The host {host} does not resolve; check the URL's spelling and the DNS."
    for address in addresses:
        why = address_refusal(address, allow_private=allow_private)
        if why:
            return (
                f"The host {host} resolves to {address}, {why}: channels only reach public "
                "addresses, so they cannot reach the server's own network. An admin can allow "
                "private addresses with STAGELOOP_WEBHOOKS_ALLOW_PRIVATE=1 (metadata "
                "addresses are never allowed)."
            )
    return ""


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, resolving each host itself and connecting only to addresses
    the guard accepts (TLS still checks the certificate against the URL's host name)."""

    def __init__(self, *, allow_private: bool) -> None:
        self._allow_private = allow_private
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        with anyio.fail_after(timeout):
            infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        for address in addresses:
            why = address_refusal(address, allow_private=self._allow_private)
            if why:
                raise UrlRefused(
                    f"{host} resolves to {address}, {why}: refused (webhooks only call public "
                    "addresses)"
                )
        error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                error = exc
        raise error or httpcore.ConnectError(f"{host} has no address")

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise UrlRefused("webhooks do not call Unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
