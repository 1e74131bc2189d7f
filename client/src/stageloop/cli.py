"""The `stageloop` command: upload, run, verdict and quarantine."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from stageloop import __version__
from stageloop.api import (
    EXIT_AUTH,
    EXIT_FAILED,
    EXIT_INCONCLUSIVE,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_TIMEOUT,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    Api,
    ClientError,
    Refused,
    Settings,
    Unreachable,
    say,
    settings_from,
)
from stageloop.pack import pack

EXIT_CODES = f"""\
exit codes:
  {EXIT_OK}   success; run: no blocking failure; verdict: pass
  {EXIT_FAILED}   run: a blocking failure (failed or errored, not quarantined), or no report;
      verdict: fail (or the release was refused, rolled back or failed)
  {EXIT_INCONCLUSIVE}   verdict: inconclusive
  {EXIT_TIMEOUT}   verdict --wait: no final verdict before --timeout
  {EXIT_REFUSED}   the server refused the request (unknown service or suite, invalid report...)
  {EXIT_AUTH}   no token, a wrong or revoked token, or a role that may not do this
  {EXIT_UNREACHABLE}   the server could not be reached (after retries); for run, see --offline
  {EXIT_USAGE}  wrong arguments
  run also exits with the command's own code when it wrote no report, and under --offline=suite.

