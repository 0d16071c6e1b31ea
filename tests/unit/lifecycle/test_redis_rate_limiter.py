"""RedisRateLimiter against a real redis-server: one budget and one cool-down for a fleet, failing open."""

from __future__ import annotations

import asyncio
import logging
import math
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from typing import Any

import pytest
from token_lifecycle import (
    REMOTE_RECHECK_SECONDS,
    RateLimiter,
    RateLimitTimeoutError,
    RedisRateLimiter,
    ServiceLimits,
)
from token_lifecycle._redis_limiter import DEFAULT_NAMESPACE, MAX_JITTER_SECONDS, paced_item

from tests.redis_server import RedisServer

API = "https://user:pw@api.example/v1?key=secret"
#: A window no slow machine outlasts within a test: counts do not depend on speed.
LIMITS = ServiceLimits(20, 300)
PACED = 20


class Clock:
    """A monotonic clock the test moves (the limiter's waits and its FailOpen recheck)."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


_MADE: list[RedisRateLimiter] = []


@pytest.fixture(autouse=True)
def _close_every_limiter() -> Iterator[None]:
    """Every limiter a test made is closed after it: no socket left for the ResourceWarning filter."""
    yield
    while _MADE:
        _MADE.pop().close()


def make(redis: RedisServer, **overrides: Any) -> RedisRateLimiter:
    limits = overrides.pop("limits", LIMITS)
    arguments: dict[str, Any] = {"api": API, **overrides}
    limiter = RedisRateLimiter(redis.url, limits, **arguments)
    _MADE.append(limiter)
    return limiter


def test_limits_windows_are_whole_seconds_rounded_up():
    """limits' windows are whole seconds: a fractional window is rounded up, never down."""
    assert (paced_item(ServiceLimits(20, 1)).amount, paced_item(ServiceLimits(20, 1)).get_expiry()) == (20, 1)
    assert (paced_item(ServiceLimits(600, 60)).amount, paced_item(ServiceLimits(600, 60)).get_expiry()) == (600, 60)
    assert (paced_item(ServiceLimits(10, 1.5)).amount, paced_item(ServiceLimits(10, 1.5)).get_expiry()) == (10, 2)


def test_a_slot_is_reused_only_a_window_plus_the_margin_after_it_was_taken(redis_server: RedisServer):
    """Past the window but within the margin (5 % of it), the next call waits the rest, and hits nothing."""
    import redis

    offset = [0.0]
    limiter = make(redis_server, limits=ServiceLimits(1, 1), wall_clock=lambda: time.time() + offset[0])
    assert limiter.try_acquire() == 0.0
    offset[0] = 1.01  # as seen by the margin: the slot has left the 1 s window, not yet the 1.05 s one
    assert 0.0 < limiter.try_acquire() <= 0.04
    with redis.Redis.from_url(redis_server.url) as client:
        (key,) = client.keys(f"{DEFAULT_NAMESPACE}:LIMITER*")
        assert client.llen(key) == 1  # the margin's wait came before any hit


def test_the_margin_is_validated():
    """A negative or infinite margin is refused at construction."""
    for margin in (-0.1, math.inf, math.nan):
        with pytest.raises(ValueError, match="margin"):
            RedisRateLimiter("redis://127.0.0.1:1", LIMITS, api=API, margin=margin)


def test_two_limiters_on_one_redis_share_one_budget(redis_server: RedisServer):
    """Two processes' views of one account: together they get the paced count per window, no more."""
    first, second = make(redis_server), make(redis_server)
    assert isinstance(first, RateLimiter)
    waits = [(first if i % 2 else second).try_acquire() for i in range(30)]
    assert waits.count(0.0) == PACED
    assert all(0.0 < wait <= 300 * 1.05 for wait in waits if wait)


def test_accounts_and_apis_have_separate_budgets(redis_server: RedisServer):
    """The key holds the API and the account: another of either starts with a full budget."""
    for _ in range(PACED):
        make(redis_server).try_acquire()
    assert make(redis_server).try_acquire() > 0.0
    assert make(redis_server, account="other").try_acquire() == 0.0
    assert make(redis_server, api="https://api.example/v2").try_acquire() == 0.0


def test_keys_are_namespaced_and_hold_no_secret_of_the_url(redis_server: RedisServer):
    """Keys start with the namespace and name the API without user info or query; the repr hides both too."""
    limiter = make(redis_server)
    limiter.try_acquire()
    limiter.cool_down(5)
    import redis

    with redis.Redis.from_url(redis_server.url) as client:
        keys = [key.decode() for key in client.keys("*")]
    assert len(keys) == 2
    assert all(key.startswith(f"{DEFAULT_NAMESPACE}:") for key in keys)
    assert all("https://api.example/v1" in key for key in keys)
    assert not any("secret" in key or "pw" in key for key in keys)
    assert "secret" not in repr(limiter)


