"""Reading query parameters: each helper returns a clean value or raises BadParam.

A view may catch BadParam to answer with its own page; otherwise dashboard's
BadInputMiddleware answers it with a 400 that says which parameter and what it takes (JSON
under /api/). Views read request.GET only through these helpers (or free text they bound).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

# Ids are 64-bit in both databases; a larger number would overflow the query, not miss.
MAX_ID = 2**63 - 1
FIRST_YEAR, LAST_YEAR = 2000, 2100
_SHOWN_MAX = 40


class BadParam(ValueError):
    """A query parameter a page cannot use; ``str(e)`` is a sentence, ``name`` the parameter."""

    def __init__(self, message: str, *, name: str = "") -> None:
        super().__init__(message)
        self.name = name


def shown(raw: str) -> str:
    """``raw`` as a sentence quotes it: in “…”, cut at 40 characters."""
    return f"“{raw if len(raw) <= _SHOWN_MAX else raw[:_SHOWN_MAX] + '…'}”"


def whole_number(raw: str, *, maximum: int | None = MAX_ID) -> int | None:
    """The number ``raw`` spells in ASCII digits (no sign, no ², at most ``maximum``), or None."""
    raw = raw.strip()
    if not raw or not raw.isascii() or not raw.isdigit() or len(raw) > 30:
        return None
    value = int(raw)
    return value if maximum is None or value <= maximum else None


def int_param(
    params: Mapping[str, str],
    name: str,
    *,
    what: str,
    default: int | None = None,
    minimum: int = 1,
    maximum: int | None = MAX_ID,
) -> int | None:
    """The whole number in ``params[name]`` (``default`` when absent or empty).

    ``what`` names it in the sentence: "a page number", "a service id".
    """
    raw = params.get(name, "")
    if not raw.strip():
        return default
    value = whole_number(raw, maximum=maximum)
    if value is None or value < minimum:
        upper = f" to {maximum:,}" if maximum is not None else ""
        raise BadParam(
            f"{shown(raw)} is not {what}: {name} takes a whole number from {minimum}{upper}.",
            name=name,
        )
    return value


def choice_param(
    params: Mapping[str, str], name: str, choices: Iterable[str], *, default: str = ""
) -> str:
    """``params[name]`` when it is one of ``choices``; ``default`` when absent or empty."""
    raw = params.get(name, "")
    if not raw:
        return default
    allowed = list(choices)
    if raw not in allowed:
        raise BadParam(
            f"{shown(raw)} is not a value {name} takes; use one of {', '.join(allowed)}, "
            "or leave it out.",
            name=name,
        )
    return raw


def date_param(params: Mapping[str, str], name: str, *, default: date | None = None) -> date | None:
    """The date ``params[name]`` spells as YYYY-MM-DD, in the years 2000 to 2100."""
    raw = params.get(name, "")
    if not raw:
        return default
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise BadParam(
            f"The {name} date {shown(raw)} is not a date; write it as YYYY-MM-DD.", name=name
        ) from None
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise BadParam(
            f"The {name} date {shown(raw)} is out of range; "
            f"give a date from {FIRST_YEAR} to {LAST_YEAR}.",
            name=name,
        )
    return value
