"""Token lifecycle for generated API clients: log in, inject the token, refresh it, recover from 401.

Spec-agnostic and self-contained (stdlib and httpx): the generator copies this module verbatim into
each client as ``<client_package>/_token_lifecycle.py``; everything API-specific is passed in by the
client's ``client.py``.

One module, in sections (errors, value classes, URLs, redaction, credentials, token state, login,
token stores, retries, the auth flow), because every module a client imports costs about 0.1 ms
before its first line runs: as eleven modules the runtime made a client import 1 % slower than a
stock openapi-python-client one.
"""

from __future__ import annotations

import contextlib
import email.utils
import enum
import functools
import hashlib
import ipaddress
import json
import logging
import math
import os
import random as _random
import sys
import tempfile
import threading
import time
import traceback
import weakref
from collections import Counter, deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Iterable, Mapping
from contextlib import AbstractContextManager
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, NoReturn, Protocol, TypeAlias, cast
from urllib.parse import quote, quote_plus

import httpx

if TYPE_CHECKING:
    import asyncio

__all__ = [
    "ADVISORY_REFRESH_SECONDS",
    "DEFAULT_ATTEMPTS",
    "DEFAULT_BASE_DELAY",
    "DEFAULT_INVALID_ON",
    "DEFAULT_LOGGER_NAME",
    "DEFAULT_MAX_DELAY",
    "DEFAULT_MAX_TOTAL",
    "DEFAULT_RETRY_AFTER_CAP",
    "DEFAULT_RETRY_STATUSES",
    "MANDATORY_REFRESH_SECONDS",
    "MAX_REMEMBERED_TOKENS",
    "STORE_LOCK_POLL_SECONDS",
    "AsyncRetryTransport",
    "AuthError",
    "Credentials",
    "CredentialsError",
    "FileTokenStore",
    "InsecureTransportError",
    "LifecycleStats",
    "LoginCall",
    "LoginError",
    "LoginResult",
    "MemoryTokenStore",
    "RetryPolicy",
    "RetryTransport",
    "SecretRedactionFilter",
    "ServiceLimitError",
    "StoredToken",
    "TokenLifecycle",
    "TokenRejectedError",
    "TokenState",
    "TokenStore",
    "UnreplayableRequestError",
    "fingerprint",
    "install_redaction_filter",
    "parse_retry_after",
    "read_login_response",
    "resolve_json_pointer",
]


# --------------------------------------------------------------------------------------------------
# Errors. Catch `AuthError` to handle every authentication failure.
#
# The tree::
#
#     Exception
#     ├── AuthError                     the client could not authenticate a request
#     │   ├── CredentialsError          credentials are missing (e.g. an unset environment variable)
#     │   ├── InsecureTransportError    refused to send credentials or a token over plain http
#     │   ├── LoginError                the login operation failed or answered an unexpected shape
#     │   ├── TokenRejectedError        the service rejected a token the client cannot replace
#     │   └── UnreplayableRequestError  a rejected request had a streaming body that cannot be sent twice
#     └── ServiceLimitError             the service kept answering a retryable status (e.g. 503)
#
# No message, attribute or ``repr`` of these exceptions contains a password or a token: they name the
# user, the status and a token fingerprint (``tok:1a2b3c4d``) instead, and URLs lose their query string.
# --------------------------------------------------------------------------------------------------


class AuthError(Exception):
    """Catch this to handle any failure to authenticate a request."""


class CredentialsError(AuthError):
    """Set the named credential source (e.g. the environment variable) and try again."""


class InsecureTransportError(AuthError):
    """Use https, a loopback host, or pass ``allow_insecure_http=True`` to send secrets over plain http."""

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message)
        #: The refused URL without user info or query string.
        self.url = url


class LoginError(AuthError):
    """Check the credentials and the login operation; ``status_code`` is None when the shape was wrong."""

    def __init__(self, message: str, *, username: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.username = username
        self.status_code = status_code


class TokenRejectedError(AuthError):
    """The service rejected the token even after a fresh login, or a static token with no way to log in."""

    def __init__(self, message: str, *, status_code: int, token_fingerprint: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        #: ``fingerprint(token)`` of the rejected token, never the token itself.
        self.token_fingerprint = token_fingerprint


class UnreplayableRequestError(AuthError):
    """Send the request again: its token was rejected and its streaming body could not be replayed."""

    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class ServiceLimitError(Exception):
    """Back off and retry later: the service kept answering a retryable status after every attempt."""

    def __init__(self, message: str, *, attempts: int, last_status: int, url: str) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.last_status = last_status
        #: The request URL without user info or query string.
        self.url = url


# --------------------------------------------------------------------------------------------------
# Value classes, built by hand: importing a client must stay as cheap as importing a stock one.
#
# attrs writes and compiles the methods of each class it builds, about 0.6 ms per class at import
# time; the runtime's seven value classes cost more than the rest of it together. A subclass of
# `Value` lists its fields in ``__slots__`` and sets them in ``__init__`` with `Value._init`; it is
# then frozen, compared and hashed by its fields in order, copied and pickled like any value, and
# shown by ``__repr__`` with the field renderers of ``_repr_fields`` (a renderer of None hides the
# field: tokens and passwords never reach a repr).
# --------------------------------------------------------------------------------------------------


class Value:
    """Frozen, equal by fields, hashable, and shown without secrets (see the comment above)."""

    __slots__ = ()
    _repr_fields: ClassVar[Mapping[str, Callable[[Any], str] | None]] = {}
    """Field → how ``repr()`` shows it; a field missing here is shown with ``repr``, None hides it."""

    def _init(self, **fields: object) -> None:
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    def _names(self) -> tuple[str, ...]:
        # Every subclass lists its fields in __slots__ (the base's own is empty).
        return cast(tuple[str, ...], type(self).__slots__)

    def _fields(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self._names())

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"{type(self).__name__} is immutable: build a new one instead of setting {name!r}")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"{type(self).__name__} is immutable: {name!r} cannot be deleted")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Value) or type(other) is not type(self):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash((type(self).__qualname__, *self._fields()))

    def __repr__(self) -> str:
        shown: list[str] = []
        for name in self._names():
            render = self._repr_fields.get(name, repr)
            if render is not None:
                shown.append(f"{name}={render(getattr(self, name))}")
        return f"{type(self).__name__}({', '.join(shown)})"

    def __getstate__(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self._names()}

    def __setstate__(self, state: dict[str, object]) -> None:
        self._init(**state)


