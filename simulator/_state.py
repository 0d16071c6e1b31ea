"""What the simulator remembers: a user context per token, per-account rate windows, and statistics.

Everything lives behind one lock, so that concurrent requests (and the control API) never lose
an update: each method reads and writes under it and does no I/O. Times are read from the
:class:`~simulator._clock.Clock`, never from the wall clock.

The rate limit is a sliding-window log per customer account: a request is admitted when fewer
than ``count`` requests of that account were admitted in the last ``seconds``; a refused
request is not logged, so a client that keeps knocking does not extend its own wait. The wait
it is told (``Retry-After``) is when the oldest admitted request leaves the window.
"""

from __future__ import annotations

import collections
import math
import secrets
import threading
import uuid
from collections.abc import Mapping
from typing import Literal

import attrs
from token_lifecycle import fingerprint

from ._clock import Clock
from ._fixtures import User

__all__ = [
    "MAX_CONTEXTS",
    "RateLimit",
    "SimulatorState",
    "TokenContext",
    "fingerprint",
    "new_token",
    "retry_after_header",
]

MAX_CONTEXTS = 100_000
"""Contexts kept at most; beyond it, ended contexts (expired, revoked) are forgotten, then the oldest."""

TokenState = Literal["active", "expired", "revoked"]


def new_token() -> str:
    """A fresh, unguessable token shaped like the service's (a UUID4 from the ``secrets`` generator)."""
    return str(uuid.UUID(bytes=secrets.token_bytes(16), version=4))


@attrs.frozen
class RateLimit:
    """At most ``count`` requests per customer account in any window of ``seconds``."""

    count: int
    seconds: float

    def render(self) -> str:
        """The ``COUNT/SECONDS`` form of ``--rate-limit``."""
        return f"{self.count}/{self.seconds:g}"


@attrs.define
class TokenContext:
    """The user context the server keeps for one token (the token itself never leaves this object)."""

    token: str = attrs.field(repr=False)
    user: User
    issued_at: float
    expires_at: float
    revoked: bool = False
    last_query: list[tuple[str, str]] = attrs.Factory(list[tuple[str, str]])
    requests: int = 0

    def state(self, now: float) -> TokenState:
        """Whether the token still opens doors at ``now``."""
        if self.revoked:
            return "revoked"
        return "active" if now < self.expires_at else "expired"

    def describe(self, now: float) -> dict[str, object]:
        """The context as the control API shows it: the token as a fingerprint only."""
        permissions = ["*"] if self.user.permissions is None else sorted(self.user.permissions)
        query: dict[str, list[str]] = {}
        for name, value in self.last_query:
            query.setdefault(name, []).append(value)
        return {
            "token": fingerprint(self.token),
            "user": self.user.name,
            "account": self.user.account,
            "permissions": permissions,
            "state": self.state(now),
            "issued_at": self.issued_at,
            "expires_at": self.expires_at,
            "expires_in": max(0.0, self.expires_at - now),
            "requests": self.requests,
            "last_query": query,
        }


@attrs.define
class _Stats:
    logins_by_account: collections.Counter[str] = attrs.Factory(collections.Counter[str])
    logins_by_user: collections.Counter[str] = attrs.Factory(collections.Counter[str])
    failed_logins: int = 0
    requests: int = 0
    requests_by_account: collections.Counter[str] = attrs.Factory(collections.Counter[str])
    statuses: collections.Counter[int] = attrs.Factory(collections.Counter[int])


