"""The streaming JUnit XML parser behind every import door (CLI, API, UI upload, runner)."""

from __future__ import annotations

import gc
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

from engine.junit.model import ERROR, FAILED, PASSED, SKIPPED, JUnitError, ParsedCase, ParsedReport
from engine.junit.source import ReportStream, Source, open_source, restore_controls, subject_for
from engine.junit.values import (
    MAX_SECONDS,
    ValueOutOfRange,
    attachments_in,
    display_message,
    parse_seconds,
    parse_timestamp,
)

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
KEY_MAX_CHARS = 1000
WARNINGS_MAX = 100

# Jest's own title separator, so keys read like the titles users already know.
_SCOPE_SEPARATOR = " \u203a "
_FAILURE_KINDS = {"failure": FAILED, "error": ERROR}
_FLAKY_KINDS = {"flakyFailure": FAILED, "flakyError": ERROR}
_RERUN_KINDS = {"rerunFailure": FAILED, "rerunError": ERROR}
# When a case carries several verdicts, the assertion (failure) is the test's own verdict;
# an error next to it (pytest teardown) stays visible in details.
_RANK = {PASSED: 0, SKIPPED: 1, ERROR: 2, FAILED: 3}


def _keep(text: str) -> str:
    return text


def _collapse(text: str) -> str:
    return " ".join(text.split())


@dataclass(slots=True, frozen=True)
class _Suite:
    name: str
    file: str


_NO_SUITE = _Suite(name="", file="")


@dataclass
class _Collected:
    """What the parse gathers outside the cases."""

    suites: dict[str, None] = field(default_factory=dict)
    output: list[str] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    warnings_dropped: int = 0
    started_at: datetime | None = None
    root_time: float | None = None
    top_level_time: float = 0.0


def parse_report(
    source: Source, *, name: str = "", max_bytes: int = DEFAULT_MAX_BYTES
) -> ParsedReport:
    """Parse one JUnit XML report (plain or gzip) into one result per test.

    ``source`` is a path, the report's bytes, or a binary file object; ``name`` is how error
    messages refer to it. Refuses with :class:`JUnitError` anything that is not a report:
    bigger than ``max_bytes`` (after decompression), empty, binary, not well-formed,
    declaring a DTD or entities, or with a root other than <testsuites>/<testsuite>.
    Counts are recomputed from the cases; repeated cases are folded into one result
    (see :func:`_fold`).
    """
    subject = subject_for(source, name)
    raw, owned = open_source(source, subject=subject, max_bytes=max_bytes)
    # The parse allocates a few objects per case and no cycles; the cyclic collector would
    # rescan the growing result list again and again (a 40 % slowdown at 100,000 cases).
    collecting = gc.isenabled()
    gc.disable()
    try:
        stream = ReportStream(raw, subject=subject, max_bytes=max_bytes)
        return _Parser(stream, subject).run()
    finally:
        if collecting:
            gc.enable()
        if owned:
            raw.close()


class ReportCases:
    """One report read as it streams: iterate for its cases, then ask :meth:`report`.

    Cases come one per <testcase> in document order, as :meth:`_Parser.cases` yields them:
    repeats of a test are *not* folded (the caller folds them, as :func:`parse_report` does
    with :func:`fold_rerun` and the " #n" numbering). Errors raise :class:`JUnitError` while
    iterating, possibly after some cases were yielded.
    """

    def __init__(self, source: Source, *, name: str = "", max_bytes: int = DEFAULT_MAX_BYTES):
        self._subject = subject_for(source, name)
        self._raw, self._owned = open_source(source, subject=self._subject, max_bytes=max_bytes)
        stream = ReportStream(self._raw, subject=self._subject, max_bytes=max_bytes)
        self._parser = _Parser(stream, self._subject)
        self._done = False

    def __iter__(self) -> Iterator[ParsedCase]:
        try:
            yield from self._parser.cases()
            self._done = True
        finally:
            self.close()

    def close(self) -> None:
        if self._owned:
            self._raw.close()
            self._owned = False

    def report(self) -> ParsedReport:
        """What the report says about itself (no cases); only once every case was read."""
        if not self._done:
            raise RuntimeError("read every case before asking for the report")
        return self._parser._report()


