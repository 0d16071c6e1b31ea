"""An account's service limit, and pacing calls under it in one process (threads and asyncio tasks).

A service that limits an account to ``requests`` per ``per`` seconds counts every request of every
token and user of that account; a client that sends faster is answered 503 and has to retry. A
`RateLimiter` keeps the calls of a client under the limit on the client side instead: each call
takes a slot first (``acquire``), waiting for one up to ``max_wait`` seconds, and a 503 that says
``Retry-After`` pauses every caller of the limiter until then (``cool_down``).

`LocalRateLimiter` is the limiter of one process. Its algorithm is the service's own (the simulator's
``admit``): a sliding-window log, where a request is admitted when fewer than ``requests`` were
admitted in the last window, and the wait for a slot is the time until the oldest admitted request
leaves it. It is a deque of monotonic timestamps under a lock held for microseconds, so threads and
tasks share it. The ``limits`` library's ``MovingWindowRateLimiter`` with ``MemoryStorage`` does the
same, but measured 15.6 µs per hit against 0.4 µs for this log, starts a timer thread, and would
make ``limits`` (an extra) a requirement of every client: it is used only by the fleet's
`RedisRateLimiter` (``._redis_limiter``).

The safety margin. The service counts arrival times, the client counts departure times: when two
requests of the same slot travel with delays that differ by ``d`` seconds, the service may see them
``d`` seconds closer than the client spaced them, and L + 1 arrivals fit in one window. Pacing to a
window ``margin`` longer than the service's (``per * (1 + margin)``) absorbs any such jitter up to
``per * margin``: with the default `DEFAULT_PACING_MARGIN` of 5 % that is 50 ms for a per-second
limit and 3 s for a per-minute one, and the client still uses 1 / 1.05 = 95 % of the limit.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Protocol, cast, runtime_checkable

from ._errors import RateLimitTimeoutError
from ._fork import renew_after_fork
from ._values import Value, immutable

#: Fraction by which a limiter lengthens the service's window (or, on Redis, lowers its count): the
#: room for network delay jitter and clock skew between the client's pacing and the service's count.
DEFAULT_PACING_MARGIN = 0.05
#: Seconds a call waits for a slot under the service limit before `RateLimitTimeoutError` (the
#: client's ``rate_limit_wait``): a per-second or per-10-seconds limit frees slots well before.
DEFAULT_RATE_LIMIT_WAIT = 30.0


async def _asyncio_sleep(seconds: float) -> None:
    """``asyncio.sleep``, imported when first awaited: only async users pay for importing asyncio."""
    import asyncio

    await asyncio.sleep(seconds)


@immutable
@dataclasses.dataclass(frozen=True, slots=True)
class ServiceLimits(Value):
    """An account may send ``requests`` requests per ``per`` seconds (the spec's ``x-service-limits``)."""

    requests: int
    per: float

    def __post_init__(self) -> None:
        # Typed as object: the values come from a document or a caller, not only from checked code.
        requests = cast(object, self.requests)
        per = cast(object, self.per)
        if isinstance(requests, bool) or not isinstance(requests, int) or requests < 1:
            raise ValueError(f"requests must be an int >= 1, got {requests!r}")
        if isinstance(per, bool) or not isinstance(per, int | float) or not (math.isfinite(per) and per > 0):
            raise ValueError(f"per must be a finite number of seconds > 0, got {per!r}")

    def __str__(self) -> str:
        return f"{self.requests} requests per {self.per:g} s"


@runtime_checkable
class RateLimiter(Protocol):
    """Where the calls of an account take their slots: one process (`LocalRateLimiter`) or a fleet.

    ``acquire`` returns the seconds it waited for a slot, or raises `RateLimitTimeoutError` when none
    frees within ``max_wait`` seconds (at once when the wait is known to be longer). ``cool_down``
    says "the service asked to wait ``seconds``": every caller of the limiter waits until then.
    """

    @property
    def limits(self) -> ServiceLimits:
        """The service limit this limiter paces to."""
        ...

    def acquire(self, max_wait: float) -> float:
        """Take a slot, waiting up to ``max_wait`` seconds; return the seconds waited."""
        ...

    async def acquire_async(self, max_wait: float) -> float:
        """Take a slot without blocking the event loop (see `acquire`)."""
        ...

    def cool_down(self, seconds: float) -> None:
        """Pause every caller of this limiter for ``seconds`` (a 503's ``Retry-After``)."""
        ...

    async def cool_down_async(self, seconds: float) -> None:
        """`cool_down` for async callers."""
        ...


@runtime_checkable
class BindableRateLimiter(Protocol):
    """A limiter that can take its limits and API from the client it is given to (`RedisRateLimiter`)."""

    def bind(self, limits: ServiceLimits | None, api: str) -> RateLimiter:
        """Complete the limiter with a client's ``service_limits`` and ``base_url`` (its own win); return it."""
        ...


def resolve_rate_limiter(
    rate_limiter: RateLimiter | BindableRateLimiter | None, service_limits: ServiceLimits | None, api: str
) -> RateLimiter | None:
    """The limiter a client paces its calls with, from its ``rate_limiter`` and ``service_limits`` arguments.

    None and None: no pacing at all. No limiter but limits: a `LocalRateLimiter` of them. A limiter
    that can be bound (`BindableRateLimiter`) takes what it lacks from the client; any other is used as is.
    """
    if rate_limiter is None:
        return None if service_limits is None else LocalRateLimiter(service_limits)
    if isinstance(rate_limiter, BindableRateLimiter):
        return rate_limiter.bind(service_limits, api)
    return rate_limiter


def timeout_error(limits: ServiceLimits, max_wait: float, waited: float, needed: float) -> RateLimitTimeoutError:
    """The error of a call that found no slot within ``max_wait`` (``needed``: the wait still ahead)."""
    return RateLimitTimeoutError(
        f"no slot under the service limit ({limits}) within {max_wait:g}s: waited {waited:.2f}s and the "
        f"next slot frees in {needed:.2f}s; send fewer calls or raise rate_limit_wait",
        url="",
        limits=limits,
        waited=waited,
    )


class LocalRateLimiter:
    """Pace the threads and tasks of one process to ``limits`` (a sliding-window log; module docstring).

    ``clock`` (monotonic seconds), ``sleep`` and ``async_sleep`` can be injected to simulate time.
    """

    def __init__(
        self,
        limits: ServiceLimits,
        *,
        margin: float = DEFAULT_PACING_MARGIN,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        async_sleep: Callable[[float], Awaitable[None]] = _asyncio_sleep,
    ) -> None:
        if not (math.isfinite(margin) and margin >= 0):
            raise ValueError(f"margin must be a finite fraction >= 0, got {margin!r}")
        self._limits = limits
        self.margin = margin
        #: The window this limiter paces to: the service's, lengthened by the margin.
        self.window = limits.per * (1.0 + margin)
        self._clock = clock
        self._sleep = sleep
        self._async_sleep = async_sleep
        # Only the newest `requests` admissions decide anything: the log never holds more.
        self._log: collections.deque[float] = collections.deque(maxlen=limits.requests)
        self._paused_until = -math.inf
        self._lock = threading.Lock()
        renew_after_fork(self, _lock=threading.Lock)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._limits!r}, margin={self.margin!r})"

    @property
    def limits(self) -> ServiceLimits:
        """The service limit this limiter paces to."""
        return self._limits

    def try_acquire(self) -> float:
        """Take a slot now if one is free and no cool-down runs: 0.0; else the seconds until one may be."""
        with self._lock:
            now = self._clock()
            if now < self._paused_until:
                return self._paused_until - now
            log = self._log
            while log and log[0] <= now - self.window:
                log.popleft()
            if len(log) < self._limits.requests:
                log.append(now)
                return 0.0
            return log[0] + self.window - now

    def record(self) -> None:
        """Count a call that took its slot elsewhere (in the fleet's limiter), as if taken here now.

        So that when this limiter stands in for the fleet's (Redis unavailable), it starts from this
        process's own recent calls instead of a full window.
        """
        with self._lock:
            self._log.append(self._clock())

    def acquire(self, max_wait: float) -> float:
        """Take a slot, waiting up to ``max_wait`` seconds; return the seconds waited."""
        started = self._clock()
        while True:
            wait = self.try_acquire()
            waited = self._clock() - started
            if wait <= 0.0:
                return waited
            if waited + wait > max_wait:
                raise timeout_error(self._limits, max_wait, waited, wait)
            self._sleep(wait)

    async def acquire_async(self, max_wait: float) -> float:
        """Take a slot without blocking the event loop (see `acquire`)."""
        started = self._clock()
        while True:
            wait = self.try_acquire()
            waited = self._clock() - started
            if wait <= 0.0:
                return waited
            if waited + wait > max_wait:
                raise timeout_error(self._limits, max_wait, waited, wait)
            await self._async_sleep(wait)

    def cool_down(self, seconds: float) -> None:
        """Pause every caller for ``seconds`` from now (a later pause already running is kept)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))

    async def cool_down_async(self, seconds: float) -> None:
        """`cool_down` for async callers (it never blocks)."""
        self.cool_down(seconds)
