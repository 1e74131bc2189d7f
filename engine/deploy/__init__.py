"""Deploy targets: where a revision of a service goes live (local process, Cloud Run, a command).

Pure Python with no Django import; ``runs.services`` drives them with plain config and callbacks.
"""

from engine.deploy.base import (
    DeployError,
    DeployRequest,
    DeployTarget,
    RevisionInfo,
    make_revision_name,
    split_text,
)
from engine.deploy.registry import get_target

__all__ = [
    "DeployError",
    "DeployRequest",
    "DeployTarget",
    "RevisionInfo",
    "get_target",
    "make_revision_name",
    "split_text",
]