class _Parser:
    def __init__(self, stream: ReportStream, subject: str) -> None:
        self._stream = stream
        self._subject = subject
        self._info = _Collected()
        self._cases: list[ParsedCase] = []
        self._latest: dict[str, int] = {}
        self._distinct: dict[str, int] = {}
        self._scopes: dict[tuple[str, str, str], str] = {}
        self._case_seconds = 0.0

    def run(self) -> ParsedReport:
        for case in self.cases():
            self._fold(case)
        return self._report()

    def cases(self) -> Iterator[ParsedCase]:
        """Yield each <testcase> as soon as its element ends, its own flaky*/rerun* children
        folded in but not yet folded with repeats of it (see :meth:`_fold`); finished
        elements are deleted, so memory stays flat whatever the report's size."""
        context: etree.iterparse[tuple[str, etree._Element]]
        context = etree.iterparse(  # type: ignore[call-overload]  # stubs lack lxml 6's chunk_size
            self._stream,
            events=("end",),
            tag=("testsuites", "testsuite", "testcase"),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            remove_comments=True,
            remove_pis=True,
            # Text nodes over 10 MB (long logs in CDATA) are legitimate; size is already
            # capped by max_bytes and entity expansion is refused, so no amplification.
            huge_tree=True,
            chunk_size=1 << 20,
        )
        seen_root = False
        suite_elem: etree._Element | None = None
        suite = _NO_SUITE
        try:
            for _event, elem in context:
                if not seen_root:
                    self._check_root(elem)
                    seen_root = True
                if elem.tag == "testcase":
                    parent = elem.getparent()
                    # Finished cases are deleted, so the parent suite is still in the tree.
                    if parent is not suite_elem:
                        suite_elem, suite = parent, self._suite_of(parent)
                    case = self._case(elem, suite)
                    self._case_seconds += case.duration
                    self._drop_done(elem)
                    elem.clear(keep_tail=False)
                    yield case
                    continue
                if elem.tag == "testsuite":
                    self._close_suite(elem)
                else:
                    self._read_timing(elem, top_level=True)
                self._harvest_children(elem)
                self._drop_done(elem)
                elem.clear(keep_tail=False)
        except etree.XMLSyntaxError as exc:
            raise JUnitError(self._syntax_message(exc)) from exc
        if not seen_root:
            root = context.root
            found = f"<{root.tag!s}>" if root is not None else "no element"
            raise JUnitError(self._not_report(found))

    def _check_root(self, elem: etree._Element) -> None:
        root = elem.getroottree().getroot()
        if root.tag not in ("testsuites", "testsuite"):
            raise JUnitError(self._not_report(f"<{root.tag!s}>"))

    def _not_report(self, found: str) -> str:
        return (
            f"{self._subject} is not a JUnit report: its root element is {found}, "
            "expected <testsuites> or <testsuite>."
        )

    def _syntax_message(self, exc: etree.XMLSyntaxError) -> str:
        detail = (exc.msg or str(exc)).split(", line ")[0].strip().rstrip(".")
        line = exc.lineno or (exc.position[0] if exc.position else 0)
        return f"{self._subject} is not well-formed XML: line {line}: {detail}."

    def _suite_of(self, parent: etree._Element | None) -> _Suite:
        """Describe the suite a case sits in, registering it and its outer suites by name."""
        if parent is None or parent.tag != "testsuite":
            return _NO_SUITE
        file = ""
        chain = [parent, *parent.iterancestors("testsuite")]
        for node in reversed(chain):
            name = _collapse(node.get("name") or "")
            if name:
                self._info.suites[name] = None
            file = node.get("file") or file
        return _Suite(name=_collapse(parent.get("name") or ""), file=file)

    def _close_suite(self, elem: etree._Element) -> None:
        name = _collapse(elem.get("name") or "")
        if name:
            self._info.suites[name] = None
        parent = elem.getparent()
        # Only outermost suites add up to the report's duration; nested ones are inside them.
        self._read_timing(elem, top_level=parent is None or parent.tag != "testsuite")

    def _read_timing(self, elem: etree._Element, *, top_level: bool) -> None:
        info = self._info
        if elem.tag == "testsuites":
            where = "the report"
        else:
            where = f"suite {self._fix(elem.get('name') or '(unnamed)')}"
        try:
            moment, problem = parse_timestamp(elem.get("timestamp"))
            if problem:
                self._warn(f"{where}: {problem}")
            if moment is not None and (info.started_at is None or moment < info.started_at):
                info.started_at = moment
            if elem.get("time") is None:
                return
            seconds, _ = parse_seconds(elem.get("time"))
        except ValueOutOfRange as exc:
            raise JUnitError(self._out_of_range(where, exc)) from None
        if elem.tag == "testsuites":
            info.root_time = seconds
        elif top_level:
            info.top_level_time += seconds

    def _out_of_range(self, where: str, exc: ValueOutOfRange) -> str:
        return f"{self._subject} gives {where} {exc}; fix the reporter or remove the attribute."

    def _fix(self, text: str) -> str:
        return restore_controls(text) if self._stream.remapped else text

    def _case(self, elem: etree._Element, suite: _Suite) -> ParsedCase:
        attrib = elem.attrib
        classname = attrib.get("classname") or attrib.get("class") or ""
        name = attrib.get("name") or ""
        file = attrib.get("file") or suite.file
        scope_id = (suite.name, classname, file)
        scope = self._scopes.get(scope_id)
        if scope is None:
            scope = self._scopes[scope_id] = _scope(suite.name, classname, file)
        key = f"{scope}::{_collapse(name)}"
        if len(key) > KEY_MAX_CHARS:
            key = _cap_key(key)
        case = ParsedCase(key, suite.name, classname, name, file, PASSED, 0.0)
        if self._stream.remapped:
            case.classname, case.name, case.file = map(restore_controls, (classname, name, file))
            case.key, case.suite = restore_controls(key), restore_controls(suite.name)
        time = attrib.get("time")
        try:
            duration = float(time)  # type: ignore[arg-type]  # None: TypeError, handled below
            valid = 0.0 <= duration <= MAX_SECONDS
        except (TypeError, ValueError):
            valid = False
        if not valid:
            try:
                duration, problem = parse_seconds(time)
            except ValueOutOfRange as exc:
                raise JUnitError(self._out_of_range(f"case {case.key}", exc)) from None
            if problem:
                self._warn(f"case {case.key}: {problem}")
        case.duration = duration
        if len(elem):
            fix = restore_controls if self._stream.remapped else _keep
            self._read_children(elem, case, fix)
        return case

    def _read_children(
        self, elem: etree._Element, case: ParsedCase, fix: Callable[[str], str]
    ) -> None:
        details: list[str] = []
        output: list[str] = []
        errors: list[str] = []
        own_details: list[str] = []
        own_message = ""
        flaky_log: list[dict] = []
        rerun_log: list[dict] = []
        last_rerun = ""
        for child in elem:
            tag = child.tag
            if not isinstance(tag, str):
                continue  # an unresolved entity: no branch below reads it
            if tag in _FAILURE_KINDS or tag == "skipped":
                kind = _FAILURE_KINDS.get(tag, SKIPPED)
                if _RANK[kind] > _RANK[case.outcome]:
                    case.outcome = kind
                    case.message = ""
                text = fix(child.text or "")
                message = fix(child.get("message") or "")
                if _RANK[kind] >= _RANK[case.outcome] and not case.message:
                    case.message = (
                        display_message(message)
                        or display_message(text)
                        or display_message(child.get("type") or "")
                    )
                    own_message = case.message
                if text.strip() or message.strip():
                    details.append(text if text.strip() else message)
                    own_details.append(details[-1])
            elif tag in _FLAKY_KINDS or tag in _RERUN_KINDS:
                if tag in _FLAKY_KINDS:
                    flaky_log.append(self._read_attempt(child, fix, details, case, _FLAKY_KINDS))
                else:
                    rerun_log.append(self._read_attempt(child, fix, details, case, _RERUN_KINDS))
                    last_rerun = _RERUN_KINDS[tag]
            elif tag == "system-out" or tag == "system-err":
                if child.text:
                    (output if tag == "system-out" else errors).append(fix(child.text))
            elif tag == "properties":
                _read_properties(child, case.properties, fix, case.attachments)
        if flaky_log or rerun_log:
            # The case's own verdict is the last try of a flaky test (Surefire writes the
            # failed tries as flaky*) and the first of a rerun one (later tries are rerun*).
            own = _attempt(
                outcome=case.outcome,
                message=own_message,
                details="\n\n".join(own_details),
                duration=None if rerun_log else case.duration,
                output="\n".join(output),
                error_output="\n".join(errors),
            )
            case.attempt_log = [*flaky_log, own, *rerun_log]
            for attempt in (*flaky_log, *rerun_log):
                if attempt["output"]:
                    output.append(attempt["output"])
                if attempt["error_output"]:
                    errors.append(attempt["error_output"])
        if rerun_log and case.outcome != SKIPPED:
            # Surefire writes the first failure as <failure> and later ones as rerun*.
            case.outcome = last_rerun
        if flaky_log and case.outcome == PASSED:
            case.flaky = True
        case.attempts = 1 + len(flaky_log) + len(rerun_log)
        if details:
            case.details = "\n\n".join(details)
        if output:
            case.output = "\n".join(output)
            case.attachments.extend(attachments_in(case.output))
        if errors:
            case.error_output = "\n".join(errors)
            case.attachments.extend(attachments_in(case.error_output))

    @staticmethod
    def _read_attempt(
        attempt: etree._Element,
        fix: Callable[[str], str],
        details: list[str],
        case: ParsedCase,
        kinds: dict[str, str],
    ) -> dict:
        """Read a Surefire flaky*/rerun* element: message, stackTrace and its own output."""
        message = fix(attempt.get("message") or "")
        trace = ""
        out: list[str] = []
        err: list[str] = []
        for part in attempt:
            if part.tag == "stackTrace":
                trace = fix(part.text or "")
            elif (part.tag == "system-out" or part.tag == "system-err") and part.text:
                (out if part.tag == "system-out" else err).append(fix(part.text))
        trace = trace or fix(attempt.text or "")
        shown = (
            display_message(message)
            or display_message(trace)
            or display_message(attempt.get("type") or "")
        )
        if not case.message:
            case.message = shown
        text = trace if trace.strip() else message
        if text.strip():
            details.append(text)
        time = attempt.get("time")
        try:
            duration: float | None = float(time) if time is not None else None
        except ValueError:
            duration = None
        return _attempt(
            outcome=kinds[str(attempt.tag)],
            message=shown,
            details=text,
            duration=duration,
            output="\n".join(out),
            error_output="\n".join(err),
        )

    def _fold(self, case: ParsedCase) -> None:
        """Add a case, folding a repeat of an earlier test into it when it is a rerun.

        Rerunners (gotestsum --rerun-fails, TestNG retry, pytest-rerunfailures) repeat a
        test only after it failed, so a repeat is a rerun when the test's latest result is
        failed or error. A repeat after a pass or skip is a distinct test that shares its
        title (TestNG data providers, jest test.each, mocha duplicates) and gets " #n".
        """
        base = case.key
        index = self._latest.get(base)
        if index is None:
            self._latest[base] = len(self._cases)
            self._distinct[base] = 1
            self._cases.append(case)
            return
        earlier = self._cases[index]
        if earlier.outcome == FAILED or earlier.outcome == ERROR:
            merge_rerun(earlier, case)
            return
        count = self._distinct[base] + 1
        self._distinct[base] = count
        case.key = numbered_key(base, count)
        self._latest[base] = len(self._cases)
        self._cases.append(case)

    def _drop_done(self, elem: etree._Element) -> None:
        """Delete finished siblings before ``elem`` so memory stays flat on huge reports."""
        parent = elem.getparent()
        if parent is None:
            return
        while parent[0] is not elem:
            done = parent[0]
            if done.tag != "testcase" and done.tag != "testsuite":
                self._harvest(done)
            del parent[0]

    def _harvest_children(self, elem: etree._Element) -> None:
        for child in elem:
            if child.tag != "testcase" and child.tag != "testsuite":
                self._harvest(child)

    def _harvest(self, node: etree._Element) -> None:
        """Keep suite-level properties and output before their element is deleted."""
        fix = restore_controls if self._stream.remapped else _keep
        if node.tag == "properties":
            _read_properties(node, self._info.properties, fix)
        elif node.tag in ("system-out", "system-err") and node.text and node.text.strip():
            self._info.output.append(fix(node.text))

    def _warn(self, warning: str) -> None:
        if len(self._info.warnings) < WARNINGS_MAX:
            self._info.warnings.append(warning)
        else:
            self._info.warnings_dropped += 1

    def _report(self) -> ParsedReport:
        info = self._info
        warnings = list(info.warnings)
        if info.warnings_dropped:
            warnings.append(f"... and {info.warnings_dropped} more warnings like these")
        if info.root_time is not None:
            duration = info.root_time
        elif info.top_level_time:
            duration = info.top_level_time
        else:
            duration = self._case_seconds
        return ParsedReport(
            cases=self._cases,
            suites=list(dict.fromkeys(map(self._fix, info.suites))),
            started_at=info.started_at,
            duration=duration,
            output="\n".join(info.output),
            warnings=warnings,
            properties=info.properties,
        )