environment: STAGELOOP_URL, STAGELOOP_TOKEN, STAGELOOP_RETRIES (flags override them).
"""

FINAL_RELEASES = ("", "promoted", "refused", "rolled_back", "failed")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        self.print_usage(sys.stderr)
        say(message)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--url", help="the Stageloop server (default: $STAGELOOP_URL)")
    common.add_argument("--token", help="an API token (default: $STAGELOOP_TOKEN)")
    common.add_argument(
        "--retries",
        type=int,
        help="retries on connection errors and 5xx, with backoff (default 4, $STAGELOOP_RETRIES)",
    )
    where = _Parser(add_help=False)
    where.add_argument("--service", required=True, help="the service's name in Stageloop")
    where.add_argument("--suite", required=True, help="the suite's name")

    parser = _Parser(
        prog="stageloop",
        description="Push test results to Stageloop and let its answer set the exit code.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"stageloop {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    upload = commands.add_parser(
        "upload",
        parents=[common, where],
        help="upload JUnit XML reports as one run",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    upload.add_argument("files", nargs="+", type=Path, metavar="FILE")
    upload.add_argument(
        "--attachments",
        action="store_true",
        help="also send the files the reports attach ([[ATTACHMENT|path]] lines, attachment "
        "properties) from each report's folder, packed with the reports in one .tar.gz",
    )
    _run_fields(upload)

    run = commands.add_parser(
        "run",
        parents=[common, where],
        help="run the suite's command, upload its report, exit on the server's count",
        usage="stageloop run --service S --suite N [options] -- COMMAND...",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _run_fields(run)
    run.add_argument(
        "--junit",
        type=Path,
        help="the JUnit XML report the command writes (pytest: added as --junitxml when missing)",
    )
    run.add_argument(
        "--offline",
        choices=("suite", "pass", "fail"),
        default="suite",
        help="when the server cannot be reached: the command's own exit code (suite, the "
        f"default), 0 (pass) or {EXIT_UNREACHABLE} (fail); each says so on stderr",
    )
    run.add_argument(
        "--no-live",
        action="store_true",
        help="do not stream results while pytest runs; upload the report at the end",
    )
    run.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- COMMAND")

    verdict = commands.add_parser(
        "verdict",
        parents=[common],
        help="the release gate's verdict of a revision as an exit code",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verdict.add_argument("--service", required=True)
    verdict.add_argument("--revision", required=True)
    verdict.add_argument(
        "--wait",
        action="store_true",
        help="poll until there is a verdict and the release is no longer testing or canary",
    )
    verdict.add_argument("--timeout", type=float, default=900.0, help="seconds (default 900)")
    verdict.add_argument("--interval", type=float, default=3.0, help=argparse.SUPPRESS)

    quarantine = commands.add_parser(
        "quarantine",
        help="list, quarantine, disable or release tests of a suite",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = quarantine.add_subparsers(dest="action", required=True, parser_class=_Parser)
    listing = actions.add_parser("list", parents=[common, where], help="tests not active")
    listing.add_argument("--state", choices=("quarantined", "disabled"), help="only this state")
    for name, text in (
        ("add", "quarantine a test: it runs, its failure does not fail the build"),
        ("disable", "disable a test: the pytest plugin skips it"),
        ("remove", "make a test active again"),
    ):
        action = actions.add_parser(name, parents=[common, where], help=text)
        action.add_argument(
            "test",
            metavar="TEST",
            help="CLASSNAME::NAME as in the JUnit report, or a pytest node id",
        )
        action.add_argument("--reason", default="", help="why (shown on the test's page)")
        if name != "remove":
            action.add_argument("--expires", default=None, help="ISO date-time it ends")
    return parser


def _run_fields(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--revision", default="", help="the revision tested")
    parser.add_argument("--commit", default="", help="its commit")
    parser.add_argument(
        "--create", action="store_true", help="create the suite or revision if it is unknown"
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = {
        "upload": cmd_upload,
        "run": cmd_run,
        "verdict": cmd_verdict,
        "quarantine": cmd_quarantine,
    }[args.command]
    try:
        return handler(args)
    except ClientError as exc:
        say(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        say("interrupted.")
        return 130


def _api(args: argparse.Namespace, *, progress: bool = False) -> Api:
    settings = settings_from(url=args.url, token=args.token, retries=args.retries)
    return Api(settings, progress=sys.stderr if progress else None)


def _upload(args: argparse.Namespace, files: list[Path]) -> dict[str, Any]:
    for file in files:
        if not file.is_file():
            raise Refused(f"{file} is not a file: give the JUnit XML reports to upload.")
    data = {"service": args.service, "suite": args.suite}
    if args.revision:
        data["revision"] = args.revision
    if args.commit:
        data["commit"] = args.commit
    if args.create:
        data["create"] = "true"
    if getattr(args, "attachments", False):
        with tempfile.TemporaryDirectory(prefix="stageloop-pack-") as scratch:
            packed, skipped = pack(files, Path(scratch) / "reports.tar.gz")
            for sentence in skipped:
                say(f"warning: {sentence}")
            with _api(args, progress=True) as api:
                return api.upload("/runs", [packed], data)
    with _api(args, progress=True) as api:
        return api.upload("/runs", files, data)


def counts_line(answer: dict[str, Any]) -> str:
    """'34 passed, 1 quarantined failure (not counted), 2 failed' from a run's answer."""
    blocking, quarantined = blocking_of(answer)
    parts = [f"{answer.get('passed', 0)} passed"]
    if quarantined:
        plural = "s" if quarantined != 1 else ""
        parts.append(f"{quarantined} quarantined failure{plural} (not counted)")
    for key, label in (("failed", "failed"), ("errors", "errors"), ("skipped", "skipped")):
        count = int(answer.get(key) or 0)
        if key in ("failed", "errors") and quarantined:
            # The server's failed/errors include quarantined ones; show what blocks.
            continue
        if count:
            parts.append(f"{count} {label}")
    if quarantined and blocking:
        parts.append(f"{blocking} blocking failure{'s' if blocking != 1 else ''}")
    if answer.get("flaky"):
        parts.append(f"{answer['flaky']} flaky")
    return ", ".join(parts)


def blocking_of(answer: dict[str, Any]) -> tuple[int, int]:
    """(blocking failures, quarantined failures); an older server's answer lacks both."""
    failed = int(answer.get("failed") or 0) + int(answer.get("errors") or 0)
    quarantined = int(answer.get("quarantined_failures") or 0)
    blocking = answer.get("blocking_failures")
    return (failed if blocking is None else int(blocking)), quarantined


def _print_run(answer: dict[str, Any]) -> None:
    seen = "" if answer.get("created", True) else " (already uploaded: the same run)"
    print(f"{counts_line(answer)}; run {answer.get('id')}{seen}: {answer.get('url')}", flush=True)
    for warning in answer.get("warnings") or []:
        say(f"warning: {warning}")


def cmd_upload(args: argparse.Namespace) -> int:
    answer = _upload(args, args.files)
    _print_run(answer)
    return EXIT_OK


PYTEST_NAMES = ("pytest", "py.test")


def is_pytest(cmd: list[str]) -> bool:
    first = Path(cmd[0]).name
    if first in PYTEST_NAMES:
        return True
    return first.startswith("python") and cmd[1:3] == ["-m", "pytest"]