# --------------------------------------------------------------------------------------------------
# URLs, shared by the auth flow and the retry transport: joining, loopback test, safe display.
# --------------------------------------------------------------------------------------------------


#: Host names that always resolve to this machine. ``*.localhost`` is reserved for loopback by RFC 6761.
LOOPBACK_HOST_NAMES = frozenset({"localhost"})


def join_url(base_url: httpx.URL, path: str) -> httpx.URL:
    """Append ``path`` to the base URL's path the way httpx's ``base_url`` does (no query, no fragment)."""
    joined = base_url.path.rstrip("/") + "/" + path.lstrip("/")
    return base_url.copy_with(path=joined, query=None, fragment=None)


def is_loopback(url: httpx.URL) -> bool:
    """Tell whether ``url`` points at this machine (127.0.0.0/8, ::1, localhost)."""
    host = url.host.lower().rstrip(".")
    if host in LOOPBACK_HOST_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def safe_url(url: httpx.URL) -> str:
    """Return ``url`` fit for messages and logs: no user info, no query string, no fragment."""
    netloc = url.netloc.decode("ascii", errors="replace")
    return f"{url.scheme}://{netloc}{url.path}"


def origin(url: httpx.URL) -> tuple[str, bytes, int | None]:
    """Return (scheme, host, port) with the default port made explicit; httpx has normalised the host."""
    return url.scheme, url.raw_host, _port(url)


def _port(url: httpx.URL) -> int | None:
    if url.port is not None:
        return url.port
    return {"http": 80, "https": 443}.get(url.scheme)


# --------------------------------------------------------------------------------------------------
# Redaction: passwords and tokens stay out of log output; fingerprints for humans, a filter for the rest.
# --------------------------------------------------------------------------------------------------


#: What a secret becomes in a redacted log record.
REDACTED = "***"

#: How many past tokens the shared filter keeps redacting; the oldest are forgotten first. Tokens are
#: short-lived, so a bounded memory is enough to cover log lines written while they were current.
MAX_REMEMBERED_TOKENS = 256

#: Number of sha256 hex digits shown by `fingerprint`: enough to tell tokens apart in logs, far too few
#: to recover one.
FINGERPRINT_HEX_DIGITS = 8

#: Loggers of the HTTP stack that may print a request URL or response headers. httpx logs
#: ``HTTP Request: GET <url> ...`` at INFO, and that URL carries the password for APIs whose login
#: takes it in the query string. Logger filters do not apply to records propagated from child
#: loggers, so httpcore's children are listed one by one.
HTTP_LIBRARY_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)


def fingerprint(token: str) -> str:
    """Return a log-safe name for a token: ``tok:`` and the first hex digits of its sha256."""
    digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
    return f"tok:{digest[:FINGERPRINT_HEX_DIGITS]}"


def _encoded_forms(secret: str) -> set[str]:
    """Return the spellings a secret takes on its way into a log line: raw, URL-encoded, JSON-escaped."""
    forms = {
        secret,
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        # httpx encodes query parameters with its own safe set; ask it rather than guess.
        str(httpx.QueryParams({"x": secret})).removeprefix("x="),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
    }
    forms.discard("")
    return forms


