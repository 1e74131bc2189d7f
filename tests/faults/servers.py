"""Private servers for fault tests: a Redis and a PostgreSQL of the test's own, on free ports.

A fault test stops and starts these, never the machine's shared PostgreSQL (5432) or Redis
(6379). Each server lives in a temporary folder and is stopped (and its folder removed) when its
fixture ends, whatever the test did to it.

PostgreSQL refuses to run as root. When the tests run as root (as in the CI container), initdb,
pg_ctl and the server run as the ``postgres`` system user through ``runuser`` (the folder is
handed to that user); otherwise they run as the current user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

# Under CI both binaries are installed: a missing one must fail there, never skip silently.
REQUIRE = os.environ.get("STAGELOOP_REQUIRE_SERVICES") == "1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _missing(what: str) -> None:
    message = f"{what} is not installed on this machine; the fault tests need their own server"
    if REQUIRE:
        pytest.fail(message)
    pytest.skip(message)


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


class RedisServer:
    """``redis-server --port N --save '' --appendonly no``: nothing survives a stop."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        assert not self.running, "this Redis is already running"
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while not _answers(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop this Redis (and only it); connections to its port are refused until start()."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def _postgres_bin(name: str) -> str | None:
    found = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(Path(p).parts[4]) if Path(p).parts[4].isdigit() else 0,
    )
    return found[-1] if found else shutil.which(name)


class PostgresServer:
    """A throwaway cluster (initdb, trust auth, TCP on 127.0.0.1 only) started with pg_ctl."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="stageloop-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.user: str | None = None
        if os.geteuid() == 0:  # initdb refuses root: run the cluster as the postgres user
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                _missing("a 'postgres' system user (needed to run PostgreSQL as root)")
            self.user = "postgres"
            shutil.chown(self.dir, user="postgres")
        self.running = False

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        return subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False, cwd=self.dir
        )

    def init(self) -> None:
        result = self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"
        )
        if result.returncode:
            raise RuntimeError(f"initdb failed:\n{result.stdout}\n{result.stderr}")

    def url(self, db: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.dir} -c fsync=off -c max_connections=50"
        )
        result = self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        if result.returncode:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"pg_ctl start failed:\n{result.stdout}\n{result.stderr}\n{log}")
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        """Stop this cluster: ``fast`` ends open connections, ``immediate`` is a crash."""
        if not self.running:
            return
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")
        self.running = False

    def createdb(self, name: str) -> str:
        result = self._run(
            "createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name
        )
        if result.returncode:
            raise RuntimeError(f"createdb failed: {result.stderr}")
        return self.url(name)

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def private_redis():
    """A Redis of this test's own, running; ``.stop()``/``.start()`` it at will (same port)."""
    binary = shutil.which("redis-server")
    if binary is None:
        _missing("redis-server")
    server = RedisServer(binary)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def private_postgres():
    """A PostgreSQL cluster of this test's own, running; ``.stop()``/``.start()`` it at will."""
    initdb = _postgres_bin("initdb")
    if initdb is None:
        _missing("PostgreSQL's initdb")
    server = PostgresServer(Path(initdb).parent)
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.remove()
