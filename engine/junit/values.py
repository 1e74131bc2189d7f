"""Reading the loosely specified values of JUnit attributes and texts."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# CSI (colours, cursor moves), OSC (hyperlinks, titles) and two-character escapes.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")
_ATTACHMENT = re.compile(r"\[\[ATTACHMENT\|([^\]\r\n]+)\]\]")
_ATTACHMENT_MARK = "[[ATTACHMENT|"

MESSAGE_MAX_CHARS = 1000
# Tools write the epoch or year 1 when they know no start time; both mean "unknown".
_FIRST_REAL_YEAR = 1971
_LAST_YEAR = 2100
# No test, suite or report lasts longer than a year: such a time is in other units, or junk.
MAX_SECONDS = 366 * 24 * 3600
_PLACEHOLDER = re.compile(r"inf|nan", re.IGNORECASE)


class ValueOutOfRange(ValueError):
    """A well-formed value no report can mean; ``str(e)`` names it: "the time '1e300', which..."."""


def strip_ansi(text: str) -> str:
    """Return ``text`` without ANSI escape sequences (colours, hyperlinks, cursor moves)."""
    if "\x1b" not in text:
        return text
    return _ANSI.sub("", text)


def first_line(text: str) -> str:
    """Return the first line of ``text`` that is not blank, stripped; '' when there is none."""
    start = 0
    length = len(text)
    while start < length:
        end = text.find("\n", start)
        if end == -1:
            end = length
        line = text[start:end].strip()
        if line:
            return line
        start = end + 1
    return ""


def display_message(text: str) -> str:
    """Return one display line for a message: first non-blank line, ANSI removed, capped."""
    return first_line(strip_ansi(text))[:MESSAGE_MAX_CHARS]


def attachments_in(text: str) -> list[str]:
    """Return the paths of ``[[ATTACHMENT|path]]`` markers in ``text``, in order (a marker may
    carry metadata after a second ``|``, as ``[[ATTACHMENT|shot.png|{"type": "image"}]]``)."""
    if _ATTACHMENT_MARK not in text:
        return []
    paths = (found.split("|", 1)[0].strip() for found in _ATTACHMENT.findall(text))
    return [path for path in paths if path]


def parse_seconds(value: str | None) -> tuple[float, str | None]:
    """Read a ``time=`` attribute as seconds from 0 to :data:`MAX_SECONDS`.

    Returns the seconds and, when the value was missing, negative or unreadable (including
    inf and nan, which tools write when they know no time), the reason it was recorded as 0
    (the caller turns that into a warning). Raises :class:`ValueOutOfRange` for more than
    :data:`MAX_SECONDS` (1e300, or milliseconds written as seconds): no guess is safe.
    """
    if value is None or not value.strip():
        return 0.0, "missing time recorded as 0"
    try:
        seconds = float(value)
    except ValueError:
        text = value.strip()
        if _THOUSANDS.fullmatch(text):
            seconds = float(text.replace(",", ""))
        elif text.count(",") == 1 and "." not in text:
            # A decimal comma from a localised reporter ("0,25").
            try:
                seconds = float(text.replace(",", "."))
            except ValueError:
                return 0.0, f"unreadable time {value!r} recorded as 0"
        else:
            return 0.0, f"unreadable time {value!r} recorded as 0"
    if math.isnan(seconds) or (math.isinf(seconds) and _PLACEHOLDER.search(value)):
        return 0.0, f"unreadable time {value!r} recorded as 0"
    if seconds < 0:
        return 0.0, f"negative time {value.strip()} recorded as 0"
    if seconds > MAX_SECONDS:
        raise ValueOutOfRange(
            f"the time {value.strip()!r}, which is not a duration in seconds "
            f"(at most {MAX_SECONDS:,}, a year)"
        )
    return seconds, None


def parse_timestamp(value: str | None) -> tuple[datetime | None, str | None]:
    """Read a ``timestamp=`` attribute as an aware UTC datetime.

    Accepts ISO 8601 with or without a zone (naive means UTC), ``Z`` and offsets, and
    RFC 1123 dates (mocha). Placeholder dates before 1971 (year 1, the epoch) give None.
    Returns the datetime and, when the value was present but unreadable, a warning. Raises
    :class:`ValueOutOfRange` for a moment after 2100 (in UTC).
    """
    if value is None or not value.strip():
        return None, None
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None, f"unreadable timestamp {value!r} ignored"
    # Checked before converting: year 1 with a positive offset would overflow.
    if moment.year < _FIRST_REAL_YEAR:
        return None, None
    try:
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:
        moment = datetime.max.replace(tzinfo=UTC)
    if moment.year > _LAST_YEAR:
        raise ValueOutOfRange(
            f"the timestamp {text!r}, which is out of range "
            f"(years {_FIRST_REAL_YEAR} to {_LAST_YEAR})"
        )
    return moment, None