class SecretRedactionFilter(logging.Filter):
    """Attach to a logger to replace every registered secret in its records with ``***``.

    Secrets come in two kinds. *Pinned* secrets (passwords, static tokens) are reference-counted and
    stay until their owner releases them. Issued tokens are remembered in a bounded FIFO of
    `MAX_REMEMBERED_TOKENS`. A record is redacted whether the secret sits in ``msg`` or in ``args``:
    the filter formats the record with ``getMessage()``, redacts the result and stores it back as
    ``msg`` with empty ``args``. Exception text and stack info are formatted and redacted the same way.
    The filter never drops a record.
    """

    def __init__(self, name: str = "") -> None:
        super().__init__(name)
        self._lock = threading.Lock()
        self._pinned: Counter[str] = Counter()
        self._tokens: dict[str, None] = {}  # insertion-ordered set: the first key is the oldest
        # Read without the lock on every record, so it is replaced, never mutated.
        self._patterns: tuple[str, ...] = ()
        # Releases requested by finalizers, applied by the next change under the lock (see unpin_later).
        self._released: deque[str] = deque()

    def pin(self, secret: str) -> None:
        """Redact ``secret`` until `unpin` has been called as many times as `pin`."""
        forms = _encoded_forms(secret)
        with self._lock:
            for form in forms:
                self._pinned[form] += 1
            self._settle()

    def unpin(self, secret: str) -> None:
        """Release one `pin` of ``secret``."""
        self._released.append(secret)
        with self._lock:
            self._settle()

    def unpin_later(self, secret: str) -> None:
        """Release one `pin` of ``secret`` at the next change, without taking the lock: for finalizers.

        The garbage collector runs finalizers inside whatever allocation triggers it, which may be one
        made under this filter's lock; taking the lock there would deadlock the thread. Until the next
        `pin`, `unpin` or `remember` the secret stays redacted, which is the safe side.
        """
        self._released.append(secret)  # deque.append is atomic and allocates no tracked object

    def remember(self, token: str) -> None:
        """Redact an issued token; the oldest remembered tokens are forgotten past the bound."""
        forms = _encoded_forms(token)
        with self._lock:
            for form in forms:
                self._tokens.pop(form, None)
                self._tokens[form] = None
            while len(self._tokens) > MAX_REMEMBERED_TOKENS:
                del self._tokens[next(iter(self._tokens))]
            self._settle()

    def redact(self, text: str) -> str:
        """Return ``text`` with every registered secret replaced by `REDACTED`."""
        for pattern in self._patterns:
            if pattern in text:
                text = text.replace(pattern, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place and keep it."""
        if not self._patterns:
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):
            # A malformed record is the handler's to report; a filter must never raise into the caller.
            return True
        redacted = self.redact(message)
        if redacted != message:
            record.msg = redacted
            record.args = ()
        if record.exc_info is not None and record.exc_text is None:
            # Handlers cache the formatted exception in exc_text; filling it here means they print ours.
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True

    def _settle(self) -> None:
        # Under the lock: apply the pending releases, then rebuild the patterns. Releases that
        # finalizers add meanwhile (an allocation here may run the garbage collector) wait for the next.
        for _ in range(len(self._released)):
            for form in _encoded_forms(self._released.popleft()):
                self._pinned[form] -= 1
                if self._pinned[form] <= 0:
                    del self._pinned[form]
        # Longest first, so a secret that contains another is replaced whole.
        self._patterns = tuple(sorted({*self._pinned, *self._tokens}, key=len, reverse=True))


#: The one filter of this package copy: installed once per logger, however many clients exist.
_SHARED_FILTER = SecretRedactionFilter()
_INSTALL_LOCK = threading.Lock()


def install_redaction_filter(*logger_names: str) -> SecretRedactionFilter:
    """Install the shared filter on the HTTP stack's loggers and on ``logger_names``; safe to repeat."""
    names = {*HTTP_LIBRARY_LOGGERS, *logger_names}
    with _INSTALL_LOCK:
        # Children of httpx/httpcore created by versions newer than the list above.
        names.update(
            name for name in list(logging.Logger.manager.loggerDict) if name.startswith(("httpx.", "httpcore."))
        )
        for name in sorted(names):
            logger = logging.getLogger(name)
            if _SHARED_FILTER not in logger.filters:
                logger.addFilter(_SHARED_FILTER)
    return _SHARED_FILTER


# --------------------------------------------------------------------------------------------------
# Credentials: a user name and password that never print the password.
# --------------------------------------------------------------------------------------------------


def _hide(_: str) -> str:
    return "'***'"


class Credentials(Value):
    """Pass to `TokenLifecycle` to log in; ``repr()`` shows the user name and ``password='***'``."""

    __slots__ = ("username", "password")  # noqa: RUF023 - the order of the fields (repr, equality)
    _repr_fields: ClassVar = {"password": _hide}
    username: str
    password: str

    def __init__(self, username: str, password: str) -> None:
        self._init(username=username, password=password)

    @classmethod
    def from_env(cls, user_var: str, password_var: str) -> Credentials:
        """Read credentials from two environment variables; raise `CredentialsError` naming a missing one."""
        values: list[str] = []
        for var in (user_var, password_var):
            value = os.environ.get(var)
            if not value:
                # Name the variable only: a half-set pair must not echo the half that is set.
                raise CredentialsError(f"environment variable {var} is not set or empty; set it to log in")
            values.append(value)
        username, password = values
        return cls(username=username, password=password)


# --------------------------------------------------------------------------------------------------
# Token state and refresh decisions, as pure values: no clock reads, no locks, no I/O.
# --------------------------------------------------------------------------------------------------


#: Seconds before expiry from which one caller refreshes while the others keep the current token.
ADVISORY_REFRESH_SECONDS = 900.0

#: Seconds before expiry from which every caller waits for a fresh token.
MANDATORY_REFRESH_SECONDS = 300.0

#: Largest share of a token's lifetime the advisory window may cover. Without it a token living less
#: than the window (e.g. ``expires_in: 60``) would be "expiring" from birth and trigger a login per call.
ADVISORY_MAX_FRACTION = 0.5

#: Largest share of a token's lifetime the mandatory window may cover (see `ADVISORY_MAX_FRACTION`).
MANDATORY_MAX_FRACTION = 0.25


class Need(enum.Enum):
    """What a caller must do about the token before sending a request."""

    NOTHING = "nothing"
    ADVISORY = "advisory"
    MANDATORY = "mandatory"


class TokenState(Value):
    """Hold one token and when it was obtained and expires, on the lifecycle's monotonic clock."""

    __slots__ = ("token", "obtained_at", "expires_at")  # noqa: RUF023 - the order of the fields (repr, equality)
    _repr_fields: ClassVar = {"token": fingerprint}
    token: str
    obtained_at: float
    #: ``math.inf`` for a static token whose lifetime is unknown: it is never refreshed proactively.
    expires_at: float

    def __init__(self, token: str, obtained_at: float, expires_at: float) -> None:
        self._init(token=token, obtained_at=obtained_at, expires_at=expires_at)

    @property
    def lifetime(self) -> float:
        """Return the token's whole lifetime in seconds."""
        return self.expires_at - self.obtained_at

    def remaining(self, now: float) -> float:
        """Return the seconds left before expiry at ``now`` (negative once expired)."""
        return self.expires_at - now

    def is_expired(self, now: float) -> bool:
        """Tell whether the token has expired at ``now``."""
        return now >= self.expires_at

    def _window(self, window: float, fraction: float) -> float:
        return min(window, self.lifetime * fraction) if math.isfinite(self.lifetime) else window

    def needs_mandatory_refresh(self, now: float, window: float) -> bool:
        """Tell whether every caller must wait for a fresh token at ``now``."""
        return self.remaining(now) <= self._window(window, MANDATORY_MAX_FRACTION)

    def needs_advisory_refresh(self, now: float, window: float) -> bool:
        """Tell whether one caller should refresh at ``now`` while the token is still usable."""
        return self.remaining(now) <= self._window(window, ADVISORY_MAX_FRACTION)

    def advisory_at(self, window: float) -> float:
        """Return the moment the advisory window opens: before it, the token needs nothing."""
        return self.expires_at - self._window(window, ADVISORY_MAX_FRACTION)

    def need(self, now: float, *, advisory_window: float, mandatory_window: float) -> Need:
        """Return the most urgent refresh this token needs at ``now``."""
        if self.needs_mandatory_refresh(now, mandatory_window):
            return Need.MANDATORY
        if self.needs_advisory_refresh(now, advisory_window):
            return Need.ADVISORY
        return Need.NOTHING


class LifecycleStats(Value):
    """A snapshot of the lifecycle's counters since it was created."""

    __slots__ = ("logins", "failed_logins", "proactive_refreshes", "invalidations", "replays", "store_hits")  # noqa: RUF023 - the order of the fields (repr, equality)

    #: Successful logins, whatever triggered them.
    logins: int
    #: Logins that failed (non-2xx or a response of the wrong shape).
    failed_logins: int
    #: Successful logins triggered by the advisory or mandatory window of a token that still existed.
    proactive_refreshes: int
    #: Tokens dropped because a response said they were no longer valid.
    invalidations: int
    #: Requests sent a second time with a fresh token after an invalid-token status.
    replays: int
    #: Tokens taken from the token store instead of logging in.
    store_hits: int

    def __init__(
        self,
        logins: int = 0,
        failed_logins: int = 0,
        proactive_refreshes: int = 0,
        invalidations: int = 0,
        replays: int = 0,
        store_hits: int = 0,
    ) -> None:
        self._init(
            logins=logins,
            failed_logins=failed_logins,
            proactive_refreshes=proactive_refreshes,
            invalidations=invalidations,
            replays=replays,
            store_hits=store_hits,
        )


# --------------------------------------------------------------------------------------------------
# Login: the service's login operation as data; build its request, read the token it returns.
# --------------------------------------------------------------------------------------------------


FieldLocation: TypeAlias = Literal["query", "header", "cookie", "form", "json"]
TokenSource: TypeAlias = Literal["body", "json"]

#: HTTP methods a login operation may use.
LOGIN_METHODS = frozenset({"GET", "POST"})

_LOCATIONS: frozenset[str] = frozenset({"query", "header", "cookie", "form", "json"})
_FROM_BODY: TokenSource = "body"
_FIRST_VISIBLE_ASCII = 0x21  # "!"
_LAST_VISIBLE_ASCII = 0x7E  # "~"
_FROM_JSON: TokenSource = "json"
_BODY_LOCATIONS = frozenset({"form", "json"})


class _Missing:
    """Marks a JSON pointer that leads nowhere (distinct from a JSON ``null``)."""


MISSING = _Missing()


def _check_choice(name: str, value: str, choices: frozenset[str]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")


def _check_pointer(pointer: str | None, what: str) -> None:
    if pointer is not None and pointer != "" and not pointer.startswith("/"):
        raise ValueError(f"{what} must be an RFC 6901 JSON pointer starting with '/', got {pointer!r}")


def resolve_json_pointer(document: object, pointer: str) -> object:
    """Return the value at an RFC 6901 ``pointer`` in ``document``, or `MISSING` if there is none."""
    if pointer == "":
        return document
    current = document
    for raw in pointer[1:].split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(current, dict):
            mapping = cast("dict[str, object]", current)  # parsed JSON: object keys are strings
            if part not in mapping:
                return MISSING
            current = mapping[part]
        elif isinstance(current, list):
            items = cast("list[object]", current)
            # RFC 6901: array indexes are decimal without leading zeros.
            if not part.isdigit() or (len(part) > 1 and part.startswith("0")) or int(part) >= len(items):
                return MISSING
            current = items[int(part)]
        else:
            return MISSING
    return current


class LoginResult(Value):
    """What a successful login yields: the token and, when the response said so, its lifetime."""

    __slots__ = ("token", "lifetime", "lifetime_problem")  # noqa: RUF023 - the order of the fields (repr, equality)
    _repr_fields: ClassVar = {"token": None}
    token: str
    #: Lifetime in seconds read through ``LoginCall.expires_in_pointer``; None means "use the static one".
    lifetime: float | None
    #: Why a configured ``expires_in_pointer`` was ignored (safe to log: it never quotes the body).
    lifetime_problem: str | None

    def __init__(self, token: str, lifetime: float | None = None, lifetime_problem: str | None = None) -> None:
        self._init(token=token, lifetime=lifetime, lifetime_problem=lifetime_problem)


class LoginCall(Value):
    """Pass to `TokenLifecycle` to say how the service's login operation takes credentials and returns a token.

    ``constants`` are fixed extra fields (e.g. ``("grant_type", "password")``) sent in the same place as
    the user name. ``token_pointer`` (RFC 6901) locates the token when ``token_from == "json"``;
    ``expires_in_pointer`` locates a lifetime in seconds that, when present and a positive number,
    overrides the static lifetime.
    """

    __slots__ = (  # noqa: RUF023 - the order of the fields (repr, equality)
        "method",
        "path",
        "username_in",
        "username_name",
        "password_in",
        "password_name",
        "constants",
        "token_from",
        "token_pointer",
        "expires_in_pointer",
    )
    method: str
    path: str
    username_in: FieldLocation
    username_name: str
    password_in: FieldLocation
    password_name: str
    constants: tuple[tuple[str, str], ...]
    token_from: TokenSource
    token_pointer: str | None
    expires_in_pointer: str | None

    def __init__(
        self,
        *,
        method: str,
        path: str,
        username_in: FieldLocation,
        username_name: str,
        password_in: FieldLocation,
        password_name: str,
        constants: tuple[tuple[str, str], ...] = (),
        token_from: TokenSource,
        token_pointer: str | None = None,
        expires_in_pointer: str | None = None,
    ) -> None:
        _check_choice("method", method, LOGIN_METHODS)
        _check_choice("username_in", username_in, _LOCATIONS)
        _check_choice("password_in", password_in, _LOCATIONS)
        _check_choice("token_from", token_from, frozenset({_FROM_BODY, _FROM_JSON}))
        if len({username_in, password_in} & _BODY_LOCATIONS) > 1:
            raise ValueError("a login request has one body: user name and password cannot be in form and json")
        if token_from == _FROM_JSON and token_pointer is None:
            raise ValueError("token_from='json' needs token_pointer, e.g. '/access_token'")
        if token_from == _FROM_BODY and expires_in_pointer is not None:
            raise ValueError("expires_in_pointer reads a JSON login response: it needs token_from='json'")
        _check_pointer(token_pointer, "token_pointer")
        _check_pointer(expires_in_pointer, "expires_in_pointer")
        self._init(
            method=method,
            path=path,
            username_in=username_in,
            username_name=username_name,
            password_in=password_in,
            password_name=password_name,
            constants=constants,
            token_from=token_from,
            token_pointer=token_pointer,
            expires_in_pointer=expires_in_pointer,
        )

    def password_headers(self) -> tuple[str, ...]:
        """The names of the headers that carry the password (none unless ``password_in == "header"``)."""
        return (self.password_name,) if self.password_in == "header" else ()  # noqa: S105 - a location, not a password

    def build_request(
        self,
        base_url: httpx.URL,
        credentials: Credentials,
        *,
        headers: Mapping[str, str] | None = None,
        extensions: dict[str, object] | None = None,
    ) -> httpx.Request:
        """Build the login request for ``credentials`` against the client's ``base_url``."""
        fields: dict[str, list[tuple[str, str]]] = {location: [] for location in _LOCATIONS}
        fields[self.username_in].append((self.username_name, credentials.username))
        fields[self.username_in].extend(self.constants)
        fields[self.password_in].append((self.password_name, credentials.password))

        request_headers = httpx.Headers(headers)
        for name, value in fields["header"]:
            request_headers[name] = value
        if fields["cookie"]:
            request_headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in fields["cookie"])
        return httpx.Request(
            self.method,
            join_url(base_url, self.path),
            params=tuple(fields["query"]) or None,
            headers=request_headers,
            data=dict(fields["form"]) or None,
            json=dict(fields["json"]) or None,
            extensions=extensions,
        )


def is_header_safe(token: str) -> bool:
    """Tell whether ``token`` can go in a header as is: non-empty visible ASCII, no spaces or line breaks."""
    # Anything else would break the header or could smuggle a second one.
    return bool(token) and all(_FIRST_VISIBLE_ASCII <= ord(char) <= _LAST_VISIBLE_ASCII for char in token)


def _token_from_body(response: httpx.Response) -> str | None:
    text = response.text.strip()
    if len(text) >= 2 and text.startswith('"') and text.endswith('"'):
        # Some services send the bare token as a JSON string.
        try:
            decoded = json.loads(text)
        except ValueError:
            return text
        return decoded if isinstance(decoded, str) else None
    return text


def _lifetime_at(document: object, pointer: str) -> tuple[float | None, str | None]:
    value = resolve_json_pointer(document, pointer)
    if value is MISSING:
        return None, f"no value at expires-in pointer {pointer}"
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None, f"the value at expires-in pointer {pointer} is not a number"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None, f"the value at expires-in pointer {pointer} is not a number"
    seconds = float(value)
    if not math.isfinite(seconds) or seconds <= 0:
        return None, f"the value at expires-in pointer {pointer} is not a positive number of seconds"
    return seconds, None


def read_login_response(call: LoginCall, response: httpx.Response, *, username: str) -> LoginResult:
    """Return the token (and optional lifetime) of a read login response; raise `LoginError` otherwise.

    Messages name the user, the status and the expected shape, never the body: a body of the wrong
    shape may still contain the token.
    """
    if not response.is_success:
        raise LoginError(
            f"login as {username!r} failed: HTTP {response.status_code} {response.reason_phrase}".rstrip(),
            username=username,
            status_code=response.status_code,
        )
    shape_error = f"login as {username!r} answered HTTP {response.status_code} but "
    if call.token_from == _FROM_BODY:
        token = _token_from_body(response)
        if token is None or not is_header_safe(token):
            raise LoginError(
                shape_error + "the body is not a token (expected one line of visible ASCII characters)",
                username=username,
            )
        return LoginResult(token=token)

    try:
        document: object = json.loads(response.content)
    except ValueError:
        raise LoginError(shape_error + "the body is not JSON", username=username) from None
    pointer = call.token_pointer or ""
    token_value = resolve_json_pointer(document, pointer)
    if not isinstance(token_value, str) or not is_header_safe(token_value):
        raise LoginError(
            shape_error + f"the JSON has no token at {pointer or '(root)'} "
            "(expected a string of visible ASCII characters)",
            username=username,
        )
    if call.expires_in_pointer is None:
        return LoginResult(token=token_value)
    lifetime, problem = _lifetime_at(document, call.expires_in_pointer)
    return LoginResult(token=token_value, lifetime=lifetime, lifetime_problem=problem)


# --------------------------------------------------------------------------------------------------
# Token stores: where a token lives between logins, in memory (default) or in a file shared by processes.
# --------------------------------------------------------------------------------------------------


#: Permissions of the token file and its lock file: the token is a credential, readable by its owner only.
STORE_FILE_MODE = 0o600

#: Permissions of a store directory the store has to create itself.
STORE_DIR_MODE = 0o700

#: Bumped when the file layout changes; files of another version are ignored (the client logs in again).
STORE_FORMAT_VERSION = 1


class StoredToken(Value):
    """A token as stored, with WALL-clock times: monotonic clocks do not cross processes."""

    __slots__ = ("token", "expires_at_wall", "obtained_at_wall", "subject")  # noqa: RUF023 - the order of the fields (repr, equality)
    _repr_fields: ClassVar = {"token": fingerprint}
    token: str
    #: ``time.time()`` at which the token expires.
    expires_at_wall: float
    #: ``time.time()`` at which the token was issued, when known (it sizes the refresh windows).
    obtained_at_wall: float | None
    #: Who the token belongs to (user and base URL): a store shared by mistake never hands one
    #: user's token to another.
    subject: str

    def __init__(
        self, token: str, expires_at_wall: float, obtained_at_wall: float | None = None, subject: str = ""
    ) -> None:
        self._init(token=token, expires_at_wall=expires_at_wall, obtained_at_wall=obtained_at_wall, subject=subject)


class TokenStore(Protocol):
    """Implement to keep tokens elsewhere; `TokenLifecycle` calls it only while holding ``lock()``."""

    def load(self) -> StoredToken | None:
        """Return the stored token, or None when there is none or it is unreadable."""
        ...

    def save(self, token: StoredToken) -> None:
        """Replace the stored token."""
        ...

    def clear(self) -> None:
        """Forget the stored token."""
        ...

    def lock(self, *, blocking: bool = True) -> AbstractContextManager[bool]:
        """Return a context that holds the store's lock and yields whether it got it.

        The lifecycle holds it around "load → log in → save" so that every user of the store logs in
        once. With ``blocking=False`` it yields False at once when someone else holds the lock.
        """
        ...


class MemoryTokenStore:
    """Keep the token in this process only (the default); its lock is the one sync and async flows share."""

    def __init__(self) -> None:
        self._token: StoredToken | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "MemoryTokenStore()"

    def load(self) -> StoredToken | None:
        """Return the token saved last, if any."""
        return self._token

    def save(self, token: StoredToken) -> None:
        """Remember ``token``."""
        self._token = token

    def clear(self) -> None:
        """Forget the token."""
        self._token = None

    @contextlib.contextmanager
    def lock(self, *, blocking: bool = True) -> Generator[bool, None, None]:
        """Hold this store's lock (yield False if non-blocking and busy).

        Each flow's own lock serialises its logins; this one makes a sync and an async flow (or two
        event loops) sharing the store log in once between them.
        """
        if not self._lock.acquire(blocking=blocking):
            yield False
            return
        try:
            yield True
        finally:
            self._lock.release()


class FileTokenStore:
    """Share one token between processes of one machine through a JSON file (POSIX only).

    The file has mode 0600 and is replaced atomically (temporary file in the same directory, then
    ``os.replace``), so a reader sees the old token or the new one, never half of one. ``lock()`` takes
    ``fcntl.flock`` on a sibling ``<name>.lock`` file; each call opens its own descriptor, so it also
    excludes other threads and other store objects of this process. Expiry is stored as wall-clock time
    and converted back to the reader's monotonic clock on load.

    File I/O here is small and blocking. In ``async_auth_flow`` the lifecycle never blocks on the lock:
    it polls ``lock(blocking=False)`` with ``asyncio.sleep`` in between, so the event loop keeps running
    while another process logs in; only the short reads and writes happen on the loop.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        if sys.platform == "win32":
            raise NotImplementedError("FileTokenStore needs fcntl.flock (POSIX); use MemoryTokenStore on Windows")
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")

    def __repr__(self) -> str:
        return f"FileTokenStore({str(self.path)!r})"

    def load(self) -> StoredToken | None:
        """Return the stored token, or None when the file is missing, unreadable or of another version."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            data: object = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        data = cast("dict[str, object]", data)  # parsed JSON: object keys are strings
        if data.get("version") != STORE_FORMAT_VERSION:
            return None
        token, expires, obtained, subject = (
            data.get("token"),
            data.get("expires_at_wall"),
            data.get("obtained_at_wall"),
            data.get("subject"),
        )
        if not isinstance(token, str) or not isinstance(subject, str):
            return None
        if not isinstance(expires, int | float) or isinstance(expires, bool):
            return None
        if obtained is not None and (not isinstance(obtained, int | float) or isinstance(obtained, bool)):
            return None
        return StoredToken(
            token=token,
            expires_at_wall=float(expires),
            obtained_at_wall=None if obtained is None else float(obtained),
            subject=subject,
        )

    def save(self, token: StoredToken) -> None:
        """Write ``token`` to a 0600 temporary file beside the store and atomically move it into place."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=STORE_DIR_MODE)
        payload = json.dumps(
            {
                "version": STORE_FORMAT_VERSION,
                "token": token.token,
                "expires_at_wall": token.expires_at_wall,
                "obtained_at_wall": token.obtained_at_wall,
                "subject": token.subject,
            }
        ).encode("utf-8")
        fd, temp_name = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            # mkstemp already creates 0600; say so explicitly rather than rely on it.
            os.fchmod(fd, STORE_FILE_MODE)
            with os.fdopen(fd, "wb") as file:
                file.write(payload)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp_name, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)
            raise

    def clear(self) -> None:
        """Delete the token file if it exists."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    @contextlib.contextmanager
    def lock(self, *, blocking: bool = True) -> Generator[bool, None, None]:
        """Hold an exclusive ``flock`` on the sibling lock file; yield False if non-blocking and busy."""
        import fcntl  # here, not at the top: the package must still import on Windows

        self.path.parent.mkdir(parents=True, exist_ok=True, mode=STORE_DIR_MODE)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, STORE_FILE_MODE)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


