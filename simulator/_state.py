"""What the simulator remembers: a user context per token, per-account rate windows, and statistics.

Everything lives behind one lock, so that concurrent requests (and the control API) never lose
an update: each method reads and writes under it and does no I/O. Times are read from the
:class:`~simulator._clock.Clock`, never from the wall clock.

Tokens are issued by a scheme (its name is the token's *issuer*: a token of one scheme opens no
door of another), with the scopes granted and the OAuth2 client that asked, if any. Refresh
tokens (RFC 6749 §6) rotate: each is redeemed at most once, for a new access token and a new
refresh token. Statistics count, per user and per client, token grants (logins), refreshes and
rejected credentials, and, per origin, which requests carried credentials or access tokens. Per
customer account they also count what a fleet of clients sharing it is judged by: logins, requests
refused for its service limit (503) and requests served (2xx), under ``accounts`` of the stats.

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
    issuer: str = ""
    """The name of the scheme that issued the token ("" when none is named)."""
    scopes: frozenset[str] = frozenset()
    client: str | None = None
    """The OAuth2 client that obtained the token, if one authenticated."""
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
            "client": self.client,
            "scheme": self.issuer,
            "scopes": sorted(self.scopes),
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
class RefreshGrant:
    """What a refresh token stands for (the token itself is the key it is kept under)."""

    user: User
    issuer: str
    scopes: frozenset[str]
    client: str | None


@attrs.define
class _Origin:
    """What the requests that reached one origin (the API, or the identity provider) carried."""

    requests: int = 0
    credentials: int = 0
    access_tokens: int = 0
    refresh_tokens: int = 0


@attrs.define
class _Stats:
    logins_by_account: collections.Counter[str] = attrs.Factory(collections.Counter[str])
    logins_by_user: collections.Counter[str] = attrs.Factory(collections.Counter[str])
    logins_by_client: collections.Counter[str] = attrs.Factory(collections.Counter[str])
    logins_by_grant: collections.Counter[str] = attrs.Factory(collections.Counter[str])
    refreshes_by_user: collections.Counter[str] = attrs.Factory(collections.Counter[str])
    failed_refreshes: int = 0
    rejections_by_scheme: collections.Counter[str] = attrs.Factory(collections.Counter[str])
    rejections_by_user: collections.Counter[str] = attrs.Factory(collections.Counter[str])
    origins: dict[str, _Origin] = attrs.Factory(dict[str, _Origin])
    failed_logins: int = 0
    requests: int = 0
    requests_by_account: collections.Counter[str] = attrs.Factory(collections.Counter[str])
    statuses: collections.Counter[int] = attrs.Factory(collections.Counter[int])
    busy_by_account: collections.Counter[str] = attrs.Factory(collections.Counter[str])
    ok_by_account: collections.Counter[str] = attrs.Factory(collections.Counter[str])


class SimulatorState:
    """Tokens, contexts, rate windows and statistics of one simulator, safe to share between threads."""

    def __init__(self, clock: Clock, lifetime: float | None, limit: RateLimit) -> None:
        self.clock = clock
        self.lifetime = lifetime
        """Every token's lifetime (``--token-lifetime``); None: each scheme's own."""
        self.limit = limit
        self._lock = threading.Lock()
        self._contexts: dict[str, TokenContext] = {}
        self._refresh: dict[str, RefreshGrant] = {}
        self._windows: dict[str, collections.deque[float]] = {}
        self._stats = _Stats()

    def lifetime_of(self, scheme_lifetime: float) -> float:
        """The lifetime of a token issued by a scheme whose own lifetime is ``scheme_lifetime``."""
        return self.lifetime if self.lifetime is not None else scheme_lifetime

    def issue(
        self,
        user: User,
        lifetime: float | None = None,
        *,
        issuer: str = "",
        scopes: frozenset[str] = frozenset(),
        client: str | None = None,
        grant: str = "login",
    ) -> TokenContext:
        """Log ``user`` in: a new token with its own context, valid for the lifetime from now."""
        with self._lock:
            now = self.clock.now()
            token = new_token()
            while token in self._contexts:  # pragma: no cover - 122 random bits do not collide
                token = new_token()
            seconds = self.lifetime_of(lifetime if lifetime is not None else 0.0)
            context = TokenContext(
                token=token,
                user=user,
                issued_at=now,
                expires_at=now + seconds,
                issuer=issuer,
                scopes=scopes,
                client=client,
            )
            self._forget_if_full(now)
            self._contexts[token] = context
            if grant == "refresh_token":
                self._stats.refreshes_by_user[user.name] += 1
            else:
                self._stats.logins_by_account[user.account] += 1
                counter = self._stats.logins_by_client if user.client else self._stats.logins_by_user
                counter[user.name] += 1
                self._stats.logins_by_grant[grant] += 1
            return context

    def issue_refresh(self, context: TokenContext) -> str:
        """A new refresh token for the grant behind ``context``."""
        with self._lock:
            token = new_token()
            grant = RefreshGrant(context.user, context.issuer, context.scopes, context.client)
            if len(self._refresh) >= MAX_CONTEXTS:
                del self._refresh[next(iter(self._refresh))]
            self._refresh[token] = grant
            return token

    def redeem_refresh(self, token: str, issuers: frozenset[str], client: str | None) -> RefreshGrant | None:
        """The grant of refresh token ``token``, forgotten as it is used (rotation); None when it is unknown,
        of another issuer, or was issued to a client other than ``client`` (RFC 6749 §6)."""
        with self._lock:
            grant = self._refresh.get(token)
            if grant is None or grant.issuer not in issuers or grant.client not in (None, client):
                self._stats.failed_refreshes += 1
                return None
            del self._refresh[token]
            return grant

    def recognise(self, values: frozenset[str]) -> tuple[bool, bool]:
        """Whether any of ``values`` is an access token this simulator issued (in any state), and whether
        any is a refresh token that can still be redeemed."""
        with self._lock:
            access = any(value in self._contexts for value in values)
            refresh = any(value in self._refresh for value in values)
            return access, refresh

    def reject(self, scheme: str, user: User | None = None) -> None:
        """Count credentials of ``scheme`` that were refused (of ``user`` when known)."""
        with self._lock:
            self._stats.rejections_by_scheme[scheme] += 1
            if user is not None:
                self._stats.rejections_by_user[user.name] += 1

    def observe(self, origin: str, *, credentials: bool, access_token: bool, refresh_token: bool) -> None:
        """Remember what one request that reached ``origin`` (``api`` or ``idp``) carried."""
        with self._lock:
            record = self._stats.origins.setdefault(origin, _Origin())
            record.requests += 1
            record.credentials += credentials
            record.access_tokens += access_token
            record.refresh_tokens += refresh_token

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

    def authenticate(
        self, token: str | None, query: list[tuple[str, str]], issuer: str | None = None
    ) -> TokenContext | str:
        """The active context of ``token`` (issued by ``issuer`` when given), remembering this request's query;
        else why there is none."""
        if token is None:
            return "no bearer token was sent"
        with self._lock:
            context = self._contexts.get(token)
            if context is None or (issuer is not None and context.issuer != issuer):
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

    def record(self, status: int, account: str | None = None) -> None:
        """Count one answered API request (control requests are not counted); with the ``account`` it acted
        for, a 503 or a 2xx is counted for that account too (logins and public operations name none)."""
        with self._lock:
            self._stats.requests += 1
            self._stats.statuses[status] += 1
            if account is None:
                return
            if status == 503:
                self._stats.busy_by_account[account] += 1
            elif 200 <= status < 300:
                self._stats.ok_by_account[account] += 1

    def count_request(self, user: User) -> None:
        """Count one admitted request of ``user`` made without an issued token (static token, basic)."""
        with self._lock:
            self._stats.requests_by_account[user.account] += 1

    def revoke_user(self, name: str, *, refresh: bool = False) -> int:
        """Revoke every active token of user (or client) ``name``, with ``refresh`` its refresh tokens instead;
        returns how many."""
        with self._lock:
            if refresh:
                doomed = [token for token, grant in self._refresh.items() if grant.user.name == name]
                for token in doomed:
                    del self._refresh[token]
                return len(doomed)
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
            self._refresh.clear()
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
                    "total": sum(stats.logins_by_user.values()) + sum(stats.logins_by_client.values()),
                    "failed": stats.failed_logins,
                    "by_account": _sorted(stats.logins_by_account),
                    "by_user": _sorted(stats.logins_by_user),
                },
                "grants": {
                    "by_client": _sorted(stats.logins_by_client),
                    "by_type": _sorted(stats.logins_by_grant),
                },
                "refreshes": {
                    "total": sum(stats.refreshes_by_user.values()),
                    "failed": stats.failed_refreshes,
                    "by_user": _sorted(stats.refreshes_by_user),
                },
                "rejections": {
                    "total": sum(stats.rejections_by_scheme.values()),
                    "by_scheme": _sorted(stats.rejections_by_scheme),
                    "by_user": _sorted(stats.rejections_by_user),
                },
                "origins": {name: attrs.asdict(record) for name, record in sorted(stats.origins.items())},
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
                "accounts": _accounts(stats),
            }


def _accounts(stats: _Stats) -> dict[str, dict[str, int]]:
    """Per customer account: ``logins`` (token grants), ``busy`` (503s answered), ``ok`` (2xx answered)."""
    names = set(stats.logins_by_account) | set(stats.busy_by_account) | set(stats.ok_by_account)
    return {
        name: {
            "logins": stats.logins_by_account[name],
            "busy": stats.busy_by_account[name],
            "ok": stats.ok_by_account[name],
        }
        for name in sorted(names)
    }


def _sorted(counter: Mapping[str, int]) -> dict[str, int]:
    return {key: counter[key] for key in sorted(counter)}


def retry_after_header(seconds: float) -> str:
    """The ``Retry-After`` value for a wait: whole seconds, rounded up, at least 1."""
    return str(max(1, math.ceil(seconds)))
