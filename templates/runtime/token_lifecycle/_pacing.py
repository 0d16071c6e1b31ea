"""Pacing calls under the account's service limit, at the transport layer, under the retry layer.

Stack it below `RetryTransport`, so that every attempt, the retries and the login included, takes a
slot of the limit before it goes out::

    limiter = LocalRateLimiter(ServiceLimits(requests=600, per=60))
    transport = RetryTransport(PacedTransport(httpx.HTTPTransport(), limiter), policy=RetryPolicy())

A 503 whose ``Retry-After`` is usable (at most `DEFAULT_RETRY_AFTER_CAP` seconds are honoured)
pauses every caller of the limiter until then, other processes too when the limiter is shared
(`RedisRateLimiter`); the retry layer above still decides whether this call is tried again.
A call that finds no slot within ``max_wait`` seconds raises `RateLimitTimeoutError`, unsent.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from ._errors import RateLimitTimeoutError
from ._limits import DEFAULT_RATE_LIMIT_WAIT, RateLimiter
from ._retry import DEFAULT_RETRY_AFTER_CAP, parse_retry_after
from ._urls import safe_url

#: The status whose ``Retry-After`` pauses the limiter: "service unavailable", the service limit's answer.
COOL_DOWN_STATUS = 503


def _cool_down_seconds(response: httpx.Response, wall_clock: Callable[[], float]) -> float | None:
    """The pause a 503 asks for (capped), None for any other answer or an unusable ``Retry-After``."""
    if response.status_code != COOL_DOWN_STATUS:
        return None
    seconds = parse_retry_after(response.headers.get("Retry-After"), now_wall=wall_clock())
    return None if seconds is None else min(seconds, DEFAULT_RETRY_AFTER_CAP)


def _unsent(error: RateLimitTimeoutError, request: httpx.Request) -> RateLimitTimeoutError:
    """The limiter's error, naming the request that was not sent (its URL without the query string)."""
    url = safe_url(request.url)
    return RateLimitTimeoutError(
        f"{request.method} {url} was not sent: {error}", url=url, limits=error.limits, waited=error.waited
    )


class PacedTransport(httpx.BaseTransport):
    """Wrap a transport to take a slot of ``limiter`` before each request (see the module docstring)."""

    def __init__(
        self,
        transport: httpx.BaseTransport,
        limiter: RateLimiter,
        max_wait: float = DEFAULT_RATE_LIMIT_WAIT,
        *,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._transport = transport
        self.limiter = limiter
        self.max_wait = max_wait
        self._wall_clock = wall_clock

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Wait for a slot, send ``request``; on a 503 with ``Retry-After``, pause the limiter."""
        try:
            self.limiter.acquire(self.max_wait)
        except RateLimitTimeoutError as error:
            raise _unsent(error, request) from None
        response = self._transport.handle_request(request)
        pause = _cool_down_seconds(response, self._wall_clock)
        if pause is not None:
            self.limiter.cool_down(pause)
        return response

    def close(self) -> None:
        """Close the wrapped transport."""
        self._transport.close()


class AsyncPacedTransport(httpx.AsyncBaseTransport):
    """Wrap an async transport to take a slot of ``limiter`` before each request (see `PacedTransport`)."""

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport,
        limiter: RateLimiter,
        max_wait: float = DEFAULT_RATE_LIMIT_WAIT,
        *,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._transport = transport
        self.limiter = limiter
        self.max_wait = max_wait
        self._wall_clock = wall_clock

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Wait for a slot, send ``request``; on a 503 with ``Retry-After``, pause the limiter."""
        try:
            await self.limiter.acquire_async(self.max_wait)
        except RateLimitTimeoutError as error:
            raise _unsent(error, request) from None
        response = await self._transport.handle_async_request(request)
        pause = _cool_down_seconds(response, self._wall_clock)
        if pause is not None:
            await self.limiter.cool_down_async(pause)
        return response

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self._transport.aclose()
