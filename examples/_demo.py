"""What the example scripts share: a clock moved by hand, the simulator's control API, loud checks.

Not part of any generated client. The examples import it as a sibling module (``python
examples/<name>.py`` puts ``examples/`` first on ``sys.path``).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Generator
from contextlib import contextmanager
from typing import Any, TypeVar, cast

import attrs
import httpx

__all__ = [
    "AuthLog",
    "DemoFailure",
    "ManualClock",
    "ServerStats",
    "ServerTally",
    "Simulator",
    "TokenContext",
    "base_url_from_argv",
    "check",
    "expect",
    "run",
    "step",
]

T = TypeVar("T")

#: Seconds the control API may take to answer; it is on loopback, so anything longer is a hang.
CONTROL_TIMEOUT_SECONDS = 10.0


class DemoFailure(Exception):
    """The client did not behave as the example says it does."""


def check(condition: bool, message: str) -> None:
    """Raise `DemoFailure` with ``message`` unless ``condition`` holds (unlike assert, also under -O)."""
    if not condition:
        raise DemoFailure(message)


def expect(value: object, kind: type[T], what: str) -> T:
    """Return ``value`` as ``kind``, or fail: an Error model or None here means a call did not succeed."""
    if not isinstance(value, kind):
        raise DemoFailure(f"{what}: expected {kind.__name__}, got {value!r}")
    return value


def step(title: str) -> None:
    """Print the heading of one step of the story."""
    print(f"\n-- {title}")


def run(main: Callable[[str], None], *, client_errors: tuple[type[Exception], ...] = ()) -> None:
    """Call ``main`` with the base URL from the command line; exit 1 with one line when it fails.

    A failed check, or one of ``client_errors`` (e.g. the client's ``AuthError`` and
    ``ServiceLimitError``) escaping to the caller, is a failure of the story, not a crash.
    """
    base_url = base_url_from_argv()
    failures: tuple[type[Exception], ...] = (DemoFailure, *client_errors)
    try:
        main(base_url)
    except failures as failure:
        print(f"\nFAILED: {type(failure).__name__}: {failure}", file=sys.stderr)
        raise SystemExit(1) from None


def base_url_from_argv() -> str:
    """The simulator's URL, the one argument of every example."""
    if len(sys.argv) != 2:
        raise SystemExit(f"usage: python {sys.argv[0]} BASE_URL   (the URL a `serve --control` simulator printed)")
    return sys.argv[1]


class ManualClock:
    """Monotonic seconds for ``AuthenticatedClient(clock=...)``: real time plus an offset moved by hand."""

    def __init__(self) -> None:
        self._offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self._offset

    def advance(self, seconds: float) -> None:
        """Jump ``seconds`` into the future."""
        self._offset += seconds


@attrs.frozen
class TokenContext:
    """What the simulator knows about one token (``GET /_control/contexts``)."""

    fingerprint: str
    user: str
    state: str
    expires_in: float


@attrs.frozen
class ServerStats:
    """The simulator's counters that the examples check (``GET /_control/stats``)."""

    logins_by_user: dict[str, int]
    unauthorized: int
    forbidden: int

    def logins(self, user: str) -> int:
        """Successful logins of ``user`` so far."""
        return self.logins_by_user.get(user, 0)


class ServerTally:
    """The server's logins of one user and its 401 answers since the previous `take` (or creation)."""

    def __init__(self, simulator: Simulator, user: str) -> None:
        self._simulator = simulator
        self._user = user
        self._last = simulator.stats()

    def take(self) -> tuple[int, int]:
        """Return (logins of the user, 401 answers) since the previous call, and start counting anew."""
        now = self._simulator.stats()
        logins = now.logins(self._user) - self._last.logins(self._user)
        unauthorized = now.unauthorized - self._last.unauthorized
        self._last = now
        return logins, unauthorized


class Simulator:
    """The control API of a simulator started with ``--control``: time travel, revocation, statistics."""

    def __init__(self, base_url: str) -> None:
        self._http = httpx.Client(base_url=base_url, timeout=CONTROL_TIMEOUT_SECONDS)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def _call(self, method: str, path: str, **params: str) -> dict[str, Any]:
        response = self._http.request(method, f"/_control/{path}", params=params)
        if not response.is_success:
            raise DemoFailure(
                f"{method} /_control/{path} answered {response.status_code}: is the simulator running with --control?"
            )
        return cast(dict[str, Any], response.json())

    def advance(self, clock: ManualClock, seconds: float) -> None:
        """Move the server's clock and the client's ``clock`` forward together, without sleeping."""
        self._call("POST", "clock/advance", seconds=str(seconds))
        clock.advance(seconds)

    def revoke(self, user: str) -> int:
        """Revoke every active token of ``user`` on the server; return how many there were."""
        return int(self._call("POST", "tokens/revoke", user=user)["revoked"])

    def stats(self) -> ServerStats:
        """The server's counters now."""
        raw = self._call("GET", "stats")
        return ServerStats(
            logins_by_user=dict(raw["logins"]["by_user"]),
            unauthorized=int(raw["unauthorized"]),
            forbidden=int(raw["forbidden"]),
        )

    def context(self, fingerprint: str | None) -> TokenContext:
        """The server's view of the token with this fingerprint (``client.lifecycle.token_fingerprint``)."""
        for raw in self._call("GET", "contexts")["contexts"]:
            if fingerprint is not None and str(raw["token"]) == fingerprint:
                return TokenContext(
                    fingerprint=str(raw["token"]),
                    user=str(raw["user"]),
                    state=str(raw["state"]),
                    expires_in=float(raw["expires_in"]),
                )
        raise DemoFailure(f"the simulator issued no token with fingerprint {fingerprint}")


class AuthLog(logging.Handler):
    """Print the client's ``<package>.auth`` log lines as they happen, and keep them for later checks."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        line = record.getMessage()
        self.lines.append(line)
        print(f"   {record.name}: {line}")

    @contextmanager
    def attached(self, *logger_names: str) -> Generator[AuthLog, None, None]:
        """Show the records of these loggers (INFO and up) while the block runs."""
        loggers = [logging.getLogger(name) for name in logger_names]
        levels = [logger.level for logger in loggers]
        for logger in loggers:
            logger.addHandler(self)
            logger.setLevel(logging.INFO)
        try:
            yield self
        finally:
            for logger, level in zip(loggers, levels, strict=True):
                logger.removeHandler(self)
                logger.setLevel(level)