# --------------------------------------------------------------------------------------------------
# Retries of service-limit answers (503), at the transport layer, below authentication.
#
# Wrap the transport, not the auth flow: a retried request keeps the token it was given, and the login
# request (which the auth flow sends through the same client) is retried just like any other call::
#
#     transport = RetryTransport(httpx.HTTPTransport(), policy=RetryPolicy())
#     client = httpx.Client(transport=transport, auth=lifecycle)
# --------------------------------------------------------------------------------------------------


#: Attempts in all, the first one included.
DEFAULT_ATTEMPTS = 5
#: Seconds: the backoff ceiling of the first retry; it doubles with every retry.
DEFAULT_BASE_DELAY = 0.5
#: Seconds: no single backoff waits longer than this.
DEFAULT_MAX_DELAY = 30.0
#: Seconds: give up rather than let waiting push a call past this much time since its first attempt.
DEFAULT_MAX_TOTAL = 120.0
#: Seconds: a server's ``Retry-After`` is honoured up to this much, so a bad header cannot stall a caller.
DEFAULT_RETRY_AFTER_CAP = 60.0
#: Statuses that mean "not processed, try again later".
DEFAULT_RETRY_STATUSES = frozenset({503})
#: Logger of the retry transports (one line per retry).
DEFAULT_RETRY_LOGGER_NAME = "token_lifecycle.retry"

