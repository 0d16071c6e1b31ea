"""Login answers: screen one before reading it (origin, size), then read the token, its lifetime, a refresh token.

What a login answers is untrusted input: a redirect's target, a portal page, a body far too big, an
error that quotes the request. Nothing here quotes a body in a message: a body of the wrong shape may
still contain the token.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import AsyncIterator, Callable, Iterator
from typing import cast

import httpx

from ._errors import LoginError
from ._login import MAX_TOKEN_LENGTH, LoginCall, is_header_safe
from ._oauth2 import oauth2_error
from ._urls import origin, safe_url
from ._values import Value, immutable

#: The most bytes read of a login response's body: a token with some JSON around it is far smaller.
MAX_LOGIN_RESPONSE_BYTES = 64 * 1024

#: Media types of a login answer that is a page, not a token (a portal, a proxy's error page).
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


class _Missing:
    """Marks a JSON pointer that leads nowhere (distinct from a JSON ``null``)."""


MISSING = _Missing()


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
    #: The refresh token read through ``LoginCall.refresh_token_pointer`` (RFC 6749 §6), if the answer had one.
    refresh_token: str | None = dataclasses.field(default=None, repr=False)


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


def _failed(call: LoginCall, response: httpx.Response, username: str, redact: Callable[[str], str]) -> LoginError:
    """The error of a non-2xx login answer: its status and, from an OAuth2 token endpoint, its ``error``."""
    message = f"login as {username!r} failed: HTTP {response.status_code} {response.reason_phrase}".rstrip()
    answer = oauth2_error(response, redact) if call.oauth2 else None
    if answer is None:
        return LoginError(message, username=username, status_code=response.status_code)
    code, description = answer
    return LoginError(
        f"{message}: {code}" + (f" ({description})" if description else ""),
        username=username,
        status_code=response.status_code,
        error_code=code,
    )


def _token_elsewhere(call: LoginCall, response: httpx.Response) -> str | None:
    """The token of an answer that carries it in a header or a cookie (``token_name``)."""
    name = call.token_name or ""
    found: object = response.headers.get(name) if call.token_from == "header" else response.cookies.get(name)  # noqa: S105
    return found if isinstance(found, str) else None


def read_login_response(
    call: LoginCall, response: httpx.Response, *, username: str, redact: Callable[[str], str] = str
) -> LoginResult:
    """Return the token (and optional lifetime) of a read login response; raise `LoginError` otherwise.

    Messages name the user, the status and the expected shape, never the body: a body of the wrong
    shape may still contain the token. An OAuth2 error answer (§5.2) is named by its ``error`` code and
    description, after ``redact`` (the lifecycle's redaction of its secrets: a server may echo them).
    """
    if not response.is_success:
        raise _failed(call, response, username, redact)
    shape_error = f"login as {username!r} answered HTTP {response.status_code} but "
    if call.token_from in ("header", "cookie"):
        token = _token_elsewhere(call, response)
        if token is None or not is_header_safe(token) or len(token) > MAX_TOKEN_LENGTH:
            raise LoginError(
                shape_error + f"its {call.token_from} {call.token_name!r} is not a token (expected one value of "
                f"at most {MAX_TOKEN_LENGTH} visible ASCII characters)",
                username=username,
            )
        return LoginResult(token=token)
    if call.token_from == "body":  # noqa: S105 - a location, not a token
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
    refresh_token = None
    if call.refresh_token_pointer is not None:
        found = resolve_json_pointer(document, call.refresh_token_pointer)
        # A refresh token that could not travel in a form body is no refresh token: log in instead.
        if isinstance(found, str) and is_header_safe(found) and len(found) <= MAX_TOKEN_LENGTH:
            refresh_token = found
    if call.expires_in_pointer is None:
        return LoginResult(token=token_value, refresh_token=refresh_token)
    lifetime, problem = _lifetime_at(document, call.expires_in_pointer)
    return LoginResult(token=token_value, lifetime=lifetime, lifetime_problem=problem, refresh_token=refresh_token)
