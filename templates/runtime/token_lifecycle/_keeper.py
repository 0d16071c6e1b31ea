"""The token of one lifecycle and every decision about it: when to refresh, whom to trust, what to count.

`TokenKeeper` never waits and never sends: it says what the token needs, builds the login request,
reads the login response, adopts a token from the store, compare-and-invalidates a rejected token and
counts it all. The one sequence of these decisions lives in `._flow`; `TokenLifecycle` only drives it.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import Counter, deque
from collections.abc import Callable

import httpx

from ._answer import CappedStream, read_login_response, redirected_login, screen_login_response, too_large_login
from ._attempts import LoginAttempts, interruption
from ._credentials import Credentials
from ._errors import (
    AuthError,
    InsecureTransportError,
    LoginError,
    TokenRejectedError,
    UnreplayableRequestError,
    static_token_rejected,
)
from ._fork import renew_after_fork
from ._login import MAX_TOKEN_LENGTH, LoginCall, is_header_safe, login_request_for
from ._oauth2 import REFRESH_EXTENSION, RefreshToken
from ._placement import TokenPlacement
from ._redaction import SecretRedactionFilter, fingerprint
from ._state import LifecycleStats, Need, TokenState
from ._stores import StoredToken, TokenStore
from ._urls import is_loopback, origin, safe_url

#: How many rejected tokens the lifecycle remembers so that it never takes one back from the store.
REJECTED_TOKENS_REMEMBERED = 16

#: Seconds: the bound of each phase of the login request (pool, connect, write, read), whatever the
#: client's own timeout (a smaller one of the client's wins). Every caller waiting for a login waits
#: for one such attempt, so a login that never answers must not inherit an unbounded call timeout.
LOGIN_TIMEOUT_SECONDS = 10.0

#: Seconds after a failed login during which no caller of the lifecycle tries again: each one gets
#: the remembered `LoginError` at once (a crash-looping pool must not hammer the login endpoint).
LOGIN_FAILURE_BACKOFF_SECONDS = 5.0


def _is_replayable(request: httpx.Request) -> bool:
    # A body held in memory can be sent again; a streaming body was consumed by the first send.
    return isinstance(request.stream, httpx.ByteStream)


class TokenKeeper:
    """Hold one lifecycle's token, counters and store, and decide about them (no waiting, no I/O).

    What the store holds comes in (`adopt`) and what it should hold goes out (`stored_form`, the token
    to discard): the drivers do the store's I/O, each in its own way (see `._store_io`).
    """

    def __init__(
        self,
        *,
        base_url: httpx.URL,
        login: LoginCall | None,
        credentials: Credentials | None,
        token: str | None,
        placement: TokenPlacement,
        lifetime: float,
        invalid_on: frozenset[int],
        advisory_window: float,
        mandatory_window: float,
        clock: Callable[[], float],
        wall_clock: Callable[[], float],
        store: TokenStore,
        logger: logging.Logger,
        allow_insecure_http: bool,
        redaction: SecretRedactionFilter,
        login_timeout: float = LOGIN_TIMEOUT_SECONDS,
        login_wait: float = 2 * LOGIN_TIMEOUT_SECONDS + 1.0,
        login_backoff: float = LOGIN_FAILURE_BACKOFF_SECONDS,
        client: Credentials | None = None,
        static_description: str | None = None,
    ) -> None:
        self._base_url = base_url
        self._origin = origin(base_url)
        # A login may go to another origin (an OAuth2 identity provider): only its answers are trusted.
        self._login_origin = self._origin if login is None else origin(login.url(base_url))
        self._client = client
        # What a rejection of the static token names: "the static token tok:..", "the HTTP Basic credentials of .."
        self._static_description = static_description
        self._refresh = RefreshToken(redaction)
        self._quiet: tuple[TokenState | None, float] = (None, -math.inf)
        self._login = login
        self._credentials = credentials
        self._placement = placement
        self._lifetime = lifetime
        #: Statuses that mean "this token is no longer valid".
        self.invalid_on = invalid_on
        self._advisory_window = advisory_window
        self._mandatory_window = mandatory_window
        self._clock = clock
        self._wall_clock = wall_clock
        self._logger = logger
        self._allow_insecure_http = allow_insecure_http
        # Decided once: every request the token goes with has the service's origin, so the same verdict.
        self._secure_origin = base_url.scheme == "https" or allow_insecure_http or is_loopback(base_url)
        self._redaction = redaction
        # The store may be shared: a subject keeps one user's token away from another user.
        self._subject = "" if credentials is None else f"{credentials.username}@{safe_url(base_url)}"
        # Consulted before every login and written after it, under its ``lock()`` (all by the drivers).
        # A store shared by many subjects (Redis) gives each lifecycle the store of its own subject.
        bound: Callable[[str], TokenStore] | None = getattr(store, "bound", None)
        self.store: TokenStore = store if bound is None else bound(self._subject)
        # Guards _state and _counts; never held across I/O or a yield.
        self._state_lock = threading.Lock()
        renew_after_fork(self, _state_lock=threading.Lock)  # a forked child's first call must not hang
        self._counts: Counter[str] = Counter()
        self._rejected: deque[str] = deque(maxlen=REJECTED_TOKENS_REMEMBERED)
        self._state: TokenState | None = None
        self._login_timeout = login_timeout
        self._login_wait = login_wait
        # Callers that waited on a login share its failure; later ones get it until the back-off has passed.
        self._attempts = LoginAttempts(clock=clock, backoff=login_backoff)
        if token is not None:
            # A static token's lifetime is unknown: never refreshed early, only replaced after a rejection.
            self._state = TokenState(token=token, obtained_at=clock(), expires_at=math.inf)

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
        self._refresh.keep(None, drop=True)  # a full login, not a refresh
        with self._state_lock:
            if self._state is not None:
                self._rejected.append(self._state.token)  # and never take it back from the store
            self._state = None
        self._attempts.forget_failure()  # and the next request logs in, even inside a back-off

    @property
    def _username(self) -> str:
        return "" if self._credentials is None else self._credentials.username

    @property
    def attempts(self) -> int:
        """How many logins have finished (failed or not): a caller notes it before waiting on the lock."""
        return self._attempts.finished

    def check_failure(self, seen: int) -> None:
        """Raise the last login failure instead of a new login, when it applies (see `LoginAttempts`)."""
        self._attempts.raise_failure(seen)

    def backing_off(self) -> bool:
        """Tell whether a login failed less than the back-off ago (an advisory refresh then waits)."""
        return self._attempts.backing_off()

    def gave_up_waiting(self) -> LoginError:
        """The error of a caller that waited longer than ``login_wait`` for another caller's login."""
        username = "" if self._credentials is None else self._credentials.username
        self._logger.warning("gave up waiting %.1fs for another caller's login as %r", self._login_wait, username)
        return LoginError(
            f"gave up waiting {self._login_wait:.1f}s for another caller's login as {username!r}; try again later",
            username=username,
        )

    def _record_failure(self, error: LoginError, *, back_off: bool = True) -> None:
        self._attempts.failed(error, back_off=back_off)
        with self._state_lock:
            self._counts["failed_logins"] += 1

    def login_interrupted(self, exit_: BaseException) -> None:
        """The flow was closed mid-login (a timeout, a reset, a raising hook): fail the callers waiting on it."""
        cause = interruption(exit_)
        if (cause is not None and not isinstance(cause, Exception)) or self._credentials is None:
            return  # a cancelled task, a KeyboardInterrupt: the callers that waited try for themselves
        if self._attempts.is_last_failure(cause):
            return  # a refusal the lifecycle raised itself (a login redirected elsewhere): recorded already
        username = self._credentials.username
        reason = "interrupted" if cause is None else type(cause).__name__
        error = LoginError(
            f"login as {username!r} did not complete: {reason} (another caller's login attempt, shared "
            "with the callers that waited on it)",
            username=username,
        )
        # Shared with the callers queued on it (each would wait as long again), without a back-off: the
        # next caller tries again (the service did not refuse the credentials).
        self._record_failure(error, back_off=False)
        self._logger.warning("login as %r did not complete: %s", username, reason)

    def applies_to(self, request: httpx.Request) -> bool:
        url = request.url
        if origin(url) != self._origin:
            return False
        if not self._secure_origin:
            self._require_secure(url, "a token")  # raises
        return True

    def _require_secure(self, url: httpx.URL, what: str) -> None:
        if url.scheme == "https" or self._allow_insecure_http or is_loopback(url):
            return
        raise InsecureTransportError(
            f"refusing to send {what} over {url.scheme}:// to {url.host}: use https, a loopback host, "
            "or pass allow_insecure_http=True",
            url=safe_url(url),
        )

    def assess(self) -> tuple[Need, TokenState | None]:
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

    def apply(self, request: httpx.Request, token: str) -> None:
        self._placement.apply(request, token)

    def static_token(self) -> str:
        """The token of a lifecycle that never logs in (given as is); raise when it was invalidated."""
        state = self._state
        if state is None:
            raise AuthError("the static token was dropped (invalidate()): pass a fresh token")
        return state.token

    def _reason(self, need: Need, current: TokenState | None, rejected: str | None) -> str:
        if rejected is not None:
            return f"token {fingerprint(rejected)} was rejected"
        if current is None:
            return "no token yet"
        remaining = current.remaining(self._clock())
        if remaining <= 0:
            return f"token {fingerprint(current.token)} expired {-remaining:.0f}s ago"
        return f"{need.value} refresh: token {fingerprint(current.token)} has {remaining:.0f}s left"

    def check_can_log_in(self) -> None:
        """Raise when there is nothing to log in with (a static token alone, after ``invalidate()``)."""
        if self._login is None or self._credentials is None:
            raise AuthError("no token and no credentials to log in with: pass credentials or a fresh token")

    def login_request(
        self,
        request: httpx.Request,
        need: Need,
        current: TokenState | None,
        *,
        rejected: str | None,
    ) -> httpx.Request:
        """The login (or refresh-token) request to send, logged with its reason (store lock held)."""
        if self._login is None or self._credentials is None:
            raise AuthError("no token and no credentials to log in with: pass credentials or a fresh token")
        refresh_token = self._refresh.current
        login_request = login_request_for(
            self._login,
            self._base_url,
            self._credentials,
            client=self._client,
            refresh_token=refresh_token,
            trigger=request,
            timeout=self._login_timeout,
        )
        self._require_secure(login_request.url, "credentials" if refresh_token is None else "a refresh token")
        self._logger.info(
            "logging in as %r (%s)" if refresh_token is None else "refreshing the token of %r by refresh token (%s)",
            self._username,
            self._reason(need, current, rejected),
        )
        return login_request

    def adopt(
        self, stored: StoredToken | None, need: Need, current: TokenState | None, *, rejected: str | None
    ) -> tuple[TokenState | None, str | None]:
        """Judge what the store held: the state to use instead of a login (or None), and a token to discard.

        The token to discard is the stored one when the service refused it (or it cannot be sent): the
        flow compare-and-invalidates it, so that the next process does not take it either.
        """
        if stored is None or stored.subject != self._subject:
            return None, None
        with self._state_lock:
            refused = stored.token == rejected or stored.token in self._rejected
        if not is_header_safe(stored.token) or len(stored.token) > MAX_TOKEN_LENGTH:
            # Any store's: a token that breaks the header would fail every request of every process.
            self._logger.warning("the token in %r cannot be sent in a header; discarding it", self.store)
            refused = True
        if refused:
            return None, stored.token  # the service said no: do not hand it to the next process either
        if current is not None and stored.token == current.token:
            return None, None
        now, wall = self._clock(), self._wall_clock()
        age = 0.0 if stored.obtained_at_wall is None else max(0.0, wall - stored.obtained_at_wall)
        state = TokenState(token=stored.token, obtained_at=now - age, expires_at=now + stored.expires_at_wall - wall)
        fresh_need = state.need(now, advisory_window=self._advisory_window, mandatory_window=self._mandatory_window)
        if fresh_need is Need.MANDATORY or (need is Need.ADVISORY and fresh_need is not Need.NOTHING):
            return None, None
        self._redaction.remember(stored.token)
        with self._state_lock:
            self._state = state
            self._counts["store_hits"] += 1
        self._logger.info(
            "using token %s from %r (expires in %.0fs)", fingerprint(state.token), self.store, state.remaining(now)
        )
        return state, None

    def stored_form(self, state: TokenState) -> StoredToken:
        """``state`` as the store keeps it: wall-clock times (monotonic clocks do not cross processes)."""
        now, wall = self._clock(), self._wall_clock()
        return StoredToken(
            token=state.token,
            expires_at_wall=wall + (state.expires_at - now),
            obtained_at_wall=wall - (now - state.obtained_at),
            subject=self._subject,
        )

    def store_wait_over(self) -> None:
        """Log a store lock that stayed busy for ``login_wait``: the caller logs in without it."""
        self._logger.warning(
            "%r stayed locked for %.1fs (another process's login may hang); logging in without its lock",
            self.store,
            self._login_wait,
        )

    def store_failed(self, action: str, error: OSError) -> None:
        """Log a store that could not be read or written: the store only shares logins, the call goes on."""
        consequence = "logging in instead" if action == "read" else "other processes will log in"
        self._logger.warning("cannot %s the token store %r (%s); %s", action, self.store, error, consequence)

    def _login_failed(self, error: LoginError) -> LoginError:
        """Count and log a refused login answer, and share it with the waiters like any failed login."""
        self._record_failure(error)
        self._logger.warning("%s", error)
        return error

    def login_redirected(self, url: httpx.URL) -> LoginError:
        """The error for a login that httpx would follow to another origin (counted and logged)."""
        return self._login_failed(redirected_login(self._username, url))

    def check_login_response(self, response: httpx.Response) -> None:
        """Refuse a login answered by another origin or too big to be a token (see `screen_login_response`)."""
        refusal = screen_login_response(response, self._login_origin, username=self._username)
        if refusal is not None:
            raise self._login_failed(refusal)

    def answered_by_service(self, response: httpx.Response) -> bool:
        """Whether ``response`` comes from the service: a 401 of another origin says nothing of the token."""
        if origin(response.url) == self._origin:
            return True
        self._logger.info(
            "HTTP %d from %s, another origin than the service (a followed redirect): token kept",
            response.status_code,
            safe_url(response.url),
        )
        return False

    def finish_login(
        self,
        response: httpx.Response,
        need: Need,
        current: TokenState | None,
        *,
        rejected: str | None,
    ) -> TokenState | httpx.Request:
        """Turn a read login response into the current token and log it; raise `LoginError`.

        A failed refresh by refresh token (RFC 6749 §6) drops that refresh token and returns the request
        of a full login instead: the flow sends it, once (the next refresh is a login).
        """
        now = self._clock()  # the lifetime counts from the response's arrival
        if self._login is None or self._credentials is None:
            raise AuthError("no credentials to log in with")  # unreachable: begin_refresh checked first
        username = self._credentials.username
        refreshing = response.request.extensions.get(REFRESH_EXTENSION) is True
        try:
            if isinstance(response.stream, CappedStream) and response.stream.exceeded:
                # The body was cut short at the bound: not parsed.
                raise too_large_login(username, response.status_code)
            result = read_login_response(self._login, response, username=username, redact=self._redaction.redact)
        except LoginError as exc:
            exc.args = tuple(self._redaction.redact(arg) if isinstance(arg, str) else arg for arg in exc.args)
            if refreshing:
                return self._refresh_failed(exc, response.request, need, current, rejected=rejected)
            self._record_failure(exc)
            self._logger.warning("%s", exc)
            raise
        self._redaction.remember(result.token)
        self._refresh.keep(result.refresh_token)
        if result.lifetime_problem is not None:
            self._logger.warning("%s; using the static lifetime of %.0fs", result.lifetime_problem, self._lifetime)
        lifetime = self._lifetime if result.lifetime is None else result.lifetime
        state = TokenState(token=result.token, obtained_at=now, expires_at=now + lifetime)
        with self._state_lock:
            self._state = state
            self._attempts.succeeded()
            self._counts["token_refreshes" if refreshing else "logins"] += 1
            if current is not None and rejected is None and need is not Need.NOTHING:
                self._counts["proactive_refreshes"] += 1
        self._logger.info("logged in as %r: token %s expires in %.0fs", username, fingerprint(result.token), lifetime)
        return state

    def _refresh_failed(
        self, error: LoginError, request: httpx.Request, need: Need, current: TokenState | None, *, rejected: str | None
    ) -> httpx.Request:
        """Drop the refresh token that failed and return the request of a full login (see `finish_login`)."""
        self._refresh.keep(None, drop=True)
        with self._state_lock:
            self._counts["failed_token_refreshes"] += 1
        self._logger.warning("refresh by refresh token failed (%s); logging in instead", error)
        return self.login_request(request, need, current, rejected=rejected)

    def log_advisory_failure(self, kept: TokenState) -> None:
        self._logger.warning(
            "advisory refresh failed; keeping token %s for its last %.0fs",
            fingerprint(kept.token),
            kept.remaining(self._clock()),
        )

    def on_rejected(self, request: httpx.Request, response: httpx.Response, sent: str) -> None:
        """Compare-and-invalidate the token ``request`` carried; raise when no replay is possible."""
        if self._credentials is None:
            self._logger.warning(
                "static token %s rejected with HTTP %d on %s %s",
                fingerprint(sent),
                response.status_code,
                request.method,
                request.url.path,
            )
            raise static_token_rejected(response.status_code, fingerprint(sent), self._static_description)
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

    def replay(self, request: httpx.Request, response: httpx.Response, state: TokenState) -> None:
        self.apply(request, state.token)
        with self._state_lock:
            self._counts["replays"] += 1
        self._logger.info(
            "replaying %s %s with token %s after HTTP %d",
            request.method,
            request.url.path,
            fingerprint(state.token),
            response.status_code,
        )

    def rejected_again(self, request: httpx.Request, response: httpx.Response, state: TokenState) -> Exception:
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