def _read_properties(
    node: etree._Element,
    into: dict[str, str],
    fix: Callable[[str], str],
    attachments: list[str] | None = None,
) -> None:
    for prop in node:
        if prop.tag == "property" and (name := prop.get("name")):
            value = prop.get("value")
            into[name] = fix(value if value is not None else (prop.text or ""))
            if attachments is not None and is_attachment_property(name) and into[name].strip():
                attachments.append(into[name].strip())


# Property names that name a file: Testmo's "attachment" (repeatable), Bitrise's
# "attachment_1", "attachment_2"..., and the "attachment:<label>" / "attachment.<label>" forms.
_ATTACHMENT_PROPERTY = re.compile(r"attachments?(?:[_:.\-].*)?", re.IGNORECASE | re.DOTALL)


def is_attachment_property(name: str) -> bool:
    """Does a <property name=...> name an attached file?"""
    return _ATTACHMENT_PROPERTY.fullmatch(name.strip()) is not None


# An attempt's texts are kept whole in the result's details and output; the log keeps this much.
ATTEMPT_TEXT_MAX = 20_000


def _cut(text: str) -> str:
    if len(text) <= ATTEMPT_TEXT_MAX:
        return text
    return (
        text[:ATTEMPT_TEXT_MAX] + "\n… (cut here: the result's details and output hold all of it)"
    )


