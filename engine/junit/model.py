"""What the JUnit parser returns: one result per test, and the report around them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

PASSED = "passed"
FAILED = "failed"
ERROR = "error"
SKIPPED = "skipped"
OUTCOMES = (PASSED, FAILED, ERROR, SKIPPED)


class JUnitError(ValueError):
    """A report that cannot be imported; ``str(e)`` is one sentence a user can act on."""


@dataclass(slots=True)
class ParsedCase:
    """One test's result in one report, reruns already folded in.

    - ``key``: ``"<scope>::<name>"`` (see ``parser._scope``), at most 1,000 characters; a
      same-titled test that is not a rerun gets ``" #2"``, ``" #3"``... in document order.
    - ``outcome``: of the last attempt; failure beats error beats skipped in one element.
    - ``duration``: seconds summed over all attempts (the time the tool really spent).
    - ``message``: one display line, ANSI removed: the ``message`` attribute, else the first
      non-blank line of the text, else the ``type``; for a flaky pass, why it flaked.
    - ``details``: every failure/error/skip text, raw, joined by a blank line.
    - ``output``: the case's system-out (every attempt's, in order), raw.
    - ``error_output``: the case's system-err (every attempt's, in order), raw.
    - ``attachments``: paths named by ``[[ATTACHMENT|path]]`` lines in its output and by
      ``attachment`` properties (``attachment``, ``attachment_1``, ``attachment:name``...),
      as written: the importer resolves them inside the upload.
    - ``attempt_log``: one :class:`dict` per attempt (outcome, message, details, duration or
      None, output) when the test ran more than once; empty otherwise.
    """

    key: str
    suite: str
    classname: str
    name: str
    file: str
    outcome: str
    duration: float
    message: str = ""
    details: str = ""
    output: str = ""
    error_output: str = ""
    attempts: int = 1
    flaky: bool = False
    properties: dict[str, str] = field(default_factory=dict)
    attachments: list[str] = field(default_factory=list)
    attempt_log: list[dict] = field(default_factory=list)


@dataclass
class ParsedReport:
    """Every case of a report plus what the report says about itself.

    Counts are properties computed from ``cases``: the ``tests=``/``failures=`` attributes
    that tools write are ignored because several tools get them wrong.
    """

    cases: list[ParsedCase]
    suites: list[str]
    started_at: datetime | None
    duration: float
    output: str = ""
    warnings: list[str] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)

    def _count(self, outcome: str) -> int:
        return sum(1 for case in self.cases if case.outcome == outcome)

    @property
    def total(self) -> int:
        return len(self.cases)

    @property
    def passed(self) -> int:
        return self._count(PASSED)

    @property
    def failed(self) -> int:
        return self._count(FAILED)

    @property
    def error(self) -> int:
        return self._count(ERROR)

    @property
    def skipped(self) -> int:
        return self._count(SKIPPED)

    @property
    def flaky(self) -> int:
        return sum(1 for case in self.cases if case.flaky)
