"""Failure signatures: one normalized message per cause, so 40 failures show as one problem.

Pure Python, no Django. ``normalize_message`` removes what varies between occurrences of the
same failure (numbers, ids, addresses, temp paths, times); ``signature_hash`` names the
result for storage and grouping; ``failure_signature`` does both for one failure, and is what
every writer of FailureSignature rows uses (the importer and the demo and history seeders), so
that a seeded failure and an imported one with the same message are one signature.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from engine.junit.values import strip_ansi

NORMALIZED_MAX_CHARS = 500

_HEX = "[0-9a-fA-F]"

# host:port, where "file.py:25" (a source line) must not count as a host.
_HOST_PORT = re.compile(
    r"(?<![\w.-])(localhost|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+):\d{2,5}\b(?![:.]?\d)"
)
_SOURCE_SUFFIXES = frozenset(
    {"py", "js", "mjs", "cjs", "ts", "tsx", "jsx", "java", "kt", "scala", "go", "rb", "php"}
    | {"cs", "c", "cc", "cpp", "h", "hpp", "rs", "swift", "ex", "exs", "erl", "groovy"}
)


def _port(match: re.Match[str]) -> str:
    host = match.group(1)
    if host.rsplit(".", 1)[-1].lower() in _SOURCE_SUFFIXES:
        return match.group()
    # Hostnames stay (they say which service is down); the port does not.
    return f"{host}:<port>"


# Order matters: each rule must run before a later one eats its pieces (a UUID is hex and
# numbers, a timestamp and an IP address are numbers, a temp path contains both).
_RULES: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    (re.compile(rf"\b{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}\b"), "<uuid>"),
    (
        re.compile(
            r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"
            r"(?:Z|[+-]\d{2}:?\d{2})?)?\b"
        ),
        "<ts>",
    ),
    (re.compile(r"\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b"), "<ts>"),
    (re.compile(r"(?:/private)?/(?:tmp|var/tmp|var/folders)/[^\s'\"()\[\]<>,;:]*"), "<path>"),
    (
        re.compile(r"[A-Za-z]:\\(?:[^\s\\'\"]+\\)*?Temp\b(?:\\[^\s'\"<>,;]*)?", re.IGNORECASE),
        "<path>",
    ),
    (re.compile(r"\[[0-9a-fA-F:.]*:[0-9a-fA-F:.]*\](?::\d+)?"), "<ip>"),
    (
        re.compile(
            rf"(?<![\w:.])(?=[0-9a-fA-F:.]*\d)(?:(?:{_HEX}{{1,4}}:){{7}}{_HEX}{{1,4}}"
            rf"|(?:{_HEX}{{1,4}}:){{1,6}}:(?:{_HEX}{{1,4}}(?::{_HEX}{{1,4}}){{0,5}})?"
            rf"|::(?:{_HEX}{{1,4}}(?::{_HEX}{{1,4}}){{0,6}}|ffff:\d+\.\d+\.\d+\.\d+))(?![\w:])"
        ),
        "<ip>",
    ),
    (re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?(?![\w.])"), "<ip>"),
    (_HOST_PORT, _port),
    (re.compile(rf"\b0[xX]{_HEX}+\b"), "<hex>"),
    (re.compile(r"@[0-9a-fA-F]{4,}\b"), "@<hex>"),
    (re.compile(r"\b(?=[0-9a-fA-F]*[a-fA-F])(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{8,}\b"), "<hex>"),
    (re.compile(r"""(['"`])(?=[^'"`\s]*\d)[\w.:/-]{6,}\1"""), r"\1<id>\1"),
    (
        re.compile(
            r"\b\d+(?:\.\d+)?\s?(?:ms|us|µs|ns|s|sec|secs|seconds?|m|min|mins|minutes?|h)\b"
        ),
        "<duration>",
    ),
    (re.compile(r"\d+(?:\.\d+)?"), "<n>"),
)


def normalize_message(message: str) -> str:
    """Return ``message`` with its varying parts replaced by placeholders.

    Placeholders: ``<uuid>``, ``<ts>``, ``<path>`` (temp dirs), ``<ip>``, ``:<port>``,
    ``<hex>``, ``<id>`` (quoted ids), ``<duration>``, ``<n>``. ANSI codes are removed,
    whitespace collapsed, and the result cut to 500 characters.
    """
    text = strip_ansi(message)
    for pattern, placeholder in _RULES:
        text = pattern.sub(placeholder, text)
    return " ".join(text.split())[:NORMALIZED_MAX_CHARS].rstrip()


def signature_hash(normalized: str, kind: str) -> str:
    """Return the sha1 hex of ``kind`` ('failed' or 'error') and a normalized message."""
    payload = f"{kind}\n{normalized}".encode()
    return hashlib.sha1(payload, usedforsecurity=False).hexdigest()


NO_MESSAGE = "(no message)"


@dataclass(frozen=True)
class Signature:
    kind: str  # "failed" or "error"
    normalized: str
    hash: str


def failure_signature(*, kind: str, message: str) -> Signature:
    """The signature of one failure (``kind`` 'failed' or 'error') with this message."""
    normalized = normalize_message(message) or NO_MESSAGE
    return Signature(kind=kind, normalized=normalized, hash=signature_hash(normalized, kind))
