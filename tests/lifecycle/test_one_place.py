"""Status writes of deploys, runs and loops happen only in runs/lifecycle/."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("runs", "analyses", "dashboard", "demo", "health", "reports", "engine")
MODELS = ("Deploy", "TestRun", "Loop")


def _status_writes(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr != "update" or not any(k.arg == "status" for k in node.keywords):
            continue
        receiver = ast.unparse(node.func.value)
        if receiver.startswith(MODELS) or ".runs." in receiver or ".deploys." in receiver:
            found.append(f"{path.relative_to(root)}:{node.lineno}: {receiver}.update(status=…)")
    return found


def test_no_status_update_outside_the_lifecycle_modules():
    writes = [
        write
        for app in APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.parts and "lifecycle" not in path.parts
        for write in _status_writes(path)
    ]
    assert writes == []


def test_the_check_finds_a_status_write(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("Deploy.objects.filter(pk=1).update(status='lost')\nx.update(status=1)\n")
    assert _status_writes(sample, tmp_path) == [
        "sample.py:1: Deploy.objects.filter(pk=1).update(status=…)"
    ]