class SimulatorState:
    """Tokens, contexts, rate windows and statistics of one simulator, safe to share between threads."""

    def __init__(self, clock: Clock, lifetime: float, limit: RateLimit) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.limit = limit
        self._lock = threading.Lock()
        self._contexts: dict[str, TokenContext] = {}
        self._windows: dict[str, collections.deque[float]] = {}
        self._stats = _Stats()

    def issue(self, user: User) -> TokenContext:
        """Log ``user`` in: a new token with its own context, valid for the lifetime from now."""
        with self._lock:
            now = self.clock.now()
            token = new_token()
            while token in self._contexts:  # pragma: no cover - 122 random bits do not collide
                token = new_token()
            context = TokenContext(token=token, user=user, issued_at=now, expires_at=now + self.lifetime)
            self._forget_if_full(now)
            self._contexts[token] = context
            self._stats.logins_by_account[user.account] += 1
            self._stats.logins_by_user[user.name] += 1
            return context

    def _forget_if_full(self, now: float) -> None:
        if len(self._contexts) < MAX_CONTEXTS:
            return
        for token in [t for t, c in self._contexts.items() if c.state(now) != "active"]:
            del self._contexts[token]
        while len(self._contexts) >= MAX_CONTEXTS:
            del self._contexts[next(iter(self._contexts))]

    def login_failed(self) -> None:
        """Count a login refused for wrong credentials."""
        with self._lock:
            self._stats.failed_logins += 1

    def authenticate(self, token: str | None, query: list[tuple[str, str]]) -> TokenContext | str:
        """The active context of ``token``, remembering this request's query; else why there is none."""
        if token is None:
            return "no bearer token was sent"
        with self._lock:
            context = self._contexts.get(token)
            if context is None:
                return "the bearer token is unknown"
            state = context.state(self.clock.now())
            if state != "active":
                return f"the bearer token is {state}"
            context.last_query = list(query)
            context.requests += 1
            self._stats.requests_by_account[context.user.account] += 1
            return context

    def admit(self, account: str) -> float | None:
        """Admit one request of ``account`` under the rate limit; None when admitted, else seconds to wait."""
        with self._lock:
            now = self.clock.now()
            window = self._windows.setdefault(account, collections.deque())
            while window and window[0] <= now - self.limit.seconds:
                window.popleft()
            if len(window) < self.limit.count:
                window.append(now)
                return None
            return window[0] + self.limit.seconds - now

    def record(self, status: int) -> None:
        """Count one answered API request (control requests are not counted)."""
        with self._lock:
            self._stats.requests += 1
            self._stats.statuses[status] += 1

    def revoke_user(self, name: str) -> int:
        """Revoke every active token of user ``name``; returns how many."""
        with self._lock:
            now = self.clock.now()
            revoked = 0
            for context in self._contexts.values():
                if context.user.name == name and context.state(now) == "active":
                    context.revoked = True
                    revoked += 1
            return revoked

    def reset(self) -> None:
        """Forget every token, window and count, and set the clock back to real time."""
        with self._lock:
            self._contexts.clear()
            self._windows.clear()
            self._stats = _Stats()
            self.clock.reset()

    def contexts(self) -> list[dict[str, object]]:
        """Every remembered context, oldest first, tokens shown as fingerprints."""
        with self._lock:
            now = self.clock.now()
            return [context.describe(now) for context in self._contexts.values()]

    def stats(self) -> dict[str, object]:
        """Counts since the start or the last reset, as JSON-ready data."""
        with self._lock:
            stats = self._stats
            statuses = {401: 0, 403: 0, 503: 0} | dict(stats.statuses)
            return {
                "logins": {
                    "total": sum(stats.logins_by_user.values()),
                    "failed": stats.failed_logins,
                    "by_account": _sorted(stats.logins_by_account),
                    "by_user": _sorted(stats.logins_by_user),
                },
                "requests": {
                    "total": stats.requests,
                    "by_account": _sorted(stats.requests_by_account),
                    "by_status": {str(status): statuses[status] for status in sorted(statuses)},
                },
                "unauthorized": statuses[401],
                "forbidden": statuses[403],
                "busy": statuses[503],
                "active_tokens": sum(1 for c in self._contexts.values() if c.state(self.clock.now()) == "active"),
                "rate_limit": self.limit.render(),
            }


def _sorted(counter: Mapping[str, int]) -> dict[str, int]:
    return {key: counter[key] for key in sorted(counter)}


def retry_after_header(seconds: float) -> str:
    """The ``Retry-After`` value for a wait: whole seconds, rounded up, at least 1."""
    return str(max(1, math.ceil(seconds)))