#: Largest exponent used in the backoff formula; beyond it ``max_delay`` has long won anyway.
_MAX_EXPONENT = 62


def _no_sleep(_: float) -> None:
    """Return at once: the testing stand-in for ``time.sleep``."""


async def _asyncio_sleep(seconds: float) -> None:
    """``asyncio.sleep``, imported when first awaited: only async users pay for importing asyncio."""
    import asyncio

    await asyncio.sleep(seconds)


async def _no_async_sleep(_: float) -> None:
    """Return at once: the testing stand-in for ``asyncio.sleep``."""


def parse_retry_after(value: str | None, *, now_wall: float) -> float | None:
    """Return the seconds a ``Retry-After`` header asks for (delta seconds or HTTP date), None if unusable."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            # RFC 9110 dates are GMT; a zone-less date is read the same way.
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - now_wall
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def _replayable(request: httpx.Request) -> bool:
    # Only a body held in memory can be sent twice; a generator or file stream is consumed by the first try.
    try:
        request.content  # noqa: B018 -- evaluated for the RequestNotRead it raises on a streaming body
    except httpx.RequestNotRead:
        return False
    return True


def _positive(name: str, value: float) -> float:
    if not value >= 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return value


class RetryPolicy(Value):
    """Say which statuses to retry and how long to wait; the defaults suit HTTP 503 service limits.

    Before retry number ``n`` (0 for the first retry) the transport waits::

        delay = random() * min(max_delay, base_delay * 2 ** n)        # exponential backoff, full jitter

    unless the response carries ``Retry-After`` (seconds or an HTTP date), which is honoured up to
    ``retry_after_cap`` seconds instead. The call gives up with `ServiceLimitError` after ``attempts``
    attempts, or earlier when the next wait would end more than ``max_total`` seconds after the first
    attempt. ``no_sleep()`` returns a copy that never sleeps, for test suites.
    """

    __slots__ = (  # noqa: RUF023 - the order of the fields (repr, equality)
        "attempts",
        "base_delay",
        "max_delay",
        "max_total",
        "retry_after_cap",
        "statuses",
        "sleep",
        "async_sleep",
        "random",
        "clock",
        "wall_clock",
    )
    attempts: int
    base_delay: float
    max_delay: float
    max_total: float
    retry_after_cap: float
    statuses: frozenset[int]
    sleep: Callable[[float], None]
    async_sleep: Callable[[float], Awaitable[None]]
    random: Callable[[], float]
    #: Monotonic clock that measures ``max_total``.
    clock: Callable[[], float]
    #: Wall clock that turns a ``Retry-After`` HTTP date into seconds.
    wall_clock: Callable[[], float]

    def __init__(
        self,
        *,
        attempts: int = DEFAULT_ATTEMPTS,
        base_delay: float = DEFAULT_BASE_DELAY,
        max_delay: float = DEFAULT_MAX_DELAY,
        max_total: float = DEFAULT_MAX_TOTAL,
        retry_after_cap: float = DEFAULT_RETRY_AFTER_CAP,
        statuses: frozenset[int] = DEFAULT_RETRY_STATUSES,
        sleep: Callable[[float], None] = time.sleep,
        async_sleep: Callable[[float], Awaitable[None]] = _asyncio_sleep,
        random: Callable[[], float] = _random.random,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if not attempts >= 1:
            raise ValueError(f"attempts must be >= 1, got {attempts!r}")
        self._init(
            attempts=attempts,
            base_delay=_positive("base_delay", base_delay),
            max_delay=_positive("max_delay", max_delay),
            max_total=_positive("max_total", max_total),
            retry_after_cap=_positive("retry_after_cap", retry_after_cap),
            statuses=statuses,
            sleep=sleep,
            async_sleep=async_sleep,
            random=random,
            clock=clock,
            wall_clock=wall_clock,
        )

    def replace(self, **changes: Any) -> RetryPolicy:
        """Return a copy with ``changes`` (keyword arguments of the constructor), validated as new."""
        fields: dict[str, Any] = {**self.__getstate__(), **changes}
        return RetryPolicy(**fields)

    def no_sleep(self) -> RetryPolicy:
        """Return a copy whose waits return at once (delays are still computed and logged)."""
        return self.replace(sleep=_no_sleep, async_sleep=_no_async_sleep)

    def backoff(self, retry: int) -> float:
        """Return the jittered backoff before retry number ``retry`` (0-based), per the formula above."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** min(retry, _MAX_EXPONENT))
        return self.random() * ceiling

    def delay(self, response: httpx.Response, retry: int) -> float:
        """Return the wait before retry number ``retry``: capped ``Retry-After`` if usable, else backoff."""
        retry_after = parse_retry_after(response.headers.get("Retry-After"), now_wall=self.wall_clock())
        if retry_after is not None:
            return min(retry_after, self.retry_after_cap)
        return self.backoff(retry)


