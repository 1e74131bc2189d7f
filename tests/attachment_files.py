"""Real files for the attachment tests: a valid PNG, reports that attach files, archives."""

from __future__ import annotations

import io
import struct
import tarfile
import zipfile
import zlib


def png(width: int = 40, height: int = 20, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A valid, solid-colour PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


TRACEBACK = """Traceback (most recent call last):
  File "tests/test_checkout.py", line 12, in test_pay
    assert total == 10, "<b>total</b>"
AssertionError: <b>total</b>"""


def report(*attachments: str, properties: tuple[str, ...] = (), name: str = "test_pay") -> bytes:
    """A pytest-style report with one failed test attaching `attachments` in its system-out
    (Playwright's and the Jenkins plugin's convention) and `properties` as properties."""
    lines = "\n".join(f"[[ATTACHMENT|{path}]]" for path in attachments)
    props = "".join(f'<property name="attachment" value="{p}"/>' for p in properties)
    return (
        '<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">'
        f'<testcase classname="tests.test_checkout" name="{name}" time="0.5">'
        + (f"<properties>{props}</properties>" if props else "")
        + f'<failure message="AssertionError: total">{_xml(TRACEBACK)}</failure>'
        f"<system-out>paying 10 EUR\n{lines}\n</system-out>"
        "<system-err>warning: slow card</system-err>"
        "</testcase></testsuite></testsuites>"
    ).encode()


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def targz_of(files: dict[str, bytes], *, links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            archive.addfile(info)
    return buffer.getvalue()