def _junitxml_in(cmd: list[str]) -> Path | None:
    for i, arg in enumerate(cmd):
        if arg.startswith(("--junitxml=", "--junit-xml=")):
            return Path(arg.split("=", 1)[1])
        if arg in ("--junitxml", "--junit-xml") and i + 1 < len(cmd):
            return Path(cmd[i + 1])
    return None


def cmd_run(args: argparse.Namespace) -> int:
    cmd = list(args.cmd)
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        say("give the suite's command after --, e.g. stageloop run ... -- pytest tests/")
        return EXIT_USAGE
    # Settings first: a missing URL is a usage problem found before the suite runs for an hour.
    settings = settings_from(url=args.url, token=args.token, retries=args.retries)
    pytest_cmd = is_pytest(cmd)
    if not pytest_cmd and args.junit is None:
        say(
            "say where the command writes its JUnit XML report with --junit PATH "
            "(only pytest commands get one added)."
        )
        return EXIT_USAGE
    env = dict(os.environ)
    env.update(
        STAGELOOP_URL=settings.url,
        STAGELOOP_TOKEN=settings.token,
        STAGELOOP_SERVICE=args.service,
        STAGELOOP_SUITE=args.suite,
    )
    live = _live_open(args, settings) if pytest_cmd and not args.no_live else None
    if live is not None:
        env["STAGELOOP_RUN_ID"] = str(live["id"])
        say(f"live run {live['id']}: {live['url']}")
    with tempfile.TemporaryDirectory(prefix="stageloop-") as tmp:
        report = args.junit
        if pytest_cmd:
            report = report or _junitxml_in(cmd)
            if report is None:
                report = Path(tmp) / "junit.xml"
                cmd.append(f"--junitxml={report}")
            if not any(a in ("no:stageloop", "-pno:stageloop") for a in cmd):
                cmd[len(cmd) :] = ["-p", "stageloop"]
        assert report is not None
        before = _mtime(report)
        try:
            code = subprocess.call(cmd, env=env)
        except OSError as exc:
            code, report = 127, None
            say(f"could not start {cmd[0]}: {exc.strerror or exc}.")
        if report is None or _mtime(report) in (None, before):
            said = f"the command exited with {code} and wrote no report"
            say(f"{said} at {report}; nothing was uploaded." if report else f"{said}.")
            if live is not None:
                _live_abandon(args, live["id"], said)
            return code or EXIT_FAILED
        try:
            if live is not None:
                answer = _live_finish(args, live["id"], report)
            else:
                answer = _upload(args, [report])
        except Unreachable as exc:
            return _offline(args.offline, code, str(exc))
    _print_run(answer)
    blocking, _quarantined = blocking_of(answer)
    if pytest_cmd and code in (2, 3, 4):
        say(f"pytest exited with {code} (interrupted, internal error or usage error): failing.")
        return code
    if not answer.get("total"):
        say("the report has no tests: nothing ran, which is not a pass.")
        return EXIT_FAILED
    return EXIT_OK if blocking == 0 else EXIT_FAILED


def _live_open(args: argparse.Namespace, settings: Settings) -> dict[str, Any] | None:
    """Open a live run the plugin streams into; None when the server has no live runs or
    cannot be reached now (the report is uploaded at the end instead). An unknown suite or a
    bad token is refused here, before the suite runs."""
    body = {
        "service": args.service,
        "suite": args.suite,
        "revision": args.revision,
        "commit": args.commit,
        "create": args.create,
    }
    # Opening should not hold the suite up: one retry, then run without live progress.
    quick = Settings(settings.url, settings.token, retries=min(settings.retries, 1), timeout=10)
    try:
        with Api(quick) as api:
            answer: dict[str, Any] = api.post("/runs/live", body)
            return answer
    except Unreachable as exc:
        say(f"{exc} Running the suite; its report is uploaded at the end.")
    except Refused as exc:
        if exc.status not in (404, 405):
            raise
    return None


def _live_finish(args: argparse.Namespace, run_id: int, report: Path) -> dict[str, Any]:
    with _api(args, progress=True) as api:
        try:
            answer: dict[str, Any] = api.upload(f"/runs/{run_id}/finish", [report], {})
        except Refused as exc:
            if exc.status != 409:
                raise
            # A retried finish whose first try was applied: the run has ended; read it.
            answer = api.get(f"/runs/{run_id}")
        return answer