class _Attempts:
    """Count one call's attempts and decide whether another one fits in the policy (no I/O)."""

    def __init__(self, policy: RetryPolicy, request: httpx.Request, logger: logging.Logger, started: float) -> None:
        self.policy = policy
        self.request = request
        self.logger = logger
        self.started = started
        self.attempt = 1

    def should_retry(self, response: httpx.Response) -> bool:
        return response.status_code in self.policy.statuses and _replayable(self.request)

    def next_delay(self, response: httpx.Response) -> float | None:
        """Return the wait before the next attempt, or None when the policy is exhausted."""
        if self.attempt >= self.policy.attempts:
            return None
        delay = self.policy.delay(response, self.attempt - 1)
        if self.policy.clock() - self.started + delay > self.policy.max_total:
            return None
        self.logger.info(
            "retrying %s %s after HTTP %d in %.2fs (attempt %d of %d)",
            self.request.method,
            safe_url(self.request.url),
            response.status_code,
            delay,
            self.attempt + 1,
            self.policy.attempts,
        )
        self.attempt += 1
        return delay

    def exhausted(self, response: httpx.Response) -> ServiceLimitError:
        url = safe_url(self.request.url)
        self.logger.warning(
            "giving up on %s %s: HTTP %d after %d attempts",
            self.request.method,
            url,
            response.status_code,
            self.attempt,
        )
        return ServiceLimitError(
            f"{self.request.method} {url} answered HTTP {response.status_code} on all {self.attempt} "
            "attempts: the service is limiting requests, try again later",
            attempts=self.attempt,
            last_status=response.status_code,
            url=url,
        )


