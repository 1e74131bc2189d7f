"""Turning whatever the caller hands us into a safe byte stream for lxml.

The stream is decompressed (gzip), capped at a byte limit, checked for DTDs before lxml sees
anything, transcoded to UTF-8, and stripped of characters XML 1.0 forbids so that a stray
control character in a test's output cannot make a whole report unreadable.
"""

from __future__ import annotations

import codecs
import io
import os
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from engine.junit.encodings import encoding_problem, sniff_encoding
from engine.junit.model import JUnitError

Source = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO

_CHUNK = 1 << 20
_PROLOG_MAX = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"
_DECLARATION = re.compile(rb"<\?xml[^>]*?\?>")
_DECLARATION_TEXT = re.compile(r"<\?xml[^>]*?\?>")
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")

# XML 1.0 forbids C0 controls other than tab, LF and CR, raw or as character references.
# Controls are moved to the private-use area (U+E000 + code) and moved back after parsing,
# so ANSI escapes (ESC = 0x1B) survive in details and output. NUL, which no database text
# column takes (PostgreSQL refuses it), becomes the replacement character U+FFFD instead.
_FORBIDDEN_RAW = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_FORBIDDEN_REF = re.compile(
    r"&#(?:[xX]0*(1[0-9a-fA-F]|[0-8bBcCeEfF])|0*(1[1-24-9]|2[0-9]|3[01]|[0-8]));"
)
_SHIFT = 0xE000
_RESTORE = {_SHIFT + code: code for code in (*range(1, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20))}
_SHIFTED = re.compile("[\ue001-\ue01f]")
_REPLACED = "\x00\ufffe\uffff"


def _shift_raw(match: re.Match[str]) -> str:
    char = match.group()
    return "\ufffd" if char in _REPLACED else chr(_SHIFT + ord(char))


def _shift_ref(match: re.Match[str]) -> str:
    hex_code, dec_code = match.groups()
    code = int(hex_code, 16) if hex_code is not None else int(dec_code)
    return f"&#x{_SHIFT + code:X};" if code else "&#xFFFD;"


def restore_controls(text: str) -> str:
    """Undo the private-use shift the stream applied to forbidden control characters."""
    if _SHIFTED.search(text) is None:
        return text
    return text.translate(_RESTORE)


def subject_for(source: Source, name: str) -> str:
    """Return how error messages refer to the report: its file name when known."""
    if not name and isinstance(source, str | os.PathLike):
        name = Path(source).name
    if not name:
        name = str(getattr(source, "name", "") or "")
        name = Path(name).name if name else ""
    return f"The file {name}" if name else "The report"


def _mb(size: int) -> str:
    if size >= 1 << 20:
        return f"{size / (1 << 20):,.1f} MB"
    if size >= 1 << 10:
        return f"{size / (1 << 10):,.1f} KB"
    return f"{size:,} bytes"


