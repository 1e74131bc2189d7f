"""Hand-built histories for the gate: a suite of four tests and three revisions an hour apart."""

from __future__ import annotations

from tests.pages.conftest import at, cases, make_run, revisions, suite  # noqa: F401

__all__ = ["make_run"]
