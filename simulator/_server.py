"""Run an ASGI app under uvicorn on a socket bound here, announcing the URL once it accepts connections.

Binding the socket ourselves is what makes ``--port 0`` useful: the kernel picks a free port,
and the announcement names it. The line is printed (and flushed) only after uvicorn's listener
exists, so whoever reads it can connect at once. SIGINT and SIGTERM stop the server gracefully
and the process exits 0: uvicorn would re-raise the captured signal after shutdown, which makes
the exit status say "killed" for a stop that was asked for.
"""

from __future__ import annotations

import logging
import signal
import socket
import sys
from types import FrameType

import uvicorn
from starlette.types import ASGIApp

__all__ = ["GRACEFUL_SHUTDOWN_SECONDS", "bind", "run", "url"]

GRACEFUL_SHUTDOWN_SECONDS = 5
"""Open requests get this long to finish after a stop signal before their connections are closed."""


def bind(host: str, port: int) -> socket.socket | str:
    """A TCP socket bound to ``host:port`` (not yet listening), or what went wrong."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, IndexError) as err:
        return f"cannot resolve host {host!r}: {err}"
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as err:
        sock.close()
        return f"cannot listen on {host}:{port}: {err.strerror or err}"
    return sock


def url(host: str, sock: socket.socket) -> str:
    """The base URL clients use for ``sock``, spelled with ``host`` as the user gave it."""
    port = int(sock.getsockname()[1])
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}"


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, announcement: str) -> None:
        super().__init__(config)
        self._announcement = announcement

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            print(self._announcement, flush=True)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # Unlike uvicorn's own handler, do not record the signal for re-raising after shutdown.
        del frame
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        else:
            self.should_exit = True


def run(app: ASGIApp, sockets: list[socket.socket], announcement: str) -> None:
    """Serve ``app`` on ``sockets`` until SIGINT/SIGTERM; prints ``announcement`` once accepting."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    for name, level in (("simulator", logging.INFO), ("uvicorn", logging.WARNING)):
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.addHandler(handler)
        logger.propagate = False
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,  # it would print request URLs, and a login URL may carry the password
        lifespan="off",
        server_header=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    try:
        _Server(config, announcement).run(sockets=sockets)
    finally:
        for sock in sockets:
            sock.close()
