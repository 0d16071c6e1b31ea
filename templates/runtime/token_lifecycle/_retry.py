"""Retries of service-limit answers (503), at the transport layer, below authentication.

The same layer sends an idempotent request (RFC 9110 §9.2.2: GET, HEAD, OPTIONS, PUT, DELETE,
TRACE) once more, at once, when its connection dropped before any answer: a pooled keep-alive
connection that the server closed just as the request went out ("Server disconnected without sending
a response", a reset). Other methods are never sent twice; neither is a streaming body.

Wrap the transport, not the auth flow: a retried request keeps the token it was given, and the login
request (which the auth flow sends through the same client) is retried just like any other call::

    transport = RetryTransport(httpx.HTTPTransport(), policy=RetryPolicy())
    client = httpx.Client(transport=transport, auth=lifecycle)
"""

from __future__ import annotations

import dataclasses
import email.utils
import logging
import math
import random as _random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC
from typing import Any

import httpx

from ._errors import ServiceLimitError
from ._telemetry import Telemetry, telemetry_or_default
from ._urls import safe_url
from ._values import Value, immutable

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

#: Methods that may be sent again when their connection dropped before the answer (RFC 9110 §9.2.2).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
#: What httpx raises for a connection that died before the answer began.
_DROPPED = (httpx.RemoteProtocolError, httpx.ReadError)

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


def _may_resend(request: httpx.Request, error: Exception, logger: logging.Logger) -> bool:
    """Whether to send ``request`` once more after its connection dropped with ``error`` (and log it)."""
    if request.method not in IDEMPOTENT_METHODS or not _replayable(request):
        return False
    logger.info(
        "sending %s %s again: its connection dropped before an answer (%s)",
        request.method,
        safe_url(request.url),
        type(error).__name__,
    )
    return True


def _check_not_negative(name: str, value: float) -> None:
    if not value >= 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")


@immutable
@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy(Value):
    """Say which statuses to retry and how long to wait; the defaults suit HTTP 503 service limits.

    Before retry number ``n`` (0 for the first retry) the transport waits::

        delay = random() * min(max_delay, base_delay * 2 ** n)        # exponential backoff, full jitter

    unless the response carries ``Retry-After`` (seconds or an HTTP date), which is honoured up to
    ``retry_after_cap`` seconds instead. The call gives up with `ServiceLimitError` after ``attempts``
    attempts, or earlier when the next wait would end more than ``max_total`` seconds after the first
    attempt. ``no_sleep()`` returns a copy that never sleeps, for test suites.
    """

    attempts: int = DEFAULT_ATTEMPTS
    base_delay: float = DEFAULT_BASE_DELAY
    max_delay: float = DEFAULT_MAX_DELAY
    max_total: float = DEFAULT_MAX_TOTAL
    retry_after_cap: float = DEFAULT_RETRY_AFTER_CAP
    statuses: frozenset[int] = DEFAULT_RETRY_STATUSES
    sleep: Callable[[float], None] = time.sleep
    async_sleep: Callable[[float], Awaitable[None]] = _asyncio_sleep
    random: Callable[[], float] = _random.random
    #: Monotonic clock that measures ``max_total``.
    clock: Callable[[], float] = time.monotonic
    #: Wall clock that turns a ``Retry-After`` HTTP date into seconds.
    wall_clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        if not self.attempts >= 1:
            raise ValueError(f"attempts must be >= 1, got {self.attempts!r}")
        for name in ("base_delay", "max_delay", "max_total", "retry_after_cap"):
            _check_not_negative(name, getattr(self, name))

    def replace(self, **changes: Any) -> RetryPolicy:
        """Return a copy with ``changes`` (keyword arguments of the constructor), validated as new."""
        return dataclasses.replace(self, **changes)

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

    Requests with a streaming body are never retried: their response is returned as is. Each wait is
    a ``bearer_codegen.retry.wait`` span and a ``bearer_codegen.retries`` count of ``telemetry``
    (default: OpenTelemetry's global providers); a call answered at once emits nothing.
    """

    def __init__(
        self,
        transport: httpx.BaseTransport,
        policy: RetryPolicy | None = None,
        *,
        logger_name: str = DEFAULT_RETRY_LOGGER_NAME,
        telemetry: Telemetry | None = None,
    ) -> None:
        self._transport = transport
        self.policy = policy if policy is not None else RetryPolicy()
        self._logger = logging.getLogger(logger_name)
        self._telemetry = telemetry_or_default(telemetry)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request``, retrying while the policy allows; return the first non-retryable response."""
        started = self.policy.clock()
        response = self._send(request)
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
            with self._telemetry.retry_wait(request, response, delay, attempts.attempt):
                self.policy.sleep(delay)
            response = self._send(request)

    def _send(self, request: httpx.Request) -> httpx.Response:
        """Send ``request``; once more at once if idempotent and its connection dropped before an answer."""
        try:
            return self._transport.handle_request(request)
        except _DROPPED as error:
            if not _may_resend(request, error, self._logger):
                raise
        return self._transport.handle_request(request)

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
        telemetry: Telemetry | None = None,
    ) -> None:
        self._transport = transport
        self.policy = policy if policy is not None else RetryPolicy()
        self._logger = logging.getLogger(logger_name)
        self._telemetry = telemetry_or_default(telemetry)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request``, retrying while the policy allows; return the first non-retryable response."""
        started = self.policy.clock()
        response = await self._send(request)
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
            with self._telemetry.retry_wait(request, response, delay, attempts.attempt):
                await self.policy.async_sleep(delay)
            response = await self._send(request)

    async def _send(self, request: httpx.Request) -> httpx.Response:
        """Send ``request``; once more at once if idempotent and its connection dropped before an answer."""
        try:
            return await self._transport.handle_async_request(request)
        except _DROPPED as error:
            if not _may_resend(request, error, self._logger):
                raise
        return await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self._transport.aclose()
