"""PacedTransport: a slot before each request, a 503's Retry-After pauses the limiter, unsent past max_wait."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from token_lifecycle import (
    AsyncPacedTransport,
    AsyncRetryTransport,
    PacedTransport,
    RateLimitTimeoutError,
    RetryPolicy,
    RetryTransport,
    ServiceLimits,
)
from token_lifecycle._limits import timeout_error

LIMITS = ServiceLimits(10, 1.0)


class RecordingLimiter:
    """A RateLimiter that grants every slot (or none) and records what it was asked."""

    def __init__(self, *, full: bool = False) -> None:
        self.full = full
        self.acquired: list[float] = []
        self.cool_downs: list[float] = []

    @property
    def limits(self) -> ServiceLimits:
        return LIMITS

    def acquire(self, max_wait: float) -> float:
        if self.full:
            raise timeout_error(LIMITS, max_wait, waited=0.0, needed=max_wait + 1)
        self.acquired.append(max_wait)
        return 0.0

    async def acquire_async(self, max_wait: float) -> float:
        return self.acquire(max_wait)

    def cool_down(self, seconds: float) -> None:
        self.cool_downs.append(seconds)

    async def cool_down_async(self, seconds: float) -> None:
        self.cool_down(seconds)


def answering(*responses: httpx.Response) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """A MockTransport answering ``responses`` in turn, and the requests it saw."""
    seen: list[httpx.Request] = []
    queue = list(responses)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return queue.pop(0)

    return httpx.MockTransport(handle), seen


def send(transport: httpx.BaseTransport, url: str = "https://api.example/things?secret=1") -> httpx.Response:
    with httpx.Client(transport=transport) as client:
        return client.get(url)


def send_async(transport: httpx.AsyncBaseTransport, url: str = "https://api.example/things") -> httpx.Response:
    async def main() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport) as client:
            return await client.get(url)

    return asyncio.run(main())


Sender = Callable[[RecordingLimiter, httpx.MockTransport], httpx.Response]


def sync_sender(limiter: RecordingLimiter, inner: httpx.MockTransport) -> httpx.Response:
    return send(PacedTransport(inner, limiter, max_wait=7.5))


def async_sender(limiter: RecordingLimiter, inner: httpx.MockTransport) -> httpx.Response:
    return send_async(AsyncPacedTransport(inner, limiter, max_wait=7.5))


BOTH = pytest.mark.parametrize("sender", [sync_sender, async_sender], ids=["sync", "async"])


@BOTH
def test_each_request_takes_a_slot_with_the_transports_max_wait(sender: Sender):
    """A slot is taken before the request goes out, waiting at most the transport's max_wait."""
    limiter = RecordingLimiter()
    inner, seen = answering(httpx.Response(200))
    assert sender(limiter, inner).status_code == 200
    assert limiter.acquired == [7.5]
    assert len(seen) == 1
    assert limiter.cool_downs == []


@BOTH
@pytest.mark.parametrize(
    ("status", "retry_after", "pause"),
    [
        (503, "7", 7.0),
        (503, "3600", 60.0),  # capped: DEFAULT_RETRY_AFTER_CAP
        (503, "soon", None),
        (503, None, None),
        (429, "7", None),
        (200, "7", None),
    ],
    ids=["503-seconds", "503-capped", "503-unusable", "503-bare", "429", "200"],
)
def test_a_503_with_retry_after_pauses_the_limiter(
    sender: Sender, status: int, retry_after: str | None, pause: float | None
):
    """Only a 503 with a usable Retry-After pauses every caller of the limiter; the answer is returned as is."""
    limiter = RecordingLimiter()
    inner, _ = answering(httpx.Response(status, headers={} if retry_after is None else {"Retry-After": retry_after}))
    assert sender(limiter, inner).status_code == status
    assert limiter.cool_downs == ([] if pause is None else [pause])


def test_an_http_date_retry_after_is_read_with_the_wall_clock():
    """Retry-After as an HTTP date: the pause is its distance from the transport's wall clock."""
    limiter = RecordingLimiter()
    inner, _ = answering(httpx.Response(503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:12 GMT"}))
    send(PacedTransport(inner, limiter, wall_clock=lambda: 1445412480.0))  # 07:28:00
    assert limiter.cool_downs == [12.0]


@BOTH
def test_no_slot_in_time_raises_unsent_naming_the_request_without_its_query(sender: Sender):
    """RateLimitTimeoutError: the request never reached the inner transport; the message names it safely."""
    limiter = RecordingLimiter(full=True)
    inner, seen = answering()
    with pytest.raises(RateLimitTimeoutError) as caught:
        sender(limiter, inner)
    assert seen == []
    error = caught.value
    assert error.url == "https://api.example/things"
    assert (error.attempts, error.last_status, error.limits) == (0, None, LIMITS)
    assert str(error).startswith("GET https://api.example/things was not sent: no slot under the service limit")
    assert "secret" not in str(error)


def test_under_the_retry_layer_every_attempt_is_paced():
    """RetryTransport(PacedTransport(...)): the retry of a 503 takes its own slot after the pause."""
    limiter = RecordingLimiter()
    inner, seen = answering(httpx.Response(503, headers={"Retry-After": "2"}), httpx.Response(200))
    transport = RetryTransport(PacedTransport(inner, limiter), RetryPolicy().no_sleep())
    assert send(transport).status_code == 200
    assert len(limiter.acquired) == 2
    assert limiter.cool_downs == [2.0]
    assert len(seen) == 2


def test_under_the_async_retry_layer_every_attempt_is_paced():
    """The async twin: each attempt of AsyncRetryTransport goes through AsyncPacedTransport."""
    limiter = RecordingLimiter()
    inner, _ = answering(httpx.Response(503, headers={"Retry-After": "2"}), httpx.Response(200))
    transport = AsyncRetryTransport(AsyncPacedTransport(inner, limiter), RetryPolicy().no_sleep())
    assert send_async(transport).status_code == 200
    assert len(limiter.acquired) == 2
    assert limiter.cool_downs == [2.0]


def test_closing_the_paced_transport_closes_the_wrapped_one():
    """close() and aclose() reach the wrapped transport."""
    closed: list[str] = []

    class Inner(httpx.BaseTransport, httpx.AsyncBaseTransport):
        def close(self) -> None:
            closed.append("sync")

        async def aclose(self) -> None:
            closed.append("async")

    PacedTransport(Inner(), RecordingLimiter()).close()
    asyncio.run(AsyncPacedTransport(Inner(), RecordingLimiter()).aclose())
    assert closed == ["sync", "async"]
