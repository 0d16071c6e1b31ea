"""One service limit shared by a fleet of processes on many hosts, through Redis (needs the ``[redis]`` extra).

`RedisRateLimiter` keeps the slots of the account in Redis with the ``limits`` library's moving
window (``MovingWindowRateLimiter`` on ``RedisStorage``, redis-py, sync and ``redis.asyncio``): the
service's own algorithm, a sliding-window log, counted once for every process that uses the same
Redis, API and ``account``. A call takes a slot with ``hit``; when refused, ``get_window_stats``
says when the oldest slot of the window frees, and the call waits until then (plus the margin, below,
and a random jitter of up to `MAX_JITTER_SECONDS`, so that the waiters of a fleet do not all knock
at the same instant), within its ``max_wait``, and tries again.

The shared cool-down: a 503 with ``Retry-After`` seen by any member sets the key
``<namespace>:cool-down:<api>:<account>`` to "paused until <wall time>", expiring then (PX). Each
acquire reads it first, in one pipeline with the margin's read (below), then hits: two round trips
on the way of a call (a third, ``get_window_stats``, when refused), under a millisecond on a LAN.
So the whole fleet waits until the service's moment, not only the member told.

What the fleet's clocks and network do to the count:

- ``limits`` stamps each slot with the wall clock (``time.time()``) of the host that took it, and
  its windows are whole seconds. A non-integer ``per`` is rounded up (a 1.5 s window becomes 2 s:
  never more than the service allows, but less of it used); most service limits are whole seconds.
- A host whose clock runs ``s`` seconds ahead sees the others' slots ``s`` seconds older, and may
  reuse them ``s`` early: skew acts like delay jitter. Keep hosts on NTP (skew in milliseconds).
  The cool-down is a wall time too: a host ``s`` ahead ends it ``s`` early (and meets a 503 that
  starts it again).
- The service counts arrival times: requests spaced one window apart by their senders may arrive
  closer by the difference of their network delays, or of the time each sender took between taking
  its slot and sending (a burst queued at the service, a process descheduled on a busy host). The
  in-process limiter lengthens its window by the margin; ``limits`` cannot (whole seconds), so the
  Redis limiter reads, in the pipeline before each hit, the slot that the hit would reuse (the
  window's oldest entry, ``LINDEX``), and waits until it is a window plus the margin old:
  `DEFAULT_PACING_MARGIN` of the window (5 %: 50 ms of a 1 s window, 3 s of a minute), the same room
  for delay jitter and skew as the in-process limiter, at 1 / 1.05 = 95 % of the limit. Only a member
  whose hit races another's between the read and the hit can reuse a slot without the margin.

Measured (3 or 4 processes x 3 threads against the simulator at 20, 50 and 100 per second, on a
shared 2-CPU host, 10 s runs): no 503 in 7 runs, at the 95 % the margin leaves; the same fleet
with a 5 % lower count and no time margin met 2 to 5 503s per run, mostly one window after a burst.

Failing open (`FailOpen`): every Redis command is bounded by ``timeout`` (`REDIS_TIMEOUT_SECONDS`,
connect and answer; only a dropped connection is retried, once, at once); when Redis is
unreachable, slow or paused, one WARNING, and the
process paces itself with a `LocalRateLimiter` of the same limits, which has counted this process's
own calls all along (so it does not start from a full window), until Redis answers again. Only its
own share: a whole fleet on local limiters may exceed the limit, and the retry layer meets the 503s.
"""

from __future__ import annotations

import asyncio
import math
import random as _random
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

import httpx

from ._fail_open import REDIS_TIMEOUT_SECONDS, FailOpen
from ._fork import renew_after_fork
from ._limits import DEFAULT_PACING_MARGIN, LocalRateLimiter, ServiceLimits, timeout_error
from ._redis_backend import bounded_options
from ._urls import safe_url

if TYPE_CHECKING:
    from limits import RateLimitItem
    from limits.aio.storage import RedisStorage as AsyncStorage
    from limits.aio.strategies import MovingWindowRateLimiter as AsyncMovingWindow
    from limits.storage import RedisStorage as SyncStorage
    from limits.strategies import MovingWindowRateLimiter as SyncMovingWindow

#: Prefix of every key of the limiter in Redis (the token store's idea: one namespace per toolkit).
DEFAULT_NAMESPACE = "bearer-codegen"
#: The account whose limit the calls share when none is named.
DEFAULT_ACCOUNT = "default"
#: Seconds: the largest random delay added to a wait for a slot, so that a fleet's waiters spread out.
MAX_JITTER_SECONDS = 0.02
#: Seconds: the shortest wait between two tries (a slot reported free that another member took).
MIN_POLL_SECONDS = 0.005

