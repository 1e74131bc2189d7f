"""The client is a light package: httpx only, never the server, never pytest outside pytest."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib

from tests.client.conftest import CLIENT_SRC, client_env

SERVER_PACKAGES = {"django", "celery", "runs", "engine", "dashboard", "analyses", "health"}


def test_the_cli_imports_neither_django_nor_pytest():
    done = subprocess.run(
        [sys.executable, "-c",
         "import sys, stageloop.cli; print(sorted({'django', 'pytest'} & set(sys.modules)))"],
        env=client_env(), capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert done.stdout.strip() == "[]"


def test_no_module_imports_the_server_and_httpx_is_the_one_dependency():
    for path in (CLIENT_SRC / "stageloop").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                roots = {(node.module or "").split(".")[0]}
            else:
                continue
            assert not roots & SERVER_PACKAGES, f"{path.name} imports {roots & SERVER_PACKAGES}"
    project = tomllib.loads((CLIENT_SRC.parent / "pyproject.toml").read_text())["project"]
    assert [d.split(">")[0] for d in project["dependencies"]] == ["httpx"]
    entry = tomllib.loads((CLIENT_SRC.parent / "pyproject.toml").read_text())
    assert entry["project"]["entry-points"]["pytest11"] == {"stageloop": "stageloop"}
    assert entry["project"]["scripts"] == {"stageloop": "stageloop.cli:main"}
