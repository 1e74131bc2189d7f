"""Histories for the quarantine tests: the page tests' helpers, reused."""

from tests.pages.conftest import at, cases, make_run, revisions, suite  # noqa: F401