def open_source(source: Source, *, subject: str, max_bytes: int) -> tuple[BinaryIO, bool]:
    """Open ``source`` for binary reading and refuse it early when it is known to be too big.

    Returns the stream and whether the caller must close it.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        _check_size(len(data), subject=subject, max_bytes=max_bytes)
        return io.BytesIO(data), True
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise JUnitError(f"{subject} cannot be read: {exc.strerror or exc}.") from exc
        _check_size(size, subject=subject, max_bytes=max_bytes)
        return path.open("rb"), True
    if not hasattr(source, "read"):
        raise JUnitError(f"{subject} is neither a path, bytes nor a binary file object.")
    try:
        remaining = os.fstat(source.fileno()).st_size - source.tell()
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        remaining = None
    if remaining is not None:
        _check_size(remaining, subject=subject, max_bytes=max_bytes)
    return source, False


def _check_size(size: int, *, subject: str, max_bytes: int) -> None:
    if size > max_bytes:
        raise JUnitError(
            f"{subject} is {_mb(size)}, over the {_mb(max_bytes)} limit for one report; "
            "split it or raise the limit."
        )


class ReportStream:
    """A file-like object for lxml: decompressed, capped, DTD-free, sanitized UTF-8.

    ``remapped`` turns true once a forbidden control character was shifted, telling the
    parser to pass texts through :func:`restore_controls`.
    """

    def __init__(self, raw: BinaryIO, *, subject: str, max_bytes: int) -> None:
        self._raw = raw
        self._subject = subject
        self._max_bytes = max_bytes
        self._chunks = self._decompressed()
        self._decoder: codecs.IncrementalDecoder | None = None
        self._carry = ""
        self._done = False
        self.remapped = False

    def read(self, size: int = -1) -> bytes:
        """Return the next sanitized chunk (any length; lxml feeds it as it comes), b'' at end."""
        while not self._done:
            chunk = self._next_text()
            if chunk:
                return chunk.encode("utf-8")
        return b""

    def _decompressed(self) -> Iterator[bytes]:
        first = self._raw.read(_CHUNK)
        if not first:
            raise JUnitError(f"{self._subject} is empty.")
        total = 0
        chunks = self._gunzip(first) if first.startswith(_GZIP_MAGIC) else self._plain(first)
        for chunk in chunks:
            total += len(chunk)
            if total > self._max_bytes:
                raise JUnitError(
                    f"{self._subject} is over the {_mb(self._max_bytes)} limit for one report "
                    "(counted after decompression); split it or raise the limit."
                )
            yield chunk

    def _plain(self, first: bytes) -> Iterator[bytes]:
        chunk = first
        while chunk:
            yield chunk
            chunk = self._raw.read(_CHUNK)

    def _gunzip(self, first: bytes) -> Iterator[bytes]:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        pending = first
        try:
            while pending:
                # max_length bounds each step, so a zip bomb never inflates past one chunk.
                out = inflater.decompress(pending, _CHUNK)
                pending = inflater.unconsumed_tail
                if out:
                    yield out
                if inflater.eof:
                    rest = inflater.unused_data + pending
                    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
                    pending = rest
                    if not pending.strip(b"\x00"):
                        pending = self._raw.read(_CHUNK)
                    continue
                if not pending:
                    pending = self._raw.read(_CHUNK)
            tail = inflater.flush()
            if tail:
                yield tail
        except zlib.error as exc:
            raise JUnitError(f"{self._subject} is a damaged gzip file ({exc}).") from exc

    def _next_text(self) -> str:
        if self._decoder is None:
            text = self._open()
            final = False
        else:
            raw = next(self._chunks, None)
            final = raw is None
            text = self._decode(raw or b"", final=final)
        text = self._carry + text
        self._carry = ""
        if final:
            self._done = True
        else:
            # Hold back a character reference cut in half by the chunk boundary.
            amp = text.rfind("&", max(0, len(text) - 16))
            if amp != -1 and ";" not in text[amp:]:
                self._carry, text = text[amp:], text[:amp]
        return self._sanitize(text)

    def _open(self) -> str:
        """Read the prolog: choose the decoder, drop the declaration, refuse any DTD."""
        raw = next(self._chunks)
        while len(raw) < _PROLOG_MAX:
            more = next(self._chunks, None)
            if more is None:
                break
            raw += more
        encoding, skip = sniff_encoding(raw)
        raw = raw[skip:]
        if encoding is None:
            encoding = self._declared_encoding(raw)
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        text = self._decode(raw)
        # lxml receives UTF-8, so the declaration (and its encoding) must go; the rest of its
        # line stays, keeping line numbers of errors right.
        stripped = text.lstrip()
        declaration = _DECLARATION_TEXT.match(stripped)
        if declaration:
            start = len(text) - len(stripped)
            text = text[:start] + text[start + declaration.end() :]
        self._check_prolog(text)
        return text

    def _declared_encoding(self, raw: bytes) -> str:
        """The encoding an ASCII-compatible report declares (UTF-8 when it declares none)."""
        declaration = _DECLARATION.match(raw.lstrip())
        declared = _ENCODING.search(declaration.group()) if declaration else None
        if declaration is None or declared is None:
            return "utf-8"
        encoding = declared.group(1).decode("ascii")
        problem = encoding_problem(encoding, declaration.group())
        if problem:
            raise JUnitError(f"{self._subject} declares the encoding {encoding!r}, {problem}.")
        return encoding

    def _decode(self, raw: bytes, *, final: bool = False) -> str:
        assert self._decoder is not None
        try:
            return self._decoder.decode(raw, final=final)
        except ValueError as exc:  # UnicodeError and codecs that refuse errors="replace"
            raise JUnitError(f"{self._subject} cannot be decoded: {exc}.") from exc

    def _check_prolog(self, text: str) -> None:
        if text.startswith("\ufeff"):
            text = text[1:]
        pos = 0
        length = len(text)
        while True:
            while pos < length and text[pos] in " \t\r\n":
                pos += 1
            if pos >= length:
                raise JUnitError(f"{self._subject} contains no XML element.")
            if pos >= _PROLOG_MAX:
                raise JUnitError(f"{self._subject} has no root element in its first megabyte.")
            if text.startswith("<?", pos):
                closer = "?>"
            elif text.startswith("<!--", pos):
                closer = "-->"
            elif text.startswith("<!", pos):
                raise JUnitError(
                    f"{self._subject} declares a DOCTYPE; DTDs and entities are not allowed "
                    "in test reports, remove the declaration."
                )
            elif text.startswith("<", pos):
                return
            else:
                raise JUnitError(self._not_xml(text[pos : pos + 16]))
            end = text.find(closer, pos)
            if end == -1:
                raise JUnitError(f"{self._subject} has an unterminated comment or instruction.")
            pos = end + len(closer)

    def _not_xml(self, start: str) -> str:
        if any(char == "\ufffd" or (char < " " and char not in "\t\r\n") for char in start):
            return f"{self._subject} is a binary file, not an XML test report."
        return f"{self._subject} is not XML: it starts with {start!r} instead of a tag."

    def _sanitize(self, text: str) -> str:
        if _FORBIDDEN_RAW.search(text):
            self.remapped = True
            text = _FORBIDDEN_RAW.sub(_shift_raw, text)
        if "&#" in text:
            replaced, count = _FORBIDDEN_REF.subn(_shift_ref, text)
            if count:
                self.remapped = True
                text = replaced
        return text
