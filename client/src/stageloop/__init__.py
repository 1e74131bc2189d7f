"""The Stageloop client: the `stageloop` CLI and a pytest plugin. It talks to the server's API
with httpx only and never imports the server.

The package itself is the pytest plugin's entry point, so `-p stageloop` loads it whether the
package is installed or only on the path; the hooks below import pytest only inside pytest.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def pytest_addoption(parser: Any) -> None:
    from stageloop.plugin import addoption

    addoption(parser)


def pytest_configure(config: Any) -> None:
    from stageloop.plugin import configure

    configure(config)