# Sets the cool-down only when it ends later than the one already set: a shorter pause never shortens it.
_COOL_DOWN_SCRIPT = """
local current = tonumber(redis.call('get', KEYS[1]) or '0')
if current < tonumber(ARGV[1]) then
    redis.call('set', KEYS[1], ARGV[1], 'px', ARGV[2])
end
return 1
"""


def paced_item(limits: ServiceLimits) -> RateLimitItem:
    """The ``limits`` item of ``limits``: the same count in a whole-second window (a fraction rounded up)."""
    from limits import RateLimitItemPerSecond

    return RateLimitItemPerSecond(limits.requests, max(1, math.ceil(limits.per)))


def _redis_errors() -> tuple[type[BaseException], ...]:
    import redis.exceptions

    return (redis.exceptions.RedisError, OSError, asyncio.TimeoutError)


class RedisRateLimiter:
    """Pace every process that shares ``redis_url``, ``api`` and ``account`` to ``limits`` (module docstring).

    ``api`` is the API's base URL (keys hold it without user info or query). Given to a generated
    client as ``rate_limiter=``, a limiter made without ``limits`` or ``api`` takes the client's
    (``service_limits`` and ``base_url``: see `bind`). ``clock``, ``wall_clock``, ``sleep``,
    ``async_sleep`` and ``random`` can be injected for tests.
    """

    # Set by _bind, once the limits and the API are known: at construction, or by a client (`bind`).
    _limits: ServiceLimits
    api: str
    #: The limiter of this process alone, used while Redis is unavailable.
    local: LocalRateLimiter
    health: FailOpen
    _item: RateLimitItem
    _window: float
    _margin_seconds: float
    _identifiers: tuple[str, str, str]
    _cool_down_key: str
    _window_key: str

    def __init__(
        self,
        redis_url: str,
        limits: ServiceLimits | None = None,
        *,
        api: str | None = None,
        account: str = DEFAULT_ACCOUNT,
        namespace: str = DEFAULT_NAMESPACE,
        margin: float = DEFAULT_PACING_MARGIN,
        timeout: float = REDIS_TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        async_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        random: Callable[[], float] = _random.random,
    ) -> None:
        if not (math.isfinite(margin) and margin >= 0):
            raise ValueError(f"margin must be a finite fraction >= 0, got {margin!r}")
        self.account = account
        self._redis_url = redis_url
        self._namespace = namespace
        self._margin = margin
        self._timeout = timeout
        self._clock = clock
        self._wall_clock = wall_clock
        self._sleep = sleep
        self._async_sleep = async_sleep
        self._random = random
        self._given = (limits, api)
        self._bound = False
        self._sync: tuple[SyncStorage, SyncMovingWindow] | None = None
        # redis.asyncio connections belong to the event loop that opened them: one storage per loop.
        self._async: dict[asyncio.AbstractEventLoop, tuple[AsyncStorage, AsyncMovingWindow]] = {}
        self._lock = threading.Lock()
        # A forked child must not use its parent's event loops (redis-py's own pools check the pid).
        renew_after_fork(self, _async=dict, _lock=threading.Lock)
        if limits is not None and api is not None:
            self._bind(limits, api)

    def _bind(self, limits: ServiceLimits, api: str) -> None:
        self._limits = limits
        self.api = safe_url(httpx.URL(api))
        self._item = paced_item(limits)
        #: The window this limiter counts in (whole seconds) and the margin after it, in seconds.
        self._window = float(self._item.get_expiry())
        self._margin_seconds = self._window * self._margin
        self._identifiers = ("rate", self.api, self.account)
        self._cool_down_key = f"{self._namespace}:cool-down:{self.api}:{self.account}"
        # The window's key as limits' storages name it ("<key_prefix>:<item key>"), newest entry first:
        # the hit compares the amount-th newest entry (index amount - 1) with the window.
        self._window_key = f"{self._namespace}:{self._item.key_for(*self._identifiers)}"
        self.local = LocalRateLimiter(
            limits, margin=self._margin, clock=self._clock, sleep=self._sleep, async_sleep=self._async_sleep
        )
        self.health = FailOpen(f"the rate limiter {self._describe(limits)}", clock=self._clock)
        self._bound = True  # last: a thread that sees it sees every part above

    def bind(self, limits: ServiceLimits | None, api: str) -> RedisRateLimiter:
        """Complete a limiter made without ``limits`` or ``api`` with a client's, and return it.

        What the limiter was given at construction wins. Called by the generated client with its
        ``service_limits`` and ``base_url``; a limiter already bound to another API refuses (its keys
        and its window belong to that API: make one limiter per API).
        """
        given_limits, given_api = self._given
        with self._lock:
            if not self._bound:
                chosen = given_limits if given_limits is not None else limits
                if chosen is None:
                    raise ValueError(
                        f"{self!r} has no service limit to pace to: pass limits= to it, "
                        "or service_limits= to the client"
                    )
                self._bind(chosen, given_api if given_api is not None else api)
            elif given_api is None and self.api != safe_url(httpx.URL(api)):
                raise ValueError(
                    f"{self!r} paces the calls of {self.api}: make another one for {safe_url(httpx.URL(api))}"
                )
        return self

    def _check_bound(self) -> None:
        if not self._bound:
            raise RuntimeError(
                f"{self!r} has no limits or API yet: pass them to it, or give it to a client as rate_limiter="
            )

    def _describe(self, limits: ServiceLimits | None) -> str:
        # The Redis URL may hold a password: only its host part is shown.
        redis = safe_url(httpx.URL(self._redis_url))
        return f"{type(self).__name__}({redis!r}, {limits!r}, account={self.account!r})"

    def __repr__(self) -> str:
        return self._describe(self._limits if self._bound else None)

    @property
    def limits(self) -> ServiceLimits:
        """The service limit this limiter paces to (AttributeError before it has one: see `bind`)."""
        if not self._bound:
            raise AttributeError(f"{self!r} has no limits yet: pass them to it, or give it to a client")
        return self._limits

    def _options(self, retry_class: Callable[..., object]) -> dict[str, Any]:
        """Bounded commands, as the token store's (`bounded_options`), under this limiter's namespace."""
        return {**bounded_options(self._timeout, retry_class), "key_prefix": self._namespace}

    def _sync_parts(self) -> tuple[SyncStorage, SyncMovingWindow]:
        parts = self._sync
        if parts is None:
            with self._lock:  # one connection pool, whichever thread comes first
                if self._sync is None:
                    from limits.storage import RedisStorage
                    from limits.strategies import MovingWindowRateLimiter
                    from redis.retry import Retry

                    storage = RedisStorage(self._redis_url, **self._options(Retry))
                    self._sync = (storage, MovingWindowRateLimiter(storage))
                parts = self._sync
        return parts

    def _async_parts(
        self,
    ) -> tuple[AsyncStorage, AsyncMovingWindow]:
        loop = asyncio.get_running_loop()
        with self._lock:
            parts = self._async.get(loop)
            if parts is None:
                from limits.aio.storage import RedisStorage
                from limits.aio.strategies import MovingWindowRateLimiter
                from redis.asyncio.retry import Retry

                # Forget the storages of closed loops (e.g. one asyncio.run() per test) so none piles up.
                self._async = {key: value for key, value in self._async.items() if not key.is_closed()}
                storage = RedisStorage(f"async+{self._redis_url}", implementation="redispy", **self._options(Retry))
                parts = self._async[loop] = (storage, MovingWindowRateLimiter(storage))
            return parts

    def close(self) -> None:
        """Close the sync connections (the limiter opens them again if used afterwards)."""
        if self._sync is not None:
            cast(Any, self._sync[0].get_connection()).close()

    async def aclose(self) -> None:
        """Close the running event loop's connections: call it before the loop ends, to free its sockets."""
        with self._lock:
            parts = self._async.pop(asyncio.get_running_loop(), None)
        if parts is not None:
            await cast(Any, parts[0].bridge).get_connection().aclose()

    def _wait_before_hit(self, paused_until: bytes | str | None, reused: bytes | str | None) -> float:
        """Seconds to wait before a hit: the shared cool-down, or the margin after the slot a hit would reuse."""
        now = self._wall_clock()
        paused = 0.0 if paused_until is None else float(paused_until) - now
        margin = 0.0 if reused is None else float(reused) + self._window + self._margin_seconds - now
        return max(0.0, paused, margin)

    def _wait_after_refusal(self, reset_time: float) -> float:
        """Seconds until the window's oldest slot frees, plus the margin (another member took the last one)."""
        return max(MIN_POLL_SECONDS, reset_time + self._margin_seconds - self._wall_clock())

    def try_acquire(self) -> float:
        """One try in Redis: 0.0 when a slot was taken, else the seconds until one may be. Raises Redis errors.

        Two round trips: the cool-down and the slot a hit would reuse (one pipeline), then the hit.
        """
        self._check_bound()
        storage, strategy = self._sync_parts()
        pipeline = cast(Any, storage.get_connection()).pipeline(transaction=False)
        pipeline.get(self._cool_down_key)
        pipeline.lindex(self._window_key, self._item.amount - 1)
        wait = self._wait_before_hit(*pipeline.execute())
        if wait > 0.0:
            return wait
        if strategy.hit(self._item, *self._identifiers):
            return 0.0
        return self._wait_after_refusal(strategy.get_window_stats(self._item, *self._identifiers).reset_time)

    async def try_acquire_async(self) -> float:
        """`try_acquire` on ``redis.asyncio``."""
        self._check_bound()
        storage, strategy = self._async_parts()
        pipeline = cast(Any, storage.bridge).get_connection().pipeline(transaction=False)
        pipeline.get(self._cool_down_key)
        pipeline.lindex(self._window_key, self._item.amount - 1)
        wait = self._wait_before_hit(*await pipeline.execute())
        if wait > 0.0:
            return wait
        if await strategy.hit(self._item, *self._identifiers):
            return 0.0
        stats = await strategy.get_window_stats(self._item, *self._identifiers)
        return self._wait_after_refusal(stats.reset_time)

    def _sleep_for(self, wait: float, waited: float, max_wait: float) -> float | None:
        """The sleep before the next try (with jitter, within ``max_wait``), None when it cannot fit."""
        if waited + wait > max_wait:
            return None
        return min(wait + self._random() * MAX_JITTER_SECONDS, max_wait - waited)

    def acquire(self, max_wait: float) -> float:
        """Take a slot of the fleet, waiting up to ``max_wait`` seconds; return the seconds waited."""
        self._check_bound()
        started = self._clock()
        while True:
            if not self.health.usable():
                return self._clock() - started + self.local.acquire(max(0.0, max_wait - (self._clock() - started)))
            try:
                wait = self.try_acquire()
            except _redis_errors() as error:
                self.health.failed(error)
                continue
            self.health.succeeded()
            waited = self._clock() - started
            if wait <= 0.0:
                self.local.record()
                return waited
            sleep = self._sleep_for(wait, waited, max_wait)
            if sleep is None:
                raise timeout_error(self._limits, max_wait, waited, wait)
            self._sleep(sleep)

    async def acquire_async(self, max_wait: float) -> float:
        """Take a slot of the fleet without blocking the event loop (see `acquire`)."""
        self._check_bound()
        started = self._clock()
        while True:
            if not self.health.usable():
                remaining = max(0.0, max_wait - (self._clock() - started))
                return self._clock() - started + await self.local.acquire_async(remaining)
            try:
                wait = await self.try_acquire_async()
            except _redis_errors() as error:
                self.health.failed(error)
                continue
            self.health.succeeded()
            waited = self._clock() - started
            if wait <= 0.0:
                self.local.record()
                return waited
            sleep = self._sleep_for(wait, waited, max_wait)
            if sleep is None:
                raise timeout_error(self._limits, max_wait, waited, wait)
            await self._async_sleep(sleep)

    def cool_down(self, seconds: float) -> None:
        """Pause every member of the fleet for ``seconds`` from now (this process even if Redis is down)."""
        self._check_bound()
        self.local.cool_down(seconds)
        if seconds <= 0 or not self.health.usable():
            return
        until = self._wall_clock() + seconds
        try:
            storage, _ = self._sync_parts()
            cast(Any, storage.get_connection()).eval(
                _COOL_DOWN_SCRIPT, 1, self._cool_down_key, repr(until), max(1, math.ceil(seconds * 1000))
            )
        except _redis_errors() as error:
            self.health.failed(error)
        else:
            self.health.succeeded()

    async def cool_down_async(self, seconds: float) -> None:
        """`cool_down` on ``redis.asyncio``."""
        self._check_bound()
        self.local.cool_down(seconds)
        if seconds <= 0 or not self.health.usable():
            return
        until = self._wall_clock() + seconds
        try:
            storage, _ = self._async_parts()
            await (
                cast(Any, storage.bridge)
                .get_connection()
                .eval(_COOL_DOWN_SCRIPT, 1, self._cool_down_key, repr(until), max(1, math.ceil(seconds * 1000)))
            )
        except _redis_errors() as error:
            self.health.failed(error)
        else:
            self.health.succeeded()