class RetryTransport(httpx.BaseTransport):
    """Wrap a transport to retry service-limit statuses per a `RetryPolicy`, then raise `ServiceLimitError`.

    Requests with a streaming body are never retried: their response is returned as is.
    """

    def __init__(
        self,
        transport: httpx.BaseTransport,
        policy: RetryPolicy | None = None,
        *,
        logger_name: str = DEFAULT_RETRY_LOGGER_NAME,
    ) -> None:
        self._transport = transport
        self.policy = policy if policy is not None else RetryPolicy()
        self._logger = logging.getLogger(logger_name)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request``, retrying while the policy allows; return the first non-retryable response."""
        started = self.policy.clock()
        response = self._transport.handle_request(request)
        if response.status_code not in self.policy.statuses:
            return response  # the common case stays cheap: no bookkeeping unless a retry may follow
        attempts = _Attempts(self.policy, request, self._logger, started)
        while True:
            if not attempts.should_retry(response):
                return response
            delay = attempts.next_delay(response)
            # Discarded responses are closed so their connections go back to the pool.
            response.close()
            if delay is None:
                raise attempts.exhausted(response)
            self.policy.sleep(delay)
            response = self._transport.handle_request(request)

    def close(self) -> None:
        """Close the wrapped transport."""
        self._transport.close()


class AsyncRetryTransport(httpx.AsyncBaseTransport):
    """Wrap an async transport to retry service-limit statuses per a `RetryPolicy` (see `RetryTransport`)."""

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport,
        policy: RetryPolicy | None = None,
        *,
        logger_name: str = DEFAULT_RETRY_LOGGER_NAME,
    ) -> None:
        self._transport = transport
        self.policy = policy if policy is not None else RetryPolicy()
        self._logger = logging.getLogger(logger_name)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request``, retrying while the policy allows; return the first non-retryable response."""
        started = self.policy.clock()
        response = await self._transport.handle_async_request(request)
        if response.status_code not in self.policy.statuses:
            return response  # the common case stays cheap: no bookkeeping unless a retry may follow
        attempts = _Attempts(self.policy, request, self._logger, started)
        while True:
            if not attempts.should_retry(response):
                return response
            delay = attempts.next_delay(response)
            await response.aclose()
            if delay is None:
                raise attempts.exhausted(response)
            await self.policy.async_sleep(delay)
            response = await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self._transport.aclose()