def _attempt(
    *,
    outcome: str,
    message: str,
    details: str,
    duration: float | None,
    output: str,
    error_output: str,
) -> dict:
    return {
        "outcome": outcome,
        "message": message,
        "details": _cut(details),
        "duration": duration,
        "output": _cut(output),
        "error_output": _cut(error_output),
    }


def attempt_of(case: ParsedCase) -> dict:
    """A case that ran once, as one entry of an attempt log."""
    return _attempt(
        outcome=case.outcome,
        message=case.message,
        details=case.details,
        duration=case.duration,
        output=case.output,
        error_output=case.error_output,
    )


def attempts_join(earlier: ParsedCase, later: ParsedCase) -> list[dict]:
    """The attempt log of `later` run again after `earlier`."""
    return [
        *(earlier.attempt_log or [attempt_of(earlier)]),
        *(later.attempt_log or [attempt_of(later)]),
    ]


def _scope(suite: str, classname: str, file: str) -> str:
    """Return the part of a test's key before ``::``; the key is ``"<scope>::<name>"``.

    The scope is the classname (or the file when there is none, or the suite when there is
    neither), prefixed with the suite unless one contains the other (Surefire, Go and
    PHPUnit name suites after the class): jest reuses describe titles across files, so the
    classname alone would merge distinct tests. Whitespace is collapsed in all parts;
    parameter ids and subtest or title paths stay in the name, so they stay distinct.
    """
    scope = _collapse(classname or file)
    if not scope:
        return suite
    if suite and not (scope.startswith(suite) or suite.startswith(scope)):
        return f"{suite}{_SCOPE_SEPARATOR}{scope}"
    return scope