def _live_abandon(args: argparse.Namespace, run_id: int, said: str) -> None:
    """End the live run in error, saying why; best effort (the lease ends it anyway)."""
    try:
        with _api(args) as api:
            api.upload_form(f"/runs/{run_id}/finish", {"error": f"{said[0].upper()}{said[1:]}."})
    except ClientError as exc:
        say(f"could not end live run {run_id}: {exc}")


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def _offline(policy: str, code: int, problem: str) -> int:
    if policy == "pass":
        say(f"{problem} Nothing was uploaded; --offline=pass: exiting 0.")
        return EXIT_OK
    if policy == "fail":
        say(f"{problem} Nothing was uploaded; --offline=fail: exiting {EXIT_UNREACHABLE}.")
        return EXIT_UNREACHABLE
    say(f"{problem} Nothing was uploaded; exiting with the suite's own code, {code}.")
    return code


def cmd_verdict(args: argparse.Namespace) -> int:
    path = f"/services/{_seg(args.service)}/revisions/{_seg(args.revision)}/verdict"
    deadline = time.monotonic() + args.timeout
    told = ""
    with _api(args) as api:
        while True:
            try:
                verdict = api.get(path)
            except Refused as exc:
                if not args.wait or exc.status != 404:
                    raise
                verdict = None
                if str(exc) != told:
                    told = str(exc)
                    say(f"{told} Waiting.")
            if verdict is not None:
                release = verdict.get("release") or ""
                if not args.wait or release in FINAL_RELEASES:
                    return _verdict_exit(verdict)
                if told != release:
                    told = release
                    say(f"verdict {verdict.get('outcome')}, release {release}: waiting.")
            if time.monotonic() + args.interval > deadline:
                say(f"no final verdict for {args.revision} after {args.timeout:g} s.")
                return EXIT_TIMEOUT
            time.sleep(args.interval)


def _verdict_exit(verdict: dict[str, Any]) -> int:
    outcome = verdict.get("outcome", "")
    release = verdict.get("release") or ""
    shown = f" (release: {release})" if release else ""
    print(f"{outcome}{shown}: {verdict.get('summary', '')} {verdict.get('revision_url', '')}")
    if release in ("refused", "rolled_back", "failed"):
        return EXIT_FAILED
    return {"pass": EXIT_OK, "fail": EXIT_FAILED}.get(outcome, EXIT_INCONCLUSIVE)


def _seg(text: str) -> str:
    return quote(text, safe="")


def split_test(test: str) -> tuple[str, str]:
    """(classname, name) from CLASSNAME::NAME, or from a pytest node id as junitxml names it."""
    if ".py::" in test:
        path, _, rest = test.partition("::")
        names = rest.split("::")
        module = path.replace("/", ".").removesuffix(".py")
        return ".".join([module, *names[:-1]]), names[-1]
    classname, sep, name = test.rpartition("::")
    if not sep or not name:
        raise Refused(f"Name the test as CLASSNAME::NAME (as in its JUnit report), not {test!r}.")
    return classname, name


def cmd_quarantine(args: argparse.Namespace) -> int:
    base = f"/services/{_seg(args.service)}/suites/{_seg(args.suite)}/tests"
    with _api(args) as api:
        if args.action == "list":
            params = {"state": args.state} if args.state else {}
            answer = api.get(f"{base}/states", **params)
            for test in answer.get("tests", []):
                expires = f" until {test['expires_at']}" if test.get("expires_at") else ""
                by = f" by {test['by']}" if test.get("by") else ""
                reason = f": {test['reason']}" if test.get("reason") else ""
                print(
                    f"{test['state']:<12} {test['classname']}::{test['name']}{by}{expires}{reason}"
                )
            return EXIT_OK
        classname, name = split_test(args.test)
        state = {"add": "quarantined", "disable": "disabled", "remove": "active"}[args.action]
        body = {
            "classname": classname,
            "name": name,
            "state": state,
            "reason": args.reason,
            "expires_at": getattr(args, "expires", None),
        }
        answer = api.put(f"{base}/state", body)
        print(f"{classname}::{name} is now {answer.get('state', state)}.")
        return EXIT_OK
