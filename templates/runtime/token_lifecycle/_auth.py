"""`TokenLifecycle`: an ``httpx.Auth`` that logs in, injects the token, refreshes it and recovers from 401."""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import threading
import time
import weakref
from collections import Counter, deque
from collections.abc import AsyncGenerator, Callable, Generator
from typing import TYPE_CHECKING

import httpx

from ._credentials import Credentials
from ._errors import (
    AuthError,
    InsecureTransportError,
    LoginError,
    TokenRejectedError,
    UnreplayableRequestError,
)
from ._login import LoginCall, is_header_safe, read_login_response
from ._redact import SecretRedactionFilter, fingerprint, install_redaction_filter
from ._state import (
    ADVISORY_REFRESH_SECONDS,
    MANDATORY_REFRESH_SECONDS,
    LifecycleStats,
    Need,
    TokenState,
)
from ._store import MemoryTokenStore, StoredToken, TokenStore
from ._urls import is_loopback, origin, safe_url

if TYPE_CHECKING:
    import asyncio

__all__ = [
    "DEFAULT_INVALID_ON",
    "DEFAULT_LOGGER_NAME",
    "STORE_LOCK_POLL_SECONDS",
    "TokenLifecycle",
]

#: Statuses that mean "this token is no longer valid".
DEFAULT_INVALID_ON = frozenset({401})

#: Logger used when the caller names none; generated clients pass ``"<package>.auth"``.
DEFAULT_LOGGER_NAME = "token_lifecycle"

#: Seconds between two tries of a busy store lock in the async flow (which must not block the loop).
STORE_LOCK_POLL_SECONDS = 0.05

#: How many rejected tokens the lifecycle remembers so that it never takes one back from the store.
REJECTED_TOKENS_REMEMBERED = 16

#: Request headers the login request borrows from the request that triggered it.
LOGIN_INHERITED_HEADERS = ("User-Agent",)

#: Request extensions the login request borrows: without the client's timeouts a login could hang forever.
LOGIN_INHERITED_EXTENSIONS = ("timeout",)


def _is_replayable(request: httpx.Request) -> bool:
    # A body held in memory can be sent again; a streaming body was consumed by the first send.
    return isinstance(request.stream, httpx.ByteStream)


