"""The target registry: which class a service's ``target_kind`` names.

The one module that knows every target. The targets import ``engine.deploy.base`` and never this
module, so the arrows point one way: registry → targets → base.
"""

from __future__ import annotations

from typing import Any

from engine.deploy.base import DeployError, DeployTarget
from engine.deploy.command import CommandTarget
from engine.deploy.local import LocalTarget


def get_target(kind: str, config: dict[str, Any]) -> DeployTarget:
    """Build the deploy target ``kind`` ('local', 'cloudrun' or 'command') from ``config``."""
    if kind == "local":
        return LocalTarget(config)
    if kind == "command":
        return CommandTarget(config)
    if kind == "cloudrun":
        # Not a cycle guard: the Cloud Run client costs seconds and ~40 MB to import, which only
        # a process that deploys to Cloud Run should pay (not every web worker and test run).
        from engine.deploy.cloudrun import CloudRunTarget

        return CloudRunTarget(config)
    raise DeployError(
        f"unknown deploy target {kind!r}: choose 'local', 'cloudrun' or 'command' "
        "in the service's settings"
    )
