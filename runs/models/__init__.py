"""The loop as data: services, revisions, deploys, suites, runs, results and loops."""

from runs.models.gates import GatePolicy, Verdict
from runs.models.loops import Loop, LoopIteration
from runs.models.outbox import Outbox
from runs.models.owners import OwnerRule
from runs.models.read_models import (
    CaseBehind,
    CaseFlakeWindow,
    CaseLatest,
    SuiteRecentTables,
    SuiteTreeNode,
)
from runs.models.retention import RetentionPass, RetentionPolicy
from runs.models.schedules import ScheduleSkip
from runs.models.services import Build, Deploy, Revision, Service
from runs.models.states import QuarantinePolicy, State, TestState, TestStateChange
from runs.models.testing import (
    FailureSignature,
    Suite,
    TestAttachment,
    TestCase,
    TestResult,
    TestRun,
    TestRunArtifact,
    Triage,
    TriageChange,
)
from runs.models.tokens import ApiToken

__all__ = [
    "ApiToken",
    "Build",
    "CaseBehind",
    "CaseFlakeWindow",
    "CaseLatest",
    "Deploy",
    "FailureSignature",
    "GatePolicy",
    "Loop",
    "LoopIteration",
    "Outbox",
    "OwnerRule",
    "QuarantinePolicy",
    "RetentionPass",
    "RetentionPolicy",
    "Revision",
    "ScheduleSkip",
    "Service",
    "State",
    "Suite",
    "SuiteRecentTables",
    "SuiteTreeNode",
    "TestAttachment",
    "TestCase",
    "TestResult",
    "TestRun",
    "TestRunArtifact",
    "TestState",
    "TestStateChange",
    "Triage",
    "TriageChange",
    "Verdict",
]