# --------------------------------------------------------------------------------------------------
# The auth flow: `TokenLifecycle`, an ``httpx.Auth`` that logs in, injects the token, refreshes it and
# recovers from 401.
# --------------------------------------------------------------------------------------------------


#: An httpx event hook of a sync client: called with each request, or each response.
EventHook: TypeAlias = Callable[[Any], Any]
#: An httpx event hook of an async client: a coroutine function, awaited.
AsyncEventHook: TypeAlias = Callable[[Any], Awaitable[Any]]

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


def _may_block_here() -> bool:
    """Whether a sync flow may wait for the store's lock: not on a thread that runs an event loop.

    A sync client called from async code would otherwise wait for a login that its own (blocked)
    loop holds the lock for: it logs in without the lock instead.
    """
    if "asyncio" not in sys.modules:
        return True  # never imported, so no loop runs anywhere (and importing it costs ~10 ms)
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return True
    return False


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
    ``threading.Lock``, ``async_auth_flow`` with one ``asyncio.Lock`` per event loop, and both log in
    under the store's lock, so that sync and async clients (or event loops) sharing one lifecycle log
    in once between them: the later one adopts the token the store holds. A sync call made on a thread
    that runs an event loop does not wait for that lock (a login of that same loop may hold it).

    ``token`` is a static token for users who already hold one: it never expires on its own, and without
    ``credentials`` a rejection raises `TokenRejectedError`. ``store`` (default `MemoryTokenStore`) is
    consulted before every login and written after it, under its ``lock()``; a `FileTokenStore` thereby
    lets the processes of one machine share one login. ``wall_clock`` only converts expiry to and from
    the store's wall-clock form. Every secret (password, static and issued tokens) is registered with
    the shared `SecretRedactionFilter`, installed on the httpx/httpcore loggers and on ``logger_name``.

    Transport errors while the login request is on the wire are raised by httpx outside this flow, so
    they reach the caller even for an advisory refresh.

    A flow cannot see the redirects httpx follows: pass ``event_hooks=lifecycle.event_hooks()`` (or
    `async_event_hooks`) to the client as well, so that `redirect_guard` keeps the token and password
    from following a redirect to another origin.
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
        # Headers this lifecycle fills with a secret: removed from requests to other origins.
        self._secret_headers = (header_name, *(() if login is None else login.password_headers()))
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
            weakref.finalize(self, self._redaction.unpin_later, secret)

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

    # -- event hooks: secrets stay with the service -----------------------------------------------

    def redirect_guard(self, request: httpx.Request) -> None:
        """An httpx ``request`` event hook: no password or token goes to another origin than the service.

        httpx drops ``Authorization`` when it follows a redirect to another origin, but keeps every other
        header: a token in a custom header (Synthetic Classic's ``Authentication``), or a password that
        the login sends in a header, would reach the redirect's target. This hook removes those headers
        from any request to another origin than ``base_url``, and refuses the request with
        `InsecureTransportError` when a password or token is still in it (its URL, a header or the body
        of a redirected login). The generated ``AuthenticatedClient`` installs it through `event_hooks`.
        """
        if origin(request.url) == self._origin:
            return
        for name in self._secret_headers:
            value = request.headers.get(name)
            if value is not None and self._redaction.redact(value) != value:
                del request.headers[name]
                self._logger.warning(
                    "removed the %s header from a request to %s, another origin than the service",
                    name,
                    safe_url(request.url),
                )
        if self._carries_secret(request):
            raise InsecureTransportError(
                f"refusing to send a password or token to {safe_url(request.url)}: another origin than the "
                "service (a followed redirect?)",
                url=safe_url(request.url),
            )

    async def async_redirect_guard(self, request: httpx.Request) -> None:
        """`redirect_guard` for ``httpx.AsyncClient``, which awaits its event hooks."""
        self.redirect_guard(request)

    def event_hooks(self, hooks: Mapping[str, Iterable[EventHook]] | None = None) -> dict[str, list[EventHook]]:
        """The ``event_hooks`` of an ``httpx.Client`` that uses this lifecycle, around your own ``hooks``.

        `redirect_guard` comes first. Your hooks then see every request and response, the login's
        included; when one of them raises, any password or token is removed from the exception's
        message first (``response.raise_for_status()`` would otherwise print a login URL that carries
        the password).
        """
        hooks = hooks or {}
        return {
            "request": [self.redirect_guard, *(self._shielded(hook) for hook in hooks.get("request", ()))],
            "response": [self._shielded(hook) for hook in hooks.get("response", ())],
        }

    def async_event_hooks(
        self, hooks: Mapping[str, Iterable[AsyncEventHook]] | None = None
    ) -> dict[str, list[AsyncEventHook]]:
        """`event_hooks` for an ``httpx.AsyncClient``: the hooks are coroutine functions."""
        hooks = hooks or {}
        return {
            "request": [
                self.async_redirect_guard,
                *(self._async_shielded(hook) for hook in hooks.get("request", ())),
            ],
            "response": [self._async_shielded(hook) for hook in hooks.get("response", ())],
        }

    def _shielded(self, hook: EventHook) -> EventHook:
        @functools.wraps(hook)
        def shielded(event: Any) -> Any:
            try:
                return hook(event)
            except Exception as exc:
                self._redact_exception(exc)
                raise

        return shielded

    def _async_shielded(self, hook: AsyncEventHook) -> AsyncEventHook:
        @functools.wraps(hook)
        async def shielded(event: Any) -> Any:
            try:
                return await hook(event)
            except Exception as exc:
                self._redact_exception(exc)
                raise

        return shielded

    def _redact_exception(self, exc: BaseException) -> None:
        # The same exception, raised on: its type and attributes stay, its message loses the secrets.
        exc.args = tuple(self._redaction.redact(arg) if isinstance(arg, str) else arg for arg in exc.args)

    def _carries_secret(self, request: httpx.Request) -> bool:
        texts = [str(request.url), *(value for _, value in request.headers.multi_items())]
        if isinstance(request.stream, httpx.ByteStream):  # a body in memory; a stream is never consumed here
            texts.append(b"".join(request.stream).decode("utf-8", "replace"))
        return any(self._redaction.redact(text) != text for text in texts)

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
                    with self._store.lock(blocking=_may_block_here()):
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
                with self._store.lock(blocking=_may_block_here()):
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
