"""Which text encoding a report is written in: its byte order mark, the shape of its first
character (XML 1.0, appendix F), or the encoding its declaration names."""

from __future__ import annotations

import codecs

# UTF-32 LE's mark starts with UTF-16 LE's, so it is looked for first.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Python text codecs that are no character set a document is written in.
_NOT_DOCUMENT = {"idna", "punycode", "undefined", "unicode-escape", "raw-unicode-escape"}


def sniff_encoding(head: bytes) -> tuple[str | None, int]:
    """The encoding the first bytes show, and how many bytes of mark to skip.

    None means an ASCII-compatible encoding: the XML declaration (or UTF-8) decides. Without
    a mark, UTF-16 and UTF-32 show as zero bytes around the first (ASCII) character.
    """
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding, len(bom)
    first = head[:4]
    if len(first) == 4:
        zero = [byte == 0 for byte in first]
        if zero == [True, True, True, False]:
            return "utf-32-be", 0
        if zero == [False, True, True, True]:
            return "utf-32-le", 0
        if zero[0] and not zero[1] and zero[2]:
            return "utf-16-be", 0
        if not zero[0] and zero[1] and not zero[2]:
            return "utf-16-le", 0
    return None, 0


def encoding_problem(encoding: str, declaration: bytes) -> str:
    """Why a report whose ASCII ``declaration`` names ``encoding`` cannot be read in it, or ''.

    Unknown names, bytes-to-bytes codecs (base64, zlib, rot13...), codecs for names rather
    than documents (idna, punycode), and encodings the declaration itself is not written in
    (UTF-16 or UTF-32 without their mark, EBCDIC) are all refused.
    """
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        return "which is unknown; write the report in UTF-8"
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_DOCUMENT:
        return "which is not a text encoding; write the report in UTF-8"
    try:
        readable = declaration.decode(info.name) == declaration.decode("ascii")
    except ValueError:
        readable = False
    if not readable:
        return "but is not written in it; save the report in UTF-8 or correct the declaration"
    return ""
