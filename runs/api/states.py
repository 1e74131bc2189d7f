"""Test states for CI and people: look tests up by name, list a suite's quarantined and disabled
tests, change one, and read a test's history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import field_validator

from runs.api.errors import error_body, error_responses
from runs.api.permissions import require_action
from runs.api.suites import no_suite, suite_by_names
from runs.models import OwnerRule, TestCase, TestState
from runs.selectors.owners import owner_of, owners_by_name, suite_owner_rules
from runs.selectors.states import (
    state_history,
    states_lookup,
    suite_case_by_name,
    suite_states,
)
from runs.services.states import TestStateError, test_state_set

suites_router = Router(tags=["test states"])
tests_router = Router(tags=["test states"])

MAX_LOOKUP = 20_000
EXPIRY_YEARS = (2000, 9999)
OWNER_DOC = (
    "Who owns the test by the suite's owner rules (the last matching rule wins): the user's "
    "username or the team's name; null when no rule matches."
)
OWNER_KIND_DOC = "Whether the owner is a user or a team (a group); null when nobody owns it."
STATES_DOC = (
    "active: runs and counts. quarantined: runs, but its failure is reported as a quarantined "
    "failure that fails neither CI nor the gate. disabled: the client skips it."
)


class TestRef(Schema):
    __test__ = False

    classname: str = Field("", max_length=2000, description="The JUnit classname.")
    name: str = Field(max_length=2000, description="The JUnit test name.")
    file: str = Field(
        "",
        max_length=2000,
        description="The test's file: not used to match, but to find its owner (when empty, the "
        "file of the suite's test of this classname and name is used).",
    )


class LookupIn(Schema):
    tests: list[TestRef] = Field(
        max_length=MAX_LOOKUP, description=f"The tests to look up, at most {MAX_LOOKUP:,}."
    )


class LookedUpOut(Schema):
    classname: str
    name: str
    state: Literal["active", "quarantined", "disabled", "new"] = Field(
        description=STATES_DOC + " new: the suite never ran a test of this classname and name."
    )
    reason: str = Field(description="Why it is quarantined or disabled; empty when active.")
    since: datetime | None = Field(description="When it got this state; null when never set.")
    expires_at: datetime | None = Field(description="When it becomes active again by itself.")
    owner: str | None = Field(description=OWNER_DOC)
    owner_kind: Literal["user", "team"] | None = Field(description=OWNER_KIND_DOC)


class LookupOut(Schema):
    suite: str
    tests: list[LookedUpOut] = Field(description="One per test asked, in the same order.")


class TestStateOut(Schema):
    __test__ = False

    id: int = Field(description="The test's id (for GET /api/v1/tests/{id}/states).")
    classname: str
    name: str
    file: str
    state: Literal["active", "quarantined", "disabled"] = Field(description=STATES_DOC)
    reason: str
    by: str | None = Field(description="Who set it; null when the quarantine policy did.")
    since: datetime | None
    expires_at: datetime | None
    automatic: bool = Field(description="Set by the suite's quarantine policy.")
    url: str = Field(description="The test's page, with its history.")
    owner: str | None = Field(description=OWNER_DOC)
    owner_kind: Literal["user", "team"] | None = Field(description=OWNER_KIND_DOC)


class TestStatesOut(Schema):
    __test__ = False

    suite: str
    tests: list[TestStateOut]


class TestStateIn(Schema):
    __test__ = False

    classname: str = Field("", max_length=2000)
    name: str = Field(max_length=2000)
    state: Literal["active", "quarantined", "disabled"] = Field(description=STATES_DOC)
    reason: str = Field(
        "", max_length=2000, description="Why; required for quarantined and disabled."
    )
    expires_at: datetime | None = Field(
        None,
        description="When a quarantine or disable ends by itself (in the future; a time without "
        "an offset is UTC); null: never.",
    )

    @field_validator("expires_at")
    @classmethod
    def _expiry_in_range(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        try:
            moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        except OverflowError:
            moment = None
        if moment is None or not EXPIRY_YEARS[0] <= moment.year <= EXPIRY_YEARS[1]:
            raise ValueError(
                f"expires_at must fall in the years {EXPIRY_YEARS[0]} to {EXPIRY_YEARS[1]} (UTC)"
            )
        return moment


class ChangeOut(Schema):
    state: str
    reason: str
    by: str | None
    at: datetime
    automatic: bool
    evidence: dict[str, Any] = Field(
        description="For automatic changes: flake_score, flips, retries, seen, threshold, "
        "window and run_ids (the runs it was computed on), or clean_runs and run_ids for a "
        "release, or the expiry that ended a state."
    )


class HistoryOut(Schema):
    test: int
    history: list[ChangeOut] = Field(description="Every change of the test's state, newest first.")


def _owner_out(rule: OwnerRule | None) -> dict:
    if rule is None:
        return {"owner": None, "owner_kind": None}
    return {"owner": rule.owner_label, "owner_kind": rule.owner_kind}


def _state_out(
    request: HttpRequest, case: TestCase, row: TestState | None, rules: list[OwnerRule]
) -> dict:
    held = row is not None and row.effective() != "active"
    owner = owner_of(file=case.file, classname=case.classname, name=case.name, rules=rules)
    return {
        "id": case.pk,
        "classname": case.classname,
        "name": case.name,
        "file": case.file,
        "state": row.state if row is not None and held else "active",
        "reason": row.reason if row is not None and held else "",
        "by": row.by.get_username() if row is not None and held and row.by else None,
        "since": row.since if row is not None else None,
        "expires_at": row.expires_at if row is not None and held else None,
        "automatic": row.automatic if row is not None else False,
        "url": request.build_absolute_uri(case.get_absolute_url()),
        **_owner_out(owner),
    }


@suites_router.post(
    "/{service}/suites/{suite}/tests/lookup",
    response={200: LookupOut, **error_responses(404)},
    summary="The states of tests, by classname and name",
)
def lookup(request: HttpRequest, service: str, suite: str, payload: LookupIn):
    """The state of each test asked for, in the same order: what the pytest plugin fetches once
    at start to skip disabled tests, run quarantined ones without failing, and rerun new ones.
    A test is matched by classname and name within the suite (its JUnit testsuite does not
    matter); `new` when the suite never ran it. Each answer names the test's `owner`. Up to
    20,000 tests (400 above). 404 when the service or suite does not exist. Any role."""
    require_action(request, "read")
    found = suite_by_names(service, suite)
    if found is None:
        return no_suite(service, suite)
    answer = states_lookup(suite=found, tests=[(t.classname, t.name) for t in payload.tests])
    owners = owners_by_name(
        suite_id=found.pk, tests=[(t.classname, t.name, t.file) for t in payload.tests]
    )
    tests = [vars(row) | _owner_out(owner) for row, owner in zip(answer, owners, strict=True)]
    return {"suite": found.name, "tests": tests}


@suites_router.get(
    "/{service}/suites/{suite}/tests/states",
    response={200: TestStatesOut, **error_responses(404)},
    summary="A suite's quarantined and disabled tests",
)
def list_states(
    request: HttpRequest,
    service: str,
    suite: str,
    state: Query[Literal["quarantined", "disabled"] | None] = None,
):
    """The suite's tests that are not active (an expired quarantine or disable is active), by
    classname and name, each with its `owner`; `state` keeps one kind. 404 when the service or
    suite does not exist. Any role."""
    require_action(request, "read")
    found = suite_by_names(service, suite)
    if found is None:
        return no_suite(service, suite)
    rows = suite_states(suite=found, state=state)
    rules = suite_owner_rules(suite_id=found.pk)
    return {
        "suite": found.name,
        "tests": [_state_out(request, row.case, row, rules) for row in rows],
    }


@suites_router.put(
    "/{service}/suites/{suite}/tests/state",
    response={200: TestStateOut, **error_responses(404)},
    summary="Quarantine, disable or make active one test",
)
def set_state(request: HttpRequest, service: str, suite: str, payload: TestStateIn):
    """Set the state of the suite's test with this classname and name, recorded in its history
    with who and why; answers the test's entry as in the list. Quarantined and disabled need a
    `reason` (400 `invalid`, field `reason`, without one); `expires_at`, in the future, ends
    them by itself. 404 when the service, suite or test does not exist. Needs the Operator
    role."""
    require_action(request, "change_test_state")
    found = suite_by_names(service, suite)
    if found is None:
        return no_suite(service, suite)
    case = suite_case_by_name(suite=found, classname=payload.classname, name=payload.name)
    if case is None:
        return Status(
            404,
            error_body(
                f"Suite {found.name} has no test {payload.name!r} of classname "
                f"{payload.classname!r}: it must have run once in this suite.",
                "not_found",
                field="name",
            ),
        )
    try:
        row = test_state_set(
            case=case,
            state=payload.state,
            reason=payload.reason,
            user=request.user,
            expires_at=payload.expires_at,
        )
    except TestStateError as exc:
        return Status(400, error_body(str(exc), "invalid", field=exc.field))
    return _state_out(request, case, row, suite_owner_rules(suite_id=found.pk))


@tests_router.get(
    "/{test_id}/states",
    response={200: HistoryOut, **error_responses(404)},
    summary="A test's state history",
)
def history(request: HttpRequest, test_id: int):
    """Every change of the test's state, newest first: by a person (with `by`) or by the
    suite's quarantine policy (`automatic`, with its evidence). 404 when there is no such test.
    Any role."""
    require_action(request, "read")
    if not TestCase.objects.filter(pk=test_id).exists():
        return Status(
            404, error_body(f"There is no test with id {test_id}: check the id.", "not_found")
        )
    return {
        "test": test_id,
        "history": [
            {
                "state": c.state,
                "reason": c.reason,
                "by": c.by.get_username() if c.by else None,
                "at": c.at,
                "automatic": c.automatic,
                "evidence": c.evidence,
            }
            for c in state_history(case_id=test_id)
        ],
    }