def test_a_second_process_shares_the_budget(redis_server: RedisServer):
    """A real second interpreter takes what this one left of the window, and not one slot more."""
    limiter = make(redis_server)
    taken = [limiter.try_acquire() for _ in range(12)].count(0.0)
    script = textwrap.dedent(
        f"""
        from token_lifecycle import RedisRateLimiter, ServiceLimits
        limiter = RedisRateLimiter({redis_server.url!r}, ServiceLimits(20, 300), api={API!r})
        print([limiter.try_acquire() for _ in range(20)].count(0.0))
        limiter.close()
        """
    )
    child = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert taken == 12
    assert int(child.stdout) == 8


def test_a_refused_call_waits_until_the_oldest_slot_frees_then_gets_one(redis_server: RedisServer):
    """acquire sleeps until the window's oldest slot frees (plus jitter), within max_wait, then takes one."""
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)  # a real window expiry: at most a second

    limiter = make(redis_server, limits=ServiceLimits(1, 1), sleep=sleep)
    limiter.acquire(5)
    assert slept == []
    waited = limiter.acquire(5)
    assert slept
    assert waited >= slept[0]
    assert all(0.0 < seconds <= 1.05 + MAX_JITTER_SECONDS for seconds in slept)


def test_no_slot_within_max_wait_raises_without_waiting(redis_server: RedisServer):
    """The next slot frees after max_wait: RateLimitTimeoutError at once, nothing slept."""
    slept: list[float] = []
    limiter = make(redis_server, limits=ServiceLimits(1, 30), sleep=slept.append)
    limiter.acquire(1)
    with pytest.raises(RateLimitTimeoutError) as caught:
        limiter.acquire(1)
    assert slept == []
    assert caught.value.limits == ServiceLimits(1, 30)


def test_a_cool_down_set_by_one_member_pauses_the_others(redis_server: RedisServer):
    """cool_down on one limiter: another limiter (another process) waits it out before any slot."""
    first, second = make(redis_server), make(redis_server)
    first.cool_down(8.0)
    first.cool_down(2.0)  # a shorter pause never shortens the running one
    assert 7.0 < second.try_acquire() <= 8.0
    with pytest.raises(RateLimitTimeoutError):
        second.acquire(1.0)


def test_the_async_limiter_shares_budget_and_cool_down_with_the_sync_one(redis_server: RedisServer):
    """acquire_async and cool_down_async use the same keys as the sync calls (async twin)."""
    sync = make(redis_server)
    for _ in range(PACED - 2):
        sync.try_acquire()
    asynchronous = make(redis_server)

    async def main() -> list[float]:
        waits = [await asynchronous.try_acquire_async() for _ in range(2)]  # the last two slots
        refused = await asynchronous.try_acquire_async()
        await asynchronous.aclose()
        return [*waits, refused]

    first, second, refused = asyncio.run(main())
    assert (first, second) == (0.0, 0.0)
    assert refused > 0.0
    sync_refused = sync.try_acquire()
    assert sync_refused > 0.0

    async def pause_and_time_out() -> None:
        try:
            await asynchronous.cool_down_async(600.0)  # longer than the window's wait: the pause decides
            with pytest.raises(RateLimitTimeoutError):
                await asynchronous.acquire_async(1.0)
        finally:
            await asynchronous.aclose()

    asyncio.run(pause_and_time_out())
    assert 599.0 < sync.try_acquire() <= 600.0


def test_a_new_event_loop_gets_its_own_connections(redis_server: RedisServer):
    """redis.asyncio connections belong to their loop: a second asyncio.run still works."""
    limiter = make(redis_server)

    async def call() -> float:
        wait = await limiter.try_acquire_async()
        await limiter.aclose()
        return wait

    assert asyncio.run(call()) == 0.0
    assert asyncio.run(call()) == 0.0
    assert [limiter.try_acquire() for _ in range(PACED)].count(0.0) == PACED - 2


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]


