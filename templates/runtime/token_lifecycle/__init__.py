"""Token lifecycle for generated API clients: log in, inject the token, refresh it, recover from 401.

Spec-agnostic and self-contained (stdlib and httpx): the generator copies this package verbatim into
each client as ``<client_package>/_token_lifecycle/``; everything API-specific is passed in by the
client's ``client.py``. Its modules import one another relatively, so the package works under any name.

One concern per module, in the order they build on each other:

- ``_errors``       the exceptions (catch `AuthError`)
- ``_values``       the base of the frozen value types, whose reprs never show a secret
- ``_urls``         joining URLs, the loopback rule, URLs safe to log
- ``_fork``         fresh locks in a forked child (``os.register_at_fork``)
- ``_redaction``    token fingerprints and the log filter that hides secrets
- ``_credentials``  user name and password; an OAuth2 client's id and secret; HTTP Basic
- ``_placement``    where a token travels in a request: header, query parameter or cookie, and how
- ``_state``        a token's lifetime and the refresh windows (pure values)
- ``_login``        the login operation as data (an OAuth2 token request too): its request
- ``_oauth2``       RFC 6749 specifics: error answers (§5.2), the refresh token held in memory (§6)
- ``_answer``       a login's answer: screened before it is read, then the token, lifetime, refresh token
- ``_fail_open``    a shared backend (Redis) that fails: one warning, work without it until it is back
- ``_stores``       where a token lives between logins (memory, or a file shared by processes); the protocols
- ``_redis_backend`` Redis clients with bounded timeouts, and the health of that Redis (loaded lazily)
- ``_redis_store``  a token shared by a fleet of processes on many hosts, through Redis (loaded lazily)
- ``_pools``        the httpx clients a generated client built: one per event loop, none across a fork
- ``_retry``        retries of service-limit answers (503), at the transport layer
- ``_limits``       an account's service limit; pacing calls under it in one process (`RateLimiter`)
- ``_redis_limiter`` one service limit shared by a fleet of processes, through Redis (loaded lazily)
- ``_pacing``       the transports that take a slot of the limit before each request, under the retries
- ``_attempts``     finished logins and the last failure: what waiting callers share, the back-off
- ``_keeper``       the token of one lifecycle and every decision about it
- ``_flow``         the one sequence of those decisions, as steps, for the sync and the async flow
- ``_store_io``     the store's steps carried out (awaited on an async store), its lock polled within a bound
- ``_hooks``        event hooks: secrets never follow a redirect; your hooks skip the replayed 401
- ``_locks``        bounded waits for a lock, for both drivers
- ``_auth``         `TokenLifecycle`, the ``httpx.Auth`` that drives the steps
- ``_security``     the document's schemes; `SecurityAuth` picks per request which ones to use

Import from the package, not from its modules: the names below are the public ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._answer import LoginResult, read_login_response, resolve_json_pointer
from ._auth import (
    DEFAULT_INVALID_ON,
    DEFAULT_LOGGER_NAME,
    LOGIN_WAIT_MARGIN_SECONDS,
    TokenLifecycle,
)
from ._credentials import ClientCredentials, Credentials
from ._errors import (
    AuthError,
    CredentialsError,
    InsecureTransportError,
    LoginError,
    MissingCredentialsError,
    RateLimitTimeoutError,
    ServiceLimitError,
    TokenRejectedError,
    UnreplayableRequestError,
)
from ._fail_open import REDIS_TIMEOUT_SECONDS, REMOTE_RECHECK_SECONDS, FailOpen
from ._fork import after_fork_in_child
from ._keeper import LOGIN_FAILURE_BACKOFF_SECONDS, LOGIN_TIMEOUT_SECONDS
from ._limits import (
    DEFAULT_PACING_MARGIN,
    DEFAULT_RATE_LIMIT_WAIT,
    BindableRateLimiter,
    LocalRateLimiter,
    RateLimiter,
    ServiceLimits,
    resolve_rate_limiter,
)
from ._login import LoginCall, login_secrets
from ._pacing import AsyncPacedTransport, PacedTransport
from ._placement import TokenPlacement
from ._pools import BuiltClients
from ._redaction import (
    MAX_REMEMBERED_TOKENS,
    SecretRedactionFilter,
    fingerprint,
    install_redaction_filter,
    redacting,
)
from ._retry import (
    DEFAULT_ATTEMPTS,
    DEFAULT_BASE_DELAY,
    DEFAULT_MAX_DELAY,
    DEFAULT_MAX_TOTAL,
    DEFAULT_RETRY_AFTER_CAP,
    DEFAULT_RETRY_STATUSES,
    AsyncRetryTransport,
    RetryPolicy,
    RetryTransport,
    parse_retry_after,
)
from ._security import SECURITY_EXTENSION, SecurityAuth, SecurityScheme
from ._state import ADVISORY_REFRESH_SECONDS, MANDATORY_REFRESH_SECONDS, LifecycleStats, TokenState
from ._store_io import STORE_LOCK_POLL_SECONDS
from ._stores import AsyncTokenStore, FileTokenStore, MemoryTokenStore, StoredToken, TokenStore

if TYPE_CHECKING:  # imported on first use by __getattr__ below: see _LAZY
    from ._redis_limiter import RedisRateLimiter
    from ._redis_store import RedisTokenStore

#: Public names whose modules load only when first used: the fleet's optional parts (their
#: libraries, redis and limits, are extras), so that a client that does not use them pays nothing.
_LAZY = {
    "RedisRateLimiter": "._redis_limiter",
    "RedisTokenStore": "._redis_store",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # once: later lookups are plain attribute reads
    return value


__all__ = [
    "ADVISORY_REFRESH_SECONDS",
    "DEFAULT_ATTEMPTS",
    "DEFAULT_BASE_DELAY",
    "DEFAULT_INVALID_ON",
    "DEFAULT_LOGGER_NAME",
    "DEFAULT_MAX_DELAY",
    "DEFAULT_MAX_TOTAL",
    "DEFAULT_PACING_MARGIN",
    "DEFAULT_RATE_LIMIT_WAIT",
    "DEFAULT_RETRY_AFTER_CAP",
    "DEFAULT_RETRY_STATUSES",
    "LOGIN_FAILURE_BACKOFF_SECONDS",
    "LOGIN_TIMEOUT_SECONDS",
    "LOGIN_WAIT_MARGIN_SECONDS",
    "MANDATORY_REFRESH_SECONDS",
    "MAX_REMEMBERED_TOKENS",
    "REDIS_TIMEOUT_SECONDS",
    "REMOTE_RECHECK_SECONDS",
    "SECURITY_EXTENSION",
    "STORE_LOCK_POLL_SECONDS",
    "AsyncPacedTransport",
    "AsyncRetryTransport",
    "AsyncTokenStore",
    "AuthError",
    "BindableRateLimiter",
    "BuiltClients",
    "ClientCredentials",
    "Credentials",
    "CredentialsError",
    "FailOpen",
    "FileTokenStore",
    "InsecureTransportError",
    "LifecycleStats",
    "LocalRateLimiter",
    "LoginCall",
    "LoginError",
    "LoginResult",
    "MemoryTokenStore",
    "MissingCredentialsError",
    "PacedTransport",
    "RateLimitTimeoutError",
    "RateLimiter",
    "RedisRateLimiter",
    "RedisTokenStore",
    "RetryPolicy",
    "RetryTransport",
    "SecretRedactionFilter",
    "SecurityAuth",
    "SecurityScheme",
    "ServiceLimitError",
    "ServiceLimits",
    "StoredToken",
    "TokenLifecycle",
    "TokenPlacement",
    "TokenRejectedError",
    "TokenState",
    "TokenStore",
    "UnreplayableRequestError",
    "after_fork_in_child",
    "fingerprint",
    "install_redaction_filter",
    "login_secrets",
    "parse_retry_after",
    "read_login_response",
    "redacting",
    "resolve_json_pointer",
    "resolve_rate_limiter",
]
