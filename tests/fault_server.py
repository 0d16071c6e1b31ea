"""A scripted HTTP server on loopback that hangs, resets, redirects, lies and answers garbage on cue.

Fault tests talk to it over real sockets: the script decides, request by request, what the
server does, and every request is recorded for the test to count and inspect.

    with FaultServer(lambda seen: Reply(200, b"token") if seen.path.startswith("/login") else Hang()) as server:
        ...  # a client pointed at server.url
    assert server.count("/login") == 1
"""

from __future__ import annotations

import http.server
import socket
import struct
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

__all__ = ["FaultServer", "Garbage", "Hang", "Reply", "Reset", "Seen", "serving"]

HANG_BOUND_SECONDS = 30.0
"""A hung connection is released when the server stops, and at the latest after this long."""


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    """The request target: path and query string."""
    headers: Mapping[str, str]
    """Header names in lower case."""
    body: bytes


@dataclass(frozen=True)
class Reply:
    """Answer with this status, body and headers (Content-Length is added)."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict[str, str])


@dataclass(frozen=True)
class Hang:
    """Read the request and never answer (until the server stops)."""


@dataclass(frozen=True)
class Reset:
    """Close the connection with a TCP reset instead of an answer."""


@dataclass(frozen=True)
class Garbage:
    """Write these bytes instead of an HTTP response, then close."""

    data: bytes = b"\x00\xffnot http at all\r\n\r\n"


Action = Reply | Hang | Reset | Garbage
Script = Callable[[Seen], Action]


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so pooled connections are pooled for real
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads ``requests`` instead."""

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        seen = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        action = self.server.record(seen)
        if isinstance(action, Reply):
            self.send_response(action.status)
            for name, value in action.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(action.body)))
            self.end_headers()
            self.wfile.write(action.body)
        elif isinstance(action, Hang):
            self.server.released.wait(HANG_BOUND_SECONDS)
            self.close_connection = True
        elif isinstance(action, Reset):
            # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
        else:
            self.wfile.write(action.data)
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, script: Script) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script = script
        self.released = threading.Event()
        self.lock = threading.Lock()
        self.requests: list[Seen] = []

    def record(self, seen: Seen) -> Action:
        with self.lock:
            self.requests.append(seen)
            script = self.script
        return script(seen)


class FaultServer:
    """A loopback HTTP server whose every answer comes from ``script``; a context manager that starts and stops it."""

    def __init__(self, script: Script) -> None:
        self._server = _Server(script)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-server", daemon=True)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def requests(self) -> list[Seen]:
        """Every request received so far, in order."""
        with self._server.lock:
            return list(self._server.requests)

    def count(self, path_prefix: str = "/") -> int:
        """How many requests had a target starting with ``path_prefix``."""
        return sum(1 for seen in self.requests if seen.path.startswith(path_prefix))

    def script(self, script: Script) -> None:
        """Answer from now on as ``script`` says."""
        with self._server.lock:
            self._server.script = script

    def release(self) -> None:
        """Let every hung connection go (they close without an answer)."""
        self._server.released.set()

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=HANG_BOUND_SECONDS)


@contextmanager
def serving(script: Script) -> Iterator[FaultServer]:
    """A started :class:`FaultServer` (a fixture-friendly spelling of ``with FaultServer(script)``)."""
    with FaultServer(script) as server:
        yield server