def case_key(*, classname: str, name: str, file: str = "", suite: str = "") -> str:
    """The key the parser gives a test case with these attributes inside a <testsuite> named
    `suite` (for results that arrive without a report, such as a live run's)."""
    return _cap_key(f"{_scope(_collapse(suite), classname, file)}::{_collapse(name)}")


def key_suite(*, key: str, classname: str, name: str) -> str | None:
    """The <testsuite> name that `key`, a key the parser made for a test with this classname
    and name, was made with ("" when the key does not include one); None when the key cannot
    tell (no classname, or the key was numbered or cut)."""
    tail, scope_of_class = f"::{_collapse(name)}", _collapse(classname)
    if not scope_of_class or not key.endswith(tail):
        return None
    scope = key[: -len(tail)]
    if scope == scope_of_class:
        return ""
    separator = f"{_SCOPE_SEPARATOR}{scope_of_class}"
    return scope[: -len(separator)] if scope.endswith(separator) else None


def numbered_key(base: str, count: int) -> str:
    """The key of the `count`-th distinct test titled like `base` in one report."""
    return _cap_key(f"{base} #{count}")


def _cap_key(key: str) -> str:
    # Keys are stored in an indexed column; a hash keeps long keys distinct when cut.
    if len(key) <= KEY_MAX_CHARS:
        return key
    digest = hashlib.sha1(key.encode("utf-8"), usedforsecurity=False).hexdigest()
    return f"{key[: KEY_MAX_CHARS - 41]}#{digest}"


def merge_rerun(earlier: ParsedCase, rerun: ParsedCase) -> None:
    """Fold a rerun into the result it repeats: last outcome, summed time, all attempts."""
    earlier.attempt_log = attempts_join(earlier, rerun)
    if rerun.outcome == PASSED and earlier.outcome in (FAILED, ERROR):
        earlier.flaky = True
    earlier.flaky = earlier.flaky or rerun.flaky
    earlier.outcome = rerun.outcome
    earlier.attempts += rerun.attempts
    earlier.duration += rerun.duration
    earlier.message = rerun.message or earlier.message
    earlier.details = "\n\n".join(part for part in (earlier.details, rerun.details) if part)
    earlier.output = "\n".join(part for part in (earlier.output, rerun.output) if part)
    earlier.error_output = "\n".join(
        part for part in (earlier.error_output, rerun.error_output) if part
    )
    earlier.properties.update(rerun.properties)
    earlier.attachments.extend(rerun.attachments)
