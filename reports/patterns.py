"""Capability patterns: globs on a test's key, name, class or file, turned into a query.

Pure functions over strings and Q objects: one place defines what a pattern means.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

FIELDS = {"key": "key", "name": "name", "class": "classname", "file": "file"}
_REGEX_SPECIAL = set(".^$+{}[]|()\\")


class PatternError(ValueError):
    """A pattern line that cannot be understood; the message names the line."""


@dataclass(frozen=True)
class Pattern:
    glob: str
    field: str | None  # None: any of key, name, class, file
    exclude: bool


def glob_to_regex(glob: str) -> str:
    """An anchored regular expression (the subset PostgreSQL and Python share) for a glob."""
    out = []
    for char in glob:
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif char in _REGEX_SPECIAL:
            out.append("\\" + char)
        else:
            out.append(char)
    return "^" + "".join(out) + "$"


def parse_patterns(text: str) -> list[Pattern]:
    """Parse one pattern per line; blank lines and lines starting with # are ignored."""
    patterns = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclude = line.startswith("!")
        line = line.removeprefix("!").strip()
        field = None
        prefix, sep, rest = line.partition(":")
        if sep and prefix.strip().lower() in FIELDS:
            field, line = FIELDS[prefix.strip().lower()], rest.strip()
        if not line:
            raise PatternError(f"Line {number} has no pattern after “{raw.strip()}”.")
        if len(line) > 300:
            raise PatternError(f"Line {number} is longer than 300 characters.")
        patterns.append(Pattern(glob=line, field=field, exclude=exclude))
    if not any(not p.exclude for p in patterns):
        raise PatternError("Give at least one pattern that includes tests (a line without !).")
    return patterns


def _match(pattern: Pattern) -> Q:
    regex = glob_to_regex(pattern.glob)
    fields = [pattern.field] if pattern.field else list(FIELDS.values())
    q = Q()
    for field in fields:
        q |= Q(**{f"{field}__iregex": regex})
    return q


def patterns_q(text: str) -> Q:
    """A filter on TestCase: any including pattern matches and no excluding pattern does."""
    include, exclude = Q(), Q()
    for pattern in parse_patterns(text):
        if pattern.exclude:
            exclude |= _match(pattern)
        else:
            include |= _match(pattern)
    return include & ~exclude if exclude else include
