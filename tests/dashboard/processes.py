"""Helpers for tests that start `make run` / `make serve` as a user would, and stop them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ctrl_c(proc: subprocess.Popen, what: str) -> str:
    """Press Ctrl-C on the process group of `proc`, as a terminal does; return all it printed."""
    os.killpg(proc.pid, signal.SIGINT)
    try:
        return proc.communicate(timeout=60)[0].decode(errors="replace")
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output = proc.communicate()[0].decode(errors="replace")
        pytest.fail(f"{what} did not stop on Ctrl-C:\n{output[-3000:]}")
