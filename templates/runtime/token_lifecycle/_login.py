"""Login: the service's login operation as data; build its request (and its deadline), screen and read its answer."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Literal, TypeAlias, cast

import httpx

from ._credentials import Credentials
from ._errors import LoginError
from ._urls import join_url, origin, safe_url
from ._values import Value, immutable

FieldLocation: TypeAlias = Literal["query", "header", "cookie", "form", "json"]
TokenSource: TypeAlias = Literal["body", "json"]

#: HTTP methods a login operation may use.
LOGIN_METHODS = frozenset({"GET", "POST"})

#: The longest token accepted (characters), from a login or a store: it travels in every request's header.
MAX_TOKEN_LENGTH = 16 * 1024

#: The most bytes read of a login response's body: a token with some JSON around it is far smaller.
MAX_LOGIN_RESPONSE_BYTES = 64 * 1024

#: Media types of a login answer that is a page, not a token (a portal, a proxy's error page).
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})

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


@immutable
@dataclasses.dataclass(frozen=True, slots=True)
class LoginResult(Value):
    """What a successful login yields: the token and, when the response said so, its lifetime."""

    token: str = dataclasses.field(repr=False)
    #: Lifetime in seconds read through ``LoginCall.expires_in_pointer``; None means "use the static one".
    lifetime: float | None = None
    #: Why a configured ``expires_in_pointer`` was ignored (safe to log: it never quotes the body).
    lifetime_problem: str | None = None


class LoginRequest(httpx.Request):
    """The login request; its repr leaves out the query string, which may carry the password.

    Error trackers that capture local variables (Sentry) print the reprs of the frames a
    `LoginError` passes through; httpx's own ``Request`` repr shows the whole URL.
    """

    def __repr__(self) -> str:
        return f"<LoginRequest({self.method!r}, {safe_url(self.url)!r})>"


@immutable
@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class LoginCall(Value):
    """Pass to `TokenLifecycle` to say how the service's login operation takes credentials and returns a token.

    ``constants`` are fixed extra fields (e.g. ``("grant_type", "password")``) sent in the same place as
    the user name. ``token_pointer`` (RFC 6901) locates the token when ``token_from == "json"``;
    ``expires_in_pointer`` locates a lifetime in seconds that, when present and a positive number,
    overrides the static lifetime.
    """

    method: str
    path: str
    username_in: FieldLocation
    username_name: str
    password_in: FieldLocation
    password_name: str
    constants: tuple[tuple[str, str], ...] = ()
    token_from: TokenSource
    token_pointer: str | None = None
    expires_in_pointer: str | None = None

    def __post_init__(self) -> None:
        _check_choice("method", self.method, LOGIN_METHODS)
        _check_choice("username_in", self.username_in, _LOCATIONS)
        _check_choice("password_in", self.password_in, _LOCATIONS)
        _check_choice("token_from", self.token_from, frozenset({_FROM_BODY, _FROM_JSON}))
        if len({self.username_in, self.password_in} & _BODY_LOCATIONS) > 1:
            raise ValueError("a login request has one body: user name and password cannot be in form and json")
        if self.token_from == _FROM_JSON and self.token_pointer is None:
            raise ValueError("token_from='json' needs token_pointer, e.g. '/access_token'")
        if self.token_from == _FROM_BODY and self.expires_in_pointer is not None:
            raise ValueError("expires_in_pointer reads a JSON login response: it needs token_from='json'")
        _check_pointer(self.token_pointer, "token_pointer")
        _check_pointer(self.expires_in_pointer, "expires_in_pointer")

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
        return LoginRequest(
            self.method,
            join_url(base_url, self.path),
            params=tuple(fields["query"]) or None,
            headers=request_headers,
            data=dict(fields["form"]) or None,
            json=dict(fields["json"]) or None,
            extensions=extensions,
        )


def login_secrets(call: LoginCall | None, request_kwargs: Mapping[str, object]) -> tuple[str, ...]:
    """Return the password that ``request_kwargs`` (of ``httpx.Client.request``) carry for ``call``.

    The generated login operation passes its request through `redacting` with these, so that calling
    it through a plain ``Client`` never logs the password (httpx logs a query-string login's URL).
    """
    if call is None:
        return ()
    key = {"query": "params", "header": "headers", "cookie": "cookies", "form": "data", "json": "json"}[
        call.password_in
    ]
    fields = request_kwargs.get(key)
    if not isinstance(fields, Mapping):
        return ()
    value = cast("Mapping[str, object]", fields).get(call.password_name)
    return (value,) if isinstance(value, str) and value else ()


def is_header_safe(token: str) -> bool:
    """Tell whether ``token`` can go in a header as is: non-empty visible ASCII, no spaces or line breaks."""
    # Anything else would break the header or could smuggle a second one.
    return bool(token) and all(_FIRST_VISIBLE_ASCII <= ord(char) <= _LAST_VISIBLE_ASCII for char in token)


class CappedStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body read up to ``limit`` bytes and no further; ``exceeded`` tells whether it was cut.

    `refuse` makes it yield nothing at all. Either way, closing it closes the connection's stream, so a
    refused answer is never read to its end (httpx reads a response before sending the next request).
    """

    def __init__(self, stream: httpx.SyncByteStream | httpx.AsyncByteStream, limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self._refused = False
        #: Whether more than ``limit`` bytes arrived (the body read is then cut short).
        self.exceeded = False

    def refuse(self) -> None:
        """Read nothing more of this body."""
        self._refused = True

    def _take(self, received: int) -> bool:
        if received > self._limit:
            self.exceeded = True
        return not (self.exceeded or self._refused)

    def __iter__(self) -> Iterator[bytes]:
        received = 0
        if self._refused:
            return
        for chunk in cast("httpx.SyncByteStream", self._stream):
            received += len(chunk)
            if not self._take(received):
                return
            yield chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        received = 0
        if self._refused:
            return
        async for chunk in cast("httpx.AsyncByteStream", self._stream):
            received += len(chunk)
            if not self._take(received):
                return
            yield chunk

    def close(self) -> None:
        cast("httpx.SyncByteStream", self._stream).close()

    async def aclose(self) -> None:
        await cast("httpx.AsyncByteStream", self._stream).aclose()


def declared_length(response: httpx.Response) -> int | None:
    """Return the response's Content-Length when it is a plain number, else None."""
    value = response.headers.get("Content-Length", "").strip()
    return int(value) if value.isdigit() else None


def redirected_login(username: str, url: httpx.URL) -> LoginError:
    """The error of a login that was (or would be) followed to ``url``, another origin than the service."""
    return LoginError(
        f"login as {username!r} was redirected to {safe_url(url)}, another origin than the service; not following it",
        username=username,
    )


def too_large_login(username: str, status_code: int) -> LoginError:
    """The error of a login answered with more than `MAX_LOGIN_RESPONSE_BYTES`: not a token."""
    return LoginError(
        f"login as {username!r} answered HTTP {status_code} with a body of more than "
        f"{MAX_LOGIN_RESPONSE_BYTES} bytes: not a token",
        username=username,
        status_code=status_code,
    )


def screen_login_response(
    response: httpx.Response, service_origin: tuple[str, bytes, int | None], *, username: str
) -> LoginError | None:
    """Cap what will be read of a login answer; the error when it cannot hold the service's token.

    An answer from another origin (a followed redirect) or declaring more than the cap is refused
    without reading a byte of it: not here, nor by httpx before it sends the next request (after a
    failed advisory refresh the call goes on with the current token).
    """
    # Whatever it declares, the body is read up to the bound and no further (see `CappedStream`).
    capped = CappedStream(response.stream, MAX_LOGIN_RESPONSE_BYTES)
    response.stream = capped
    if origin(response.url) != service_origin:
        capped.refuse()
        return redirected_login(username, response.url)
    declared = declared_length(response)
    if declared is not None and declared > MAX_LOGIN_RESPONSE_BYTES:
        capped.refuse()
        return too_large_login(username, response.status_code)
    return None


_TIMEOUT_PHASES = ("connect", "read", "write", "pool")


def login_timeout_extension(inherited: object, bound: float) -> dict[str, float]:
    """The login request's timeout extension: each phase the client's value, at most ``bound``."""
    phases = cast("dict[str, object]", inherited) if isinstance(inherited, dict) else {}
    result: dict[str, float] = {}
    for phase in _TIMEOUT_PHASES:
        value = phases.get(phase)
        result[phase] = bound if not isinstance(value, int | float) else min(float(value), bound)
    return result


def _token_from_body(response: httpx.Response) -> str | None:
    text = response.text.strip()
    media_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if media_type in _HTML_TYPES or text.startswith(("<", "{", "[")):
        # A page, or a JSON object or array (``{"error": "account_locked"}``): an answer, not a token.
        return None
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
        if token is None or not is_header_safe(token) or len(token) > MAX_TOKEN_LENGTH:
            raise LoginError(
                shape_error + "the body is not a token (expected one line of visible ASCII characters, "
                f"at most {MAX_TOKEN_LENGTH}, not a page or a JSON object)",
                username=username,
            )
        return LoginResult(token=token)

    try:
        document: object = json.loads(response.content)
    except ValueError:
        raise LoginError(shape_error + "the body is not JSON", username=username) from None
    pointer = call.token_pointer or ""
    token_value = resolve_json_pointer(document, pointer)
    if not isinstance(token_value, str) or not is_header_safe(token_value) or len(token_value) > MAX_TOKEN_LENGTH:
        raise LoginError(
            shape_error + f"the JSON has no token at {pointer or '(root)'} "
            f"(expected a string of at most {MAX_TOKEN_LENGTH} visible ASCII characters)",
            username=username,
        )
    if call.expires_in_pointer is None:
        return LoginResult(token=token_value)
    lifetime, problem = _lifetime_at(document, call.expires_in_pointer)
    return LoginResult(token=token_value, lifetime=lifetime, lifetime_problem=problem)