def test_redis_killed_fails_open_with_one_warning_then_comes_back(
    own_redis: RedisServer, caplog: pytest.LogCaptureFixture
):
    """Redis down: one WARNING, the process paces itself alone; after the recheck, Redis counts again."""
    clock = Clock()
    limiter = make(own_redis, clock=clock)
    assert limiter.acquire(1) == 0.0
    own_redis.kill()
    with caplog.at_level(logging.INFO):
        for _ in range(5):
            limiter.acquire(1)
        assert limiter.health.down
        assert len(_warnings(caplog)) == 1
        assert "is unavailable" in _warnings(caplog)[0]
        assert "secret" not in _warnings(caplog)[0]
        own_redis.restart()
        clock.now += REMOTE_RECHECK_SECONDS
        limiter.acquire(1)
    assert not limiter.health.down
    assert any("is back" in record.getMessage() for record in caplog.records)
    assert len(_warnings(caplog)) == 1
    # Counting in Redis again: a second member sees this process's slot.
    assert [make(own_redis).try_acquire() for _ in range(PACED)].count(0.0) == PACED - 1


def test_in_the_outage_the_local_limiter_keeps_the_process_under_the_limit(own_redis: RedisServer):
    """While Redis is away, this process alone still never exceeds the limit (the same limits, locally)."""
    clock = Clock()
    limiter = make(own_redis, clock=clock, limits=ServiceLimits(3, 60))
    own_redis.kill()
    for _ in range(3):
        limiter.acquire(1)
    with pytest.raises(RateLimitTimeoutError):
        limiter.acquire(1)


def test_redis_paused_costs_one_bounded_timeout_then_nothing(own_redis: RedisServer, caplog: pytest.LogCaptureFixture):
    """A stopped Redis (SIGSTOP): the first call times out (REDIS_TIMEOUT_SECONDS), later ones skip Redis."""
    clock = Clock()
    limiter = make(own_redis, clock=clock)
    limiter.acquire(1)  # connected before the pause
    with caplog.at_level(logging.WARNING), own_redis.paused():
        limiter.acquire(1)
        assert limiter.health.down
        for _ in range(5):
            limiter.acquire(1)
    assert len(_warnings(caplog)) == 1
    assert "Timeout" in _warnings(caplog)[0]


def test_the_async_limiter_fails_open_too(own_redis: RedisServer, caplog: pytest.LogCaptureFixture):
    """acquire_async with Redis killed: one WARNING, a local slot, no error."""
    limiter = make(own_redis, clock=Clock())
    own_redis.kill()

    async def main() -> None:
        for _ in range(3):
            await limiter.acquire_async(1)
        await limiter.cool_down_async(1.0)
        await limiter.aclose()

    with caplog.at_level(logging.WARNING):
        asyncio.run(main())
    assert len(_warnings(caplog)) == 1
    assert limiter.local.try_acquire() == pytest.approx(1.0)  # the pause held locally


def test_the_stand_in_starts_from_the_calls_this_process_made_through_redis(own_redis: RedisServer):
    """Slots taken in Redis are counted locally too: after a fail-over, the window is not full again."""
    limiter = make(own_redis, clock=Clock(), limits=ServiceLimits(3, 60))
    limiter.acquire(1)
    limiter.acquire(1)
    own_redis.kill()
    limiter.acquire(1)  # the third slot of the window, now from the local stand-in
    with pytest.raises(RateLimitTimeoutError):
        limiter.acquire(1)


def test_a_limiter_made_without_limits_or_api_takes_the_clients(redis_server: RedisServer):
    """RedisRateLimiter(url, account=...) given to a client: bind() completes it with the client's limit and URL."""
    limiter = RedisRateLimiter(redis_server.url, account="acme")
    _MADE.append(limiter)
    with pytest.raises(RuntimeError, match="no limits or API yet"):
        limiter.acquire(1)
    assert not isinstance(limiter, RateLimiter)  # not a usable limiter yet: it has no limits
    with pytest.raises(ValueError, match="no service limit to pace to"):
        limiter.bind(None, API)
    assert limiter.bind(LIMITS, API) is limiter
    assert (limiter.limits, limiter.api) == (LIMITS, "https://api.example/v1")
    assert limiter.bind(ServiceLimits(1, 1), API) is limiter  # bound once: a copy of the client binds again
    assert limiter.limits == LIMITS
    with pytest.raises(ValueError, match="make another one"):
        limiter.bind(LIMITS, "https://other.example/")
    assert limiter.try_acquire() == 0.0


def test_what_a_limiter_was_given_wins_over_the_clients(redis_server: RedisServer):
    """Limits and API given at construction stay: bind() changes nothing."""
    limiter = make(redis_server)
    assert limiter.bind(ServiceLimits(1, 1), "https://other.example/") is limiter
    assert (limiter.limits, limiter.api) == (LIMITS, "https://api.example/v1")
