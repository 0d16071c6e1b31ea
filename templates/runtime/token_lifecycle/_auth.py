"""`TokenLifecycle`, an ``httpx.Auth`` that logs in, injects the token, refreshes it and recovers from 401.

This module holds the public face (constructor, views, and the event hooks of `._hooks`) and the
two drivers of the auth flow. Both drivers run the same decisions, `._flow.auth_steps`, over the same
`._keeper.TokenKeeper`; they differ only in how they wait (threading or asyncio locks) and read.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import weakref
from collections.abc import AsyncGenerator, Callable, Generator, Iterable, Mapping
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import TYPE_CHECKING

import httpx

from ._credentials import ClientCredentials, Credentials, basic_authorization
from ._flow import Discard, Hold, Load, Read, Save, Send, auth_steps
from ._fork import renew_after_fork
from ._hooks import REPLAY_PENDING, AsyncEventHook, EventHook, EventHookGuard
from ._keeper import LOGIN_FAILURE_BACKOFF_SECONDS, LOGIN_TIMEOUT_SECONDS, TokenKeeper
from ._locks import async_held, cancellation, held, may_block_here
from ._login import LoginCall, is_header_safe
from ._placement import TokenPlacement
from ._redaction import SecretRedactionFilter, install_redaction_filter
from ._state import ADVISORY_REFRESH_SECONDS, MANDATORY_REFRESH_SECONDS, LifecycleStats
from ._store_io import acarry_out, async_store_lock, carry_out, sync_store_lock
from ._stores import MemoryTokenStore, TokenStore
from ._urls import origin, safe_url

if TYPE_CHECKING:
    import asyncio


#: Statuses that mean "this token is no longer valid".
DEFAULT_INVALID_ON = frozenset({401})

#: Logger used when the caller names none; generated clients pass ``"<package>.auth"``.
DEFAULT_LOGGER_NAME = "token_lifecycle"

#: Seconds a caller waits for another caller's login beyond ``2 * login_timeout`` (one attempt:
#: its connection and its answer, each bounded by ``login_timeout``) before it gives up.
LOGIN_WAIT_MARGIN_SECONDS = 1.0


def _basic_forms(pair: Credentials) -> tuple[str, ...]:
    """The base64 values HTTP Basic makes of ``pair`` (as is, and form-urlencoded first): secrets too."""
    return tuple(
        basic_authorization(pair.username, pair.password, form_encoded=encoded).removeprefix("Basic ")
        for encoded in (False, True)
    )


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
    ``threading.Lock``, ``async_auth_flow`` with one ``asyncio.Lock`` per event loop, and both log in
    under the store's lock, so that sync and async clients (or event loops) sharing one lifecycle log
    in once between them: the later one adopts the token the store holds. A sync call made on a thread
    that runs an event loop does not wait for that lock (a login of that same loop may hold it).

    ``token`` is a static token for users who already hold one: it never expires on its own, and without
    ``credentials`` a rejection raises `TokenRejectedError`. ``store`` (default `MemoryTokenStore`) is
    consulted before every login and written after it, under its ``lock()``; a `FileTokenStore` thereby
    lets the processes of one machine share one login, a `RedisTokenStore` those of a fleet. The
    drivers do the store's I/O (`._store_io`): the async one awaits an `AsyncTokenStore`.
    ``wall_clock`` only converts expiry to and from the store's wall-clock form. Every secret
    (password, static and issued tokens) is registered with the shared `SecretRedactionFilter`,
    installed on the httpx/httpcore loggers and on ``logger_name``.

    Transport errors while the login request is on the wire are raised by httpx outside this flow, so
    they reach the caller even for an advisory refresh.

    Bounds: the login request's every phase (pool, connect, write, read) is bounded by ``login_timeout``
    (default `LOGIN_TIMEOUT_SECONDS`), whatever the client's timeout. A caller waits for another
    caller's login at most ``login_wait`` (default ``2 * login_timeout + LOGIN_WAIT_MARGIN_SECONDS``):
    then it fails with `LoginError` when the login is one of this lifecycle's, or logs in without the
    store's lock when another process holds it. A failed login (an error answer, or an exception while
    it was on the wire, a cancellation excepted) is raised to every caller that waited on it, each
    with its own `LoginError` instance. A refused login (an error answer) is also raised at once to
    every new caller for ``login_backoff`` seconds on ``clock`` (default
    `LOGIN_FAILURE_BACKOFF_SECONDS`), and no advisory refresh is tried in that time;
    ``invalidate()`` ends the back-off.

    A flow cannot see the redirects httpx follows: pass ``event_hooks=lifecycle.event_hooks()`` (or
    `async_event_hooks`) to the client as well, so that `redirect_guard` keeps the token and password
    from following a redirect to another origin.

    Where the token travels: ``placement`` (a `TokenPlacement`: header, query parameter or cookie, and a
    value template), or the older pair ``header_name`` and ``scheme`` (``"<scheme> <token>"``, the bare
    token when ``scheme`` is None); neither means ``Authorization: Bearer``. ``credentials`` may be an
    OAuth2 `ClientCredentials` (a client credentials grant); ``client`` authenticates an OAuth2 password
    grant. The login may go to another origin than ``base_url`` (an absolute ``LoginCall.path``): the
    credentials go only there, its answers are trusted only from there, the token only goes to
    ``base_url``'s origin. When a login answer carries a refresh token (``LoginCall.refresh_token_pointer``),
    the next refresh (advisory, mandatory or after a rejection) uses it first (RFC 6749 §6) and falls back
    to one full login when it is refused; the refresh token stays in memory (never in the store).
    ``static_description`` names a static token in the `TokenRejectedError` of its rejection (HTTP Basic
    credentials: "the HTTP Basic credentials of 'alice'") instead of its fingerprint.
    """

    def __init__(
        self,
        *,
        base_url: str | httpx.URL,
        login: LoginCall | None,
        credentials: Credentials | ClientCredentials | None = None,
        token: str | None = None,
        header_name: str | None = None,
        scheme: str | None = None,
        placement: TokenPlacement | None = None,
        client: ClientCredentials | None = None,
        static_description: str | None = None,
        lifetime: float,
        invalid_on: frozenset[int] = DEFAULT_INVALID_ON,
        advisory_window: float = ADVISORY_REFRESH_SECONDS,
        mandatory_window: float = MANDATORY_REFRESH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        store: TokenStore | None = None,
        logger_name: str = DEFAULT_LOGGER_NAME,
        allow_insecure_http: bool = False,
        login_timeout: float = LOGIN_TIMEOUT_SECONDS,
        login_wait: float | None = None,
        login_backoff: float = LOGIN_FAILURE_BACKOFF_SECONDS,
    ) -> None:
        if credentials is not None and login is None:
            raise ValueError("credentials need a login call to be used")
        if token is None and credentials is None:
            raise ValueError("give credentials (with a login call) or a token")
        if not (lifetime > 0 and math.isfinite(lifetime)):
            raise ValueError(f"lifetime must be a positive number of seconds, got {lifetime!r}")
        if not 0 <= mandatory_window <= advisory_window:
            raise ValueError("windows must satisfy 0 <= mandatory_window <= advisory_window")
        if header_name is not None and placement is not None:
            raise ValueError("give placement, or header_name and scheme, not both")
        if header_name is not None:
            if not header_name:
                raise ValueError("header_name must not be empty")
            placement = TokenPlacement.header(header_name, scheme)
        elif placement is None:
            placement = TokenPlacement()
        if isinstance(credentials, ClientCredentials):
            credentials = credentials.as_credentials()
        if login_wait is None:
            login_wait = 2 * login_timeout + LOGIN_WAIT_MARGIN_SECONDS
        for name, value in (("login_timeout", login_timeout), ("login_wait", login_wait)):
            if not (value > 0 and math.isfinite(value)):
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
        if not login_backoff >= 0:
            raise ValueError(f"login_backoff must be >= 0 seconds, got {login_backoff!r}")
        if token is not None and not is_header_safe(token):
            # Say what is wrong without echoing the value.
            raise ValueError("token must be non-empty visible ASCII (no spaces or line breaks)")

        self._base_url = httpx.URL(base_url)
        self._origin = origin(self._base_url)
        self._credentials = credentials
        self._placement = placement
        self._logger = logging.getLogger(logger_name)
        self._redaction: SecretRedactionFilter = install_redaction_filter(logger_name)
        self._keeper = TokenKeeper(
            base_url=self._base_url,
            login=login,
            credentials=credentials,
            token=token,
            placement=placement,
            lifetime=float(lifetime),
            invalid_on=frozenset(invalid_on),
            advisory_window=float(advisory_window),
            mandatory_window=float(mandatory_window),
            clock=clock,
            wall_clock=wall_clock,
            store=store if store is not None else MemoryTokenStore(),
            logger=self._logger,
            allow_insecure_http=allow_insecure_http,
            redaction=self._redaction,
            login_timeout=float(login_timeout),
            login_wait=float(login_wait),
            login_backoff=float(login_backoff),
            client=None if client is None else client.as_credentials(),
            static_description=static_description,
        )
        self._hooks = EventHookGuard(
            keeper=self._keeper,
            origin=self._origin,
            secret_headers=(
                *((placement.secret_header,) if placement.secret_header else ()),
                *(() if login is None else login.password_headers()),
            ),
            redaction=self._redaction,
            logger=self._logger,
        )
        #: Seconds a caller waits for the login of another caller (thread, task or process).
        self.login_wait = float(login_wait)
        # Single flight of logins in sync flows; held across the yielded login request.
        self._sync_lock = threading.Lock()
        # asyncio locks bind to the loop that first waits on them: one lock per running loop.
        self._async_locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}
        self._async_locks_lock = threading.Lock()  # guards _async_locks; never held across a yield
        # A forked child gets fresh locks: a login running in another thread at fork time holds these.
        renew_after_fork(self, _sync_lock=threading.Lock, _async_locks=dict, _async_locks_lock=threading.Lock)

        pinned = [
            secret
            for secret in (
                token,
                credentials.password if credentials else None,
                client.client_secret if client else None,
                # The HTTP Basic forms of the pair, on the login request (RFC 7617, and RFC 6749 §2.3.1).
                *(_basic_forms(credentials) if credentials and login and login.username_in == "basic" else ()),
                *(_basic_forms(client.as_credentials()) if client is not None else ()),
            )
            if secret
        ]
        for secret in pinned:
            self._redaction.pin(secret)
        for secret in pinned:
            # Unpin when the lifecycle is collected; finalize holds the secret, not the lifecycle.
            weakref.finalize(self, self._redaction.unpin_later, secret)

    # -- public read-only views ------------------------------------------------------------------

    @property
    def stats(self) -> LifecycleStats:
        """Return a snapshot of the counters (logins, proactive refreshes, invalidations, replays, ...)."""
        return self._keeper.stats

    @property
    def token_fingerprint(self) -> str | None:
        """Return ``fingerprint()`` of the current token, or None when there is none."""
        return self._keeper.token_fingerprint

    def invalidate(self) -> None:
        """Drop the current token so that the next request logs in (e.g. after a password change)."""
        self._keeper.invalidate()

    def __repr__(self) -> str:
        user = None if self._credentials is None else self._credentials.username
        return (
            f"<TokenLifecycle base_url={safe_url(self._base_url)!r} user={user!r} "
            f"token={self.token_fingerprint} {self._placement.location}={self._placement.name!r}>"
        )

    @property
    def placement(self) -> TokenPlacement:
        """Where and how the token travels."""
        return self._placement

    def apply_static(self, request: httpx.Request) -> None:
        """Put the static token of a lifecycle that never logs in in ``request`` (to the service only).

        `SecurityAuth` uses it for the schemes a request needs besides the one whose flow it drives.
        Raises `InsecureTransportError` for plain http to a non-loopback service, like the flow.
        """
        if self._keeper.applies_to(request):
            self._keeper.apply(request, self._keeper.static_token())

    # -- event hooks: secrets stay with the service (see `._hooks.EventHookGuard`) ----------------

    def redirect_guard(self, request: httpx.Request) -> None:
        """An httpx ``request`` event hook: no password or token goes to another origin than the service.

        See `EventHookGuard.redirect_guard`; the generated ``AuthenticatedClient`` installs it first.
        """
        self._hooks.redirect_guard(request)

    async def async_redirect_guard(self, request: httpx.Request) -> None:
        """`redirect_guard` for ``httpx.AsyncClient``, which awaits its event hooks."""
        self._hooks.redirect_guard(request)

    def event_hooks(self, hooks: Mapping[str, Iterable[EventHook]] | None = None) -> dict[str, list[EventHook]]:
        """The ``event_hooks`` of an ``httpx.Client`` that uses this lifecycle, around your own ``hooks``.

        `redirect_guard` comes first; your response hooks skip the 401 the lifecycle replays, and lose
        secrets from the messages of what they raise (see `EventHookGuard.event_hooks`).
        """
        return self._hooks.event_hooks(hooks)

    def async_event_hooks(
        self, hooks: Mapping[str, Iterable[AsyncEventHook]] | None = None
    ) -> dict[str, list[AsyncEventHook]]:
        """`event_hooks` for an ``httpx.AsyncClient``: the hooks are coroutine functions."""
        return self._hooks.async_event_hooks(hooks)

    # -- the two drivers of `auth_steps` ----------------------------------------------------------

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Authenticate ``request`` for ``httpx.Client``; logins are serialised by a threading lock."""
        steps = auth_steps(self._keeper, request)
        held: list[AbstractContextManager[bool]] = []  # the locks taken, the last one on top
        answer: object = None
        deadline = math.inf  # of the waits for another caller's login, from the first blocking Hold
        sent_before = False  # whether ``request`` went out already (its second send is the replay)
        try:
            while True:
                try:
                    step = steps.send(answer)
                except StopIteration:
                    return
                answer = None
                if isinstance(step, Send):
                    first_try = self._mark_first_try(step.request, request, sent_before)
                    sent_before = sent_before or step.request is request
                    try:
                        answer = yield step.request
                    finally:
                        if first_try:
                            request.extensions.pop(REPLAY_PENDING, None)
                elif isinstance(step, Read):
                    step.response.read()
                elif isinstance(step, Load | Save | Discard):
                    answer = carry_out(self._keeper, step)
                elif isinstance(step, Hold):
                    if step.lock == "flow" or deadline == math.inf:
                        deadline = time.monotonic() + self.login_wait
                    lock = self._sync_hold(step, deadline)
                    answer = lock.__enter__()
                    held.append(lock)
                else:
                    held.pop().__exit__(None, None, None)
        finally:
            steps.close()
            while held:
                held.pop().__exit__(None, None, None)

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Authenticate ``request`` for ``httpx.AsyncClient``; logins are serialised by an asyncio lock."""
        steps = auth_steps(self._keeper, request)
        held: list[AbstractAsyncContextManager[bool]] = []  # the locks taken, the last one on top
        answer: object = None
        deadline = math.inf  # of the waits for another caller's login, from the first blocking Hold
        sent_before = False  # whether ``request`` went out already (its second send is the replay)
        try:
            while True:
                try:
                    step = steps.send(answer)
                except StopIteration:
                    return
                answer = None
                if isinstance(step, Send):
                    first_try = self._mark_first_try(step.request, request, sent_before)
                    sent_before = sent_before or step.request is request
                    try:
                        answer = yield step.request
                    except GeneratorExit as exit_:
                        # An async generator's aclose() does not chain the exception that closed it:
                        # say whether it was a cancellation, for the steps (`_keeper._interruption`).
                        exit_.__context__ = exit_.__context__ or cancellation()
                        raise
                    finally:
                        if first_try:
                            request.extensions.pop(REPLAY_PENDING, None)
                elif isinstance(step, Read):
                    await step.response.aread()
                elif isinstance(step, Load | Save | Discard):
                    answer = await acarry_out(self._keeper, step)
                elif isinstance(step, Hold):
                    if step.lock == "flow" or deadline == math.inf:
                        deadline = time.monotonic() + self.login_wait
                    lock = self._async_hold(step, deadline)
                    answer = await lock.__aenter__()
                    held.append(lock)
                else:
                    await held.pop().__aexit__(None, None, None)
        finally:
            steps.close()
            while held:
                await held.pop().__aexit__(None, None, None)

    def _mark_first_try(self, sent: httpx.Request, request: httpx.Request, sent_before: bool) -> bool:
        """Mark ``request``'s first send with the token, whose 401 the flow handles (see `_replaying`)."""
        if sent is not request or sent_before or origin(request.url) != self._origin:
            return False  # a login, the replay, or a request the token does not go to
        request.extensions[REPLAY_PENDING] = True
        return True

    # -- locks -----------------------------------------------------------------------------------

    def _sync_hold(self, step: Hold, deadline: float) -> AbstractContextManager[bool]:
        if step.lock == "store":
            # A sync call on a thread that runs an event loop does not wait: that loop may hold the lock.
            return sync_store_lock(self._keeper, blocking=step.blocking and may_block_here(), deadline=deadline)
        return held(self._sync_lock, blocking=step.blocking, deadline=deadline)

    def _async_hold(self, step: Hold, deadline: float) -> AbstractAsyncContextManager[bool]:
        if step.lock == "store":
            return async_store_lock(self._keeper, blocking=step.blocking, deadline=deadline)
        return async_held(self._async_lock(), blocking=step.blocking, deadline=deadline)

    def _async_lock(self) -> asyncio.Lock:
        import asyncio  # only async users pay for importing asyncio (import time of the client)

        loop = asyncio.get_running_loop()
        with self._async_locks_lock:
            lock = self._async_locks.get(loop)
            if lock is None:
                # Forget the locks of closed loops (e.g. one asyncio.run() per test) so none piles up.
                self._async_locks = {key: value for key, value in self._async_locks.items() if not key.is_closed()}
                lock = self._async_locks[loop] = asyncio.Lock()
            return lock
