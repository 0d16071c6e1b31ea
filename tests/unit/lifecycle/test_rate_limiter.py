"""LocalRateLimiter: the service's sliding window in one process, for threads and tasks, with a bounded wait."""

from __future__ import annotations

import asyncio
import dataclasses
import math
import random
import threading

import pytest
from token_lifecycle import (
    DEFAULT_PACING_MARGIN,
    LocalRateLimiter,
    RateLimiter,
    RateLimitTimeoutError,
    ServiceLimitError,
    ServiceLimits,
)


class FakeTime:
    """A monotonic clock whose sleeps move it (thread-safe), recording each sleep."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)
        await asyncio.sleep(0)  # let the other tasks run, as a real sleep would


def limiter(limits: ServiceLimits, fake: FakeTime, margin: float = 0.0) -> LocalRateLimiter:
    return LocalRateLimiter(limits, margin=margin, clock=fake, sleep=fake.sleep, async_sleep=fake.async_sleep)


def most_in_any_window(times: list[float], window: float) -> int:
    """The largest number of ``times`` inside any half-open window ``[t, t + window)``."""
    ordered = sorted(times)
    most = 0
    for i, start in enumerate(ordered):
        most = max(most, sum(1 for t in ordered[i:] if t < start + window))
    return most


@pytest.mark.parametrize(
    ("requests", "per"),
    [(0, 1.0), (-1, 1.0), (1.5, 1.0), (True, 1.0), (1, 0.0), (1, -1.0), (1, math.inf), (1, math.nan), (1, "1")],
)
def test_service_limits_refuse_what_no_service_could_mean(requests: object, per: object):
    """A limit needs a whole number of requests >= 1 and a finite window > 0."""
    with pytest.raises(ValueError, match="must be"):
        ServiceLimits(requests, per)  # type: ignore[arg-type]


def test_service_limits_are_a_frozen_value_that_reads_well():
    """ServiceLimits compare by value, refuse changes, and say what they mean."""
    limits = ServiceLimits(600, 60)
    assert limits == ServiceLimits(600, 60.0)
    assert str(limits) == "600 requests per 60 s"
    with pytest.raises(dataclasses.FrozenInstanceError, match="immutable"):
        limits.requests = 1  # type: ignore[misc]


def test_the_local_limiter_is_a_rate_limiter():
    """LocalRateLimiter meets the RateLimiter protocol the client and the transports take."""
    assert isinstance(LocalRateLimiter(ServiceLimits(1, 1)), RateLimiter)


def test_slots_free_when_the_oldest_admitted_call_leaves_the_window():
    """L calls go at once; the next waits exactly until the first one is a window old, like the service."""
    fake = FakeTime()
    pacer = limiter(ServiceLimits(3, 10.0), fake)
    for _ in range(3):  # at t = 1000, 1002, 1004
        assert pacer.acquire(60) == 0.0
        fake.now += 2.0
    assert pacer.acquire(60) == pytest.approx(4.0)  # at t=1006 the first slot frees at t=1010
    assert fake.sleeps == [pytest.approx(4.0)]
    assert pacer.try_acquire() == pytest.approx(2.0)  # the t=1002 slot frees at t=1012
    fake.now += 2.0
    assert pacer.try_acquire() == 0.0


def test_the_margin_lengthens_the_window():
    """With a margin m the window is per * (1 + m): room for network delay jitter."""
    fake = FakeTime()
    pacer = limiter(ServiceLimits(1, 10.0), fake, margin=DEFAULT_PACING_MARGIN)
    pacer.acquire(60)
    assert pacer.try_acquire() == pytest.approx(10.5)
    assert pacer.window == pytest.approx(10.5)


def test_never_more_than_the_limit_in_any_window():
    """Random bursts and pauses: every admitted call respects L per window, waits included."""
    fake = FakeTime()
    pacer = limiter(ServiceLimits(5, 2.0), fake)
    rng = random.Random(15)  # noqa: S311 -- a seeded, repeatable arrival pattern, not a secret
    admitted: list[float] = []
    for _ in range(300):
        if rng.random() < 0.2:
            fake.now += rng.random() * 3.0
        pacer.acquire(60)
        admitted.append(fake.now)
    assert most_in_any_window(admitted, 2.0) == 5
    assert len(admitted) == 300


def test_no_slot_within_max_wait_fails_at_once_with_what_was_waited():
    """When the next slot frees after max_wait, the call fails without waiting for nothing."""
    fake = FakeTime()
    pacer = limiter(ServiceLimits(2, 30.0), fake)
    pacer.acquire(1)
    pacer.acquire(1)
    with pytest.raises(RateLimitTimeoutError) as caught:
        pacer.acquire(5.0)
    assert fake.sleeps == []
    error = caught.value
    assert isinstance(error, ServiceLimitError)
    assert (error.attempts, error.last_status, error.waited) == (0, None, 0.0)
    assert error.limits == ServiceLimits(2, 30.0)
    assert "2 requests per 30 s" in str(error)
    assert "within 5s" in str(error)


def test_a_cool_down_pauses_every_caller_and_never_shortens():
    """cool_down(s): nobody gets a slot before s have passed; a shorter pause does not end a longer one."""
    fake = FakeTime()
    pacer = limiter(ServiceLimits(100, 1.0), fake)
    pacer.cool_down(7.0)
    pacer.cool_down(2.0)
    assert pacer.try_acquire() == pytest.approx(7.0)
    assert pacer.acquire(10) == pytest.approx(7.0)
    pacer.cool_down(3.0)
    with pytest.raises(RateLimitTimeoutError):
        pacer.acquire(1.0)


def test_threads_racing_for_slots_never_get_more_than_the_limit():
    """Eight threads race for three slots of a long window: exactly three win, the rest time out."""
    pacer = LocalRateLimiter(ServiceLimits(3, 1000.0))
    start = threading.Barrier(8)
    won: list[bool] = []

    def race() -> None:
        start.wait()
        for _ in range(5):
            try:
                pacer.acquire(0.0)
            except RateLimitTimeoutError:
                won.append(False)
            else:
                won.append(True)

    threads = [threading.Thread(target=race) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert won.count(True) == 3
    assert won.count(False) == 37


def test_tasks_share_the_window_and_wait_without_blocking_the_loop():
    """Twenty tasks of one loop: at most L per window, each waits in turn (async twin of the sync tests)."""
    fake = FakeTime()
    pacer = limiter(ServiceLimits(4, 1.0), fake)
    admitted: list[float] = []

    async def call() -> None:
        await pacer.acquire_async(60)
        admitted.append(fake.now)

    async def main() -> None:
        await asyncio.gather(*(call() for _ in range(20)))

    asyncio.run(main())
    assert len(admitted) == 20
    assert most_in_any_window(admitted, 1.0) == 4


def test_async_callers_time_out_and_cool_down_like_sync_ones():
    """acquire_async raises RateLimitTimeoutError past max_wait; cool_down_async pauses the limiter."""
    fake = FakeTime()
    pacer = limiter(ServiceLimits(1, 10.0), fake)

    async def main() -> None:
        await pacer.acquire_async(1)
        with pytest.raises(RateLimitTimeoutError):
            await pacer.acquire_async(5)
        await pacer.cool_down_async(20.0)
        assert await pacer.acquire_async(30) == pytest.approx(20.0)

    asyncio.run(main())


def test_recorded_calls_count_like_acquired_ones():
    """record(): a slot taken elsewhere (the fleet's limiter) fills this window as if taken here."""
    fake = FakeTime()
    pacer = limiter(ServiceLimits(2, 10.0), fake)
    pacer.record()
    fake.now += 1.0
    pacer.record()
    assert pacer.try_acquire() == pytest.approx(9.0)
    fake.now += 9.0
    assert pacer.try_acquire() == 0.0