class TokenLifecycle(httpx.Auth):
    """Pass as ``auth=`` to an httpx client: it logs in lazily, injects the token and keeps it fresh.

    Lifecycle of a request:

    1. Requests to another origin than ``base_url`` pass through untouched: the token only goes to the
       service. Plain ``http://`` to a non-loopback host is refused (`InsecureTransportError`) unless
       ``allow_insecure_http``.
    2. No token, an expired one, or one inside the *mandatory* window: every caller waits on the lock;
       the first re-checks, consults the store and logs in; the rest find the fresh token (single flight).
       A failure raises `LoginError`.
    3. Inside the *advisory* window: exactly one caller (non-blocking acquire) refreshes while the others
       keep sending the still-valid token. A failure is logged at WARNING and the current token is kept.
    4. A status in ``invalid_on``: the token that request carried is invalidated only if it is still
       the current one (compare-and-invalidate), one caller logs in, and the request is replayed once.
       A second invalid status raises `TokenRejectedError`; a streaming body raises
       `UnreplayableRequestError` instead of a replay.

    The login request is *yielded* from the flow, so it travels through the same client, transport,
    proxies and TLS settings as every call; it never carries the token header. Lifetimes count from the
    arrival of the login response on ``clock`` (monotonic). ``sync_auth_flow`` serialises logins with a
    ``threading.Lock``, ``async_auth_flow`` with one ``asyncio.Lock`` per event loop; a sync and an async
    client sharing one lifecycle each single-flight on their own.

    ``token`` is a static token for users who already hold one: it never expires on its own, and without
    ``credentials`` a rejection raises `TokenRejectedError`. ``store`` (default `MemoryTokenStore`) is
    consulted before every login and written after it, under its ``lock()``; a `FileTokenStore` thereby
    lets the processes of one machine share one login. ``wall_clock`` only converts expiry to and from
    the store's wall-clock form. Every secret (password, static and issued tokens) is registered with
    the shared `SecretRedactionFilter`, installed on the httpx/httpcore loggers and on ``logger_name``.

    Transport errors while the login request is on the wire are raised by httpx outside this flow, so
    they reach the caller even for an advisory refresh.
    """

    def __init__(
        self,
        *,
        base_url: str | httpx.URL,
        login: LoginCall | None,
        credentials: Credentials | None = None,
        token: str | None = None,
        header_name: str,
        scheme: str | None,
        lifetime: float,
        invalid_on: frozenset[int] = DEFAULT_INVALID_ON,
        advisory_window: float = ADVISORY_REFRESH_SECONDS,
        mandatory_window: float = MANDATORY_REFRESH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        store: TokenStore | None = None,
        logger_name: str = DEFAULT_LOGGER_NAME,
        allow_insecure_http: bool = False,
    ) -> None:
        if credentials is not None and login is None:
            raise ValueError("credentials need a login call to be used")
        if token is None and credentials is None:
            raise ValueError("give credentials (with a login call) or a token")
        if not (lifetime > 0 and math.isfinite(lifetime)):
            raise ValueError(f"lifetime must be a positive number of seconds, got {lifetime!r}")
        if not 0 <= mandatory_window <= advisory_window:
            raise ValueError("windows must satisfy 0 <= mandatory_window <= advisory_window")
        if not header_name:
            raise ValueError("header_name must not be empty")
        if token is not None and not is_header_safe(token):
            # Say what is wrong without echoing the value.
            raise ValueError("token must be non-empty visible ASCII (no spaces or line breaks)")

        self._base_url = httpx.URL(base_url)
        self._origin = origin(self._base_url)
        self._quiet: tuple[TokenState | None, float] = (None, -math.inf)
        self._login = login
        self._credentials = credentials
        self._header_name = header_name
        self._scheme = scheme
        self._lifetime = float(lifetime)
        self._invalid_on = frozenset(invalid_on)
        self._advisory_window = float(advisory_window)
        self._mandatory_window = float(mandatory_window)
        self._clock = clock
        self._wall_clock = wall_clock
        self._store: TokenStore = store if store is not None else MemoryTokenStore()
        self._allow_insecure_http = allow_insecure_http
        self._logger = logging.getLogger(logger_name)
        # The store may be shared: a subject keeps one user's token away from another user.
        self._subject = "" if credentials is None else f"{credentials.username}@{safe_url(self._base_url)}"

        # Guards _state, _counts and _async_locks; never held across I/O or a yield.
        self._state_lock = threading.Lock()
        # Single flight of logins in sync flows; held across the yielded login request.
        self._sync_lock = threading.Lock()
        # asyncio locks bind to the loop that first waits on them: one lock per running loop.
        self._async_locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}
        self._counts: Counter[str] = Counter()
        self._rejected: deque[str] = deque(maxlen=REJECTED_TOKENS_REMEMBERED)
        self._state: TokenState | None = None
        if token is not None:
            # A static token's lifetime is unknown: never refreshed early, only replaced after a rejection.
            self._state = TokenState(token=token, obtained_at=clock(), expires_at=math.inf)

        self._redaction: SecretRedactionFilter = install_redaction_filter(logger_name)
        pinned = [secret for secret in (token, credentials.password if credentials else None) if secret]
        for secret in pinned:
            self._redaction.pin(secret)
        for secret in pinned:
            # Unpin when the lifecycle is collected; finalize holds the secret, not the lifecycle.
            weakref.finalize(self, self._redaction.unpin, secret)

    # -- public read-only views ------------------------------------------------------------------

    @property
    def stats(self) -> LifecycleStats:
        """Return a snapshot of the counters (logins, proactive refreshes, invalidations, replays, ...)."""
        with self._state_lock:
            counts = dict(self._counts)
        return LifecycleStats(**counts)

    @property
    def token_fingerprint(self) -> str | None:
        """Return ``fingerprint()`` of the current token, or None when there is none."""
        state = self._state
        return None if state is None else fingerprint(state.token)

    def invalidate(self) -> None:
        """Drop the current token so that the next request logs in (e.g. after a password change)."""
        with self._state_lock:
            if self._state is not None:
                self._rejected.append(self._state.token)  # and never take it back from the store
            self._state = None

    def __repr__(self) -> str:
        user = None if self._credentials is None else self._credentials.username
        return (
            f"<TokenLifecycle base_url={safe_url(self._base_url)!r} user={user!r} "
            f"token={self.token_fingerprint} header={self._header_name!r}>"
        )

    # -- the two flows ---------------------------------------------------------------------------

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Authenticate ``request`` for ``httpx.Client``; logins are serialised by a threading lock."""
        if not self._applies_to(request):
            yield request
            return
        need, state = self._assess()
        if state is None or need is Need.MANDATORY:
            with self._sync_lock:
                need, state = self._assess()  # single flight: an earlier holder may have refreshed
                if state is None or need is Need.MANDATORY:
                    with self._store.lock():
                        state = yield from self._sync_refresh(request, need, state, rejected=None)
        elif need is Need.ADVISORY and self._sync_lock.acquire(blocking=False):
            try:
                if self._assess()[0] is not Need.NOTHING:
                    with self._store.lock(blocking=False) as held:
                        if held:
                            try:
                                state = yield from self._sync_refresh(request, need, state, rejected=None)
                            except LoginError:
                                self._log_advisory_failure(state)
            finally:
                self._sync_lock.release()

        sent = state.token
        self._apply(request, sent)
        response = yield request
        if response.status_code not in self._invalid_on:
            return
        response.read()  # return the connection to the pool before waiting on the lock
        self._on_rejected(request, response, sent)
        with self._sync_lock:
            need, current = self._assess()
            if current is None or current.token == sent or need is Need.MANDATORY:
                with self._store.lock():
                    current = yield from self._sync_refresh(request, need, current, rejected=sent)
        self._replay(request, response, current)
        response = yield request
        if response.status_code in self._invalid_on:
            raise self._rejected_again(request, response, current)

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Authenticate ``request`` for ``httpx.AsyncClient``; logins are serialised by an asyncio lock."""
        if not self._applies_to(request):
            yield request
            return
        need, state = self._assess()
        if state is None or need is Need.MANDATORY:
            async with self._async_lock():
                need, state = self._assess()  # single flight: an earlier holder may have refreshed
                if state is None or need is Need.MANDATORY:
                    async with self._async_store_lock(blocking=True):
                        outcome = self._begin_refresh(request, need, state, rejected=None)
                        if isinstance(outcome, httpx.Request):
                            login_response = yield outcome
                            await login_response.aread()
                            outcome = self._finish_login(login_response, need, state, rejected=None)
                        state = outcome
        elif need is Need.ADVISORY and not (lock := self._async_lock()).locked():
            # With the lock free, acquire() returns without suspending: this is a non-blocking acquire.
            async with lock:
                if self._assess()[0] is not Need.NOTHING:
                    async with self._async_store_lock(blocking=False) as held:
                        if held:
                            try:
                                outcome = self._begin_refresh(request, need, state, rejected=None)
                                if isinstance(outcome, httpx.Request):
                                    login_response = yield outcome
                                    await login_response.aread()
                                    outcome = self._finish_login(login_response, need, state, rejected=None)
                                state = outcome
                            except LoginError:
                                self._log_advisory_failure(state)

        sent = state.token
        self._apply(request, sent)
        response = yield request
        if response.status_code not in self._invalid_on:
            return
        await response.aread()  # return the connection to the pool before waiting on the lock
        self._on_rejected(request, response, sent)
        async with self._async_lock():
            need, current = self._assess()
            if current is None or current.token == sent or need is Need.MANDATORY:
                async with self._async_store_lock(blocking=True):
                    outcome = self._begin_refresh(request, need, current, rejected=sent)
                    if isinstance(outcome, httpx.Request):
                        login_response = yield outcome
                        await login_response.aread()
                        outcome = self._finish_login(login_response, need, current, rejected=sent)
                    current = outcome
        self._replay(request, response, current)
        response = yield request
        if response.status_code in self._invalid_on:
            raise self._rejected_again(request, response, current)

    # -- locks -----------------------------------------------------------------------------------

    def _async_lock(self) -> asyncio.Lock:
        import asyncio  # only async users pay for importing asyncio (import time of the client)

        loop = asyncio.get_running_loop()
        with self._state_lock:
            lock = self._async_locks.get(loop)
            if lock is None:
                # Forget the locks of closed loops (e.g. one asyncio.run() per test) so none piles up.
                self._async_locks = {key: value for key, value in self._async_locks.items() if not key.is_closed()}
                lock = self._async_locks[loop] = asyncio.Lock()
            return lock

    @contextlib.asynccontextmanager
    async def _async_store_lock(self, *, blocking: bool) -> AsyncGenerator[bool, None]:
        # Poll the non-blocking form so that a lock held by another process never blocks the event loop.
        while True:
            with self._store.lock(blocking=False) as held:
                if held or not blocking:
                    yield held
                    return
            import asyncio  # only async users pay for importing asyncio (import time of the client)

            await asyncio.sleep(STORE_LOCK_POLL_SECONDS)

    # -- steps shared by both flows (no yields, no waiting) --------------------------------------

    def _applies_to(self, request: httpx.Request) -> bool:
        url = request.url
        if origin(url) != self._origin:
            return False
        if url.scheme != "https":
            self._require_secure(url, "a token")
        return True

    def _require_secure(self, url: httpx.URL, what: str) -> None:
        if url.scheme == "https" or self._allow_insecure_http or is_loopback(url):
            return
        raise InsecureTransportError(
            f"refusing to send {what} over {url.scheme}:// to {url.host}: use https, a loopback host, "
            "or pass allow_insecure_http=True",
            url=safe_url(url),
        )

    def _assess(self) -> tuple[Need, TokenState | None]:
        state = self._state
        if state is None:
            return Need.MANDATORY, None
        if self._credentials is None:
            return Need.NOTHING, state  # nothing to refresh with: a static token is used until rejected
        now = self._clock()
        quiet_state, quiet_until = self._quiet
        if state is quiet_state and now < quiet_until:
            return Need.NOTHING, state  # the per-call fast path: no window arithmetic
        need = state.need(now, advisory_window=self._advisory_window, mandatory_window=self._mandatory_window)
        if need is Need.NOTHING:
            # One tuple, swapped whole, so concurrent readers never pair a state with another's deadline.
            self._quiet = (state, state.advisory_at(self._advisory_window))
        return need, state

    def _apply(self, request: httpx.Request, token: str) -> None:
        request.headers[self._header_name] = token if self._scheme is None else f"{self._scheme} {token}"

    def _sync_refresh(
        self,
        request: httpx.Request,
        need: Need,
        current: TokenState | None,
        *,
        rejected: str | None,
    ) -> Generator[httpx.Request, httpx.Response, TokenState]:
        outcome = self._begin_refresh(request, need, current, rejected=rejected)
        if isinstance(outcome, TokenState):
            return outcome
        response = yield outcome
        response.read()
        return self._finish_login(response, need, current, rejected=rejected)

    def _reason(self, need: Need, current: TokenState | None, rejected: str | None) -> str:
        if rejected is not None:
            return f"token {fingerprint(rejected)} was rejected"
        if current is None:
            return "no token yet"
        remaining = current.remaining(self._clock())
        if remaining <= 0:
            return f"token {fingerprint(current.token)} expired {-remaining:.0f}s ago"
        return f"{need.value} refresh: token {fingerprint(current.token)} has {remaining:.0f}s left"

    def _begin_refresh(
        self,
        request: httpx.Request,
        need: Need,
        current: TokenState | None,
        *,
        rejected: str | None,
    ) -> TokenState | httpx.Request:
        """Adopt a usable token from the store, or return the login request to send (store lock held)."""
        if self._login is None or self._credentials is None:
            # Only reachable after invalidate() on a lifecycle that was given a static token alone.
            raise AuthError("no token and no credentials to log in with: pass credentials or a fresh token")
        adopted = self._adopt_from_store(need, current, rejected)
        if adopted is not None:
            return adopted
        login_request = self._login.build_request(
            self._base_url,
            self._credentials,
            headers={name: request.headers[name] for name in LOGIN_INHERITED_HEADERS if name in request.headers},
            extensions={
                name: request.extensions[name] for name in LOGIN_INHERITED_EXTENSIONS if name in request.extensions
            },
        )
        self._require_secure(login_request.url, "credentials")
        self._logger.info("logging in as %r (%s)", self._credentials.username, self._reason(need, current, rejected))
        return login_request

    def _adopt_from_store(self, need: Need, current: TokenState | None, rejected: str | None) -> TokenState | None:
        try:
            stored = self._store.load()
        except OSError as exc:
            self._logger.warning("cannot read the token store %r (%s); logging in instead", self._store, exc)
            return None
        if stored is None or stored.subject != self._subject:
            return None
        with self._state_lock:
            refused = stored.token == rejected or stored.token in self._rejected
        if refused:
            # The service said no: do not hand it to the next process either.
            self._store_write(self._store.clear)
            return None
        if current is not None and stored.token == current.token:
            return None
        now, wall = self._clock(), self._wall_clock()
        age = 0.0 if stored.obtained_at_wall is None else max(0.0, wall - stored.obtained_at_wall)
        state = TokenState(token=stored.token, obtained_at=now - age, expires_at=now + stored.expires_at_wall - wall)
        fresh_need = state.need(now, advisory_window=self._advisory_window, mandatory_window=self._mandatory_window)
        if fresh_need is Need.MANDATORY or (need is Need.ADVISORY and fresh_need is not Need.NOTHING):
            return None
        self._redaction.remember(stored.token)
        with self._state_lock:
            self._state = state
            self._counts["store_hits"] += 1
        self._logger.info(
            "using token %s from %r (expires in %.0fs)", fingerprint(state.token), self._store, state.remaining(now)
        )
        return state

    def _finish_login(
        self,
        response: httpx.Response,
        need: Need,
        current: TokenState | None,
        *,
        rejected: str | None,
    ) -> TokenState:
        """Turn a read login response into the current token, save it and log it; raise `LoginError`."""
        now, wall = self._clock(), self._wall_clock()  # the lifetime counts from the response's arrival
        if self._login is None or self._credentials is None:
            raise AuthError("no credentials to log in with")  # unreachable: _begin_refresh checked first
        username = self._credentials.username
        try:
            result = read_login_response(self._login, response, username=username)
        except LoginError as exc:
            with self._state_lock:
                self._counts["failed_logins"] += 1
            self._logger.warning("%s", exc)
            raise
        self._redaction.remember(result.token)
        if result.lifetime_problem is not None:
            self._logger.warning("%s; using the static lifetime of %.0fs", result.lifetime_problem, self._lifetime)
        lifetime = self._lifetime if result.lifetime is None else result.lifetime
        state = TokenState(token=result.token, obtained_at=now, expires_at=now + lifetime)
        with self._state_lock:
            self._state = state
            self._counts["logins"] += 1
            if current is not None and rejected is None and need is not Need.NOTHING:
                self._counts["proactive_refreshes"] += 1
        self._store_write(
            functools.partial(
                self._store.save,
                StoredToken(
                    token=result.token, expires_at_wall=wall + lifetime, obtained_at_wall=wall, subject=self._subject
                ),
            )
        )
        self._logger.info("logged in as %r: token %s expires in %.0fs", username, fingerprint(result.token), lifetime)
        return state

    def _store_write(self, write: Callable[[], None]) -> None:
        # The store only shares logins: failing to write it must not fail the request that logged in.
        try:
            write()
        except OSError as exc:
            self._logger.warning("cannot write the token store %r (%s); other processes will log in", self._store, exc)

    def _log_advisory_failure(self, kept: TokenState) -> None:
        self._logger.warning(
            "advisory refresh failed; keeping token %s for its last %.0fs",
            fingerprint(kept.token),
            kept.remaining(self._clock()),
        )

    def _on_rejected(self, request: httpx.Request, response: httpx.Response, sent: str) -> None:
        """Compare-and-invalidate the token ``request`` carried; raise when no replay is possible."""
        if self._credentials is None:
            self._logger.warning(
                "static token %s rejected with HTTP %d on %s %s",
                fingerprint(sent),
                response.status_code,
                request.method,
                request.url.path,
            )
            raise TokenRejectedError(
                f"the service rejected the static token {fingerprint(sent)} with HTTP {response.status_code}; "
                "pass credentials so the client can log in, or a fresh token",
                status_code=response.status_code,
                token_fingerprint=fingerprint(sent),
            )
        with self._state_lock:
            if sent not in self._rejected:
                self._rejected.append(sent)
            invalidated = self._state is not None and self._state.token == sent
            if invalidated:
                self._state = None
                self._counts["invalidations"] += 1
        if invalidated:
            self._logger.info(
                "token %s rejected with HTTP %d on %s %s; invalidated",
                fingerprint(sent),
                response.status_code,
                request.method,
                request.url.path,
            )
        if not _is_replayable(request):
            raise UnreplayableRequestError(
                f"{request.method} {request.url.path} was answered HTTP {response.status_code} and its "
                "streaming body cannot be sent twice; the rejected token was dropped, so send the request "
                "again and the client will log in first",
                status_code=response.status_code,
            )

    def _replay(self, request: httpx.Request, response: httpx.Response, state: TokenState) -> None:
        self._apply(request, state.token)
        with self._state_lock:
            self._counts["replays"] += 1
        self._logger.info(
            "replaying %s %s with token %s after HTTP %d",
            request.method,
            request.url.path,
            fingerprint(state.token),
            response.status_code,
        )

    def _rejected_again(self, request: httpx.Request, response: httpx.Response, state: TokenState) -> Exception:
        self._logger.warning(
            "fresh token %s rejected too with HTTP %d on %s %s; giving up",
            fingerprint(state.token),
            response.status_code,
            request.method,
            request.url.path,
        )
        return TokenRejectedError(
            f"{request.method} {request.url.path} was answered HTTP {response.status_code} even with the fresh "
            f"token {fingerprint(state.token)}; the account may lack access",
            status_code=response.status_code,
            token_fingerprint=fingerprint(state.token),
        )
