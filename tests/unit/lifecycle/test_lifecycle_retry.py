"""RetryTransport / AsyncRetryTransport: backoff, Retry-After, bounds and ServiceLimitError, never sleeping."""

from __future__ import annotations

import email.utils
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from token_lifecycle import (
    DEFAULT_ATTEMPTS,
    AsyncRetryTransport,
    RetryPolicy,
    RetryTransport,
    ServiceLimitError,
    parse_retry_after,
)

from ._support import BASE_URL, FakeClock, FakeService, make_lifecycle, sent_token

URL = f"{BASE_URL}/items?password=hunter2"
WALL_NOW = 1_750_000_000.0


class Script:
    """Answer the scripted statuses in order (then 200), recording every attempt."""

    def __init__(self, *statuses: int, headers: dict[str, str] | None = None) -> None:
        self.statuses = list(statuses)
        self.headers = headers or {}
        self.calls = 0
        self.closed: list[bool] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        status = self.statuses.pop(0) if self.statuses else 200
        stream = _TrackedStream(self.closed)
        return httpx.Response(status, headers=self.headers if status != 200 else {}, stream=stream)


class _TrackedStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    def __init__(self, closed: list[bool]) -> None:
        self.closed = closed
        self.index = len(closed)
        closed.append(False)

    def __iter__(self) -> Iterator[bytes]:
        yield b"busy"

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"busy"

    def close(self) -> None:
        self.closed[self.index] = True

    async def aclose(self) -> None:
        self.closed[self.index] = True


def _policy(delays: list[float], **overrides: Any) -> RetryPolicy:
    """Return a policy that records its waits in ``delays``, with random() fixed at 0.5 and a fixed wall clock."""

    async def async_sleep(seconds: float) -> None:
        delays.append(seconds)

    base = RetryPolicy(sleep=delays.append, async_sleep=async_sleep, random=lambda: 0.5, wall_clock=lambda: WALL_NOW)
    return base.replace(**overrides)


def _client(script: Script, policy: RetryPolicy) -> httpx.Client:
    return httpx.Client(transport=RetryTransport(httpx.MockTransport(script), policy=policy))


def test_backoff_is_full_jitter_exponential_per_the_documented_formula() -> None:
    """With random() fixed at 0.5 the waits are 0.5 * min(max_delay, base_delay * 2**n)."""
    script, delays = Script(503, 503, 503), list[float]()
    with _client(script, _policy(delays)) as client:
        assert client.get(URL).status_code == 200
    assert delays == [0.25, 0.5, 1.0]
    assert script.calls == 4


def test_backoff_never_exceeds_max_delay() -> None:
    """The exponential ceiling stops growing at ``max_delay``."""
    policy = _policy([], random=lambda: 1.0, base_delay=10.0, max_delay=15.0)
    assert [policy.backoff(n) for n in range(4)] == [10.0, 15.0, 15.0, 15.0]
    assert policy.backoff(10_000) == 15.0


@pytest.mark.anyio
async def test_async_backoff_is_full_jitter_exponential() -> None:
    """The async transport waits the same jittered backoff through ``async_sleep``."""
    script, delays = Script(503, 503), list[float]()
    transport = AsyncRetryTransport(httpx.MockTransport(script), policy=_policy(delays))
    async with httpx.AsyncClient(transport=transport) as client:
        assert (await client.get(URL)).status_code == 200
    assert delays == [0.25, 0.5]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param("7", 7.0, id="seconds"),
        pytest.param("600", 60.0, id="seconds-capped"),
        pytest.param(email.utils.formatdate(WALL_NOW + 20, usegmt=True), 20.0, id="http-date"),
        pytest.param(email.utils.formatdate(WALL_NOW + 3600, usegmt=True), 60.0, id="http-date-capped"),
        pytest.param(email.utils.formatdate(WALL_NOW - 50, usegmt=True), 0.0, id="http-date-past"),
        pytest.param("soon", 0.25, id="garbage-falls-back-to-backoff"),
    ],
)
def test_retry_after_is_honoured_and_capped(header: str, expected: float) -> None:
    """``Retry-After`` in seconds or as an HTTP date sets the wait, capped at ``retry_after_cap``."""
    script, delays = Script(503, headers={"Retry-After": header}), list[float]()
    with _client(script, _policy(delays)) as client:
        client.get(URL)
    assert delays == [expected]


def test_parse_retry_after_reads_seconds_and_dates() -> None:
    """The parser turns both header forms into seconds and rejects what it cannot read."""
    assert parse_retry_after("3", now_wall=0.0) == 3.0
    assert parse_retry_after("Thu, 01 Jan 1970 00:01:40 GMT", now_wall=40.0) == 60.0
    assert parse_retry_after("-5", now_wall=0.0) == 0.0
    assert parse_retry_after("nan", now_wall=0.0) is None
    assert parse_retry_after(None, now_wall=0.0) is None


def test_attempts_are_bounded_then_service_limit_error_without_query_string() -> None:
    """After ``attempts`` tries the transport raises ServiceLimitError; its text drops the query string."""
    script, delays = Script(*[503] * 10), list[float]()
    with _client(script, _policy(delays)) as client, pytest.raises(ServiceLimitError) as caught:
        client.get(URL)
    assert script.calls == DEFAULT_ATTEMPTS
    assert len(delays) == DEFAULT_ATTEMPTS - 1
    error = caught.value
    assert (error.attempts, error.last_status) == (DEFAULT_ATTEMPTS, 503)
    assert error.url == f"{BASE_URL}/items"
    assert "hunter2" not in str(error)
    assert "?" not in str(error)


@pytest.mark.anyio
async def test_async_attempts_are_bounded_then_service_limit_error() -> None:
    """The async transport also stops after ``attempts`` tries with ServiceLimitError."""
    script, delays = Script(*[503] * 10), list[float]()
    transport = AsyncRetryTransport(httpx.MockTransport(script), policy=_policy(delays, attempts=3))
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(ServiceLimitError) as caught:
            await client.get(URL)
    assert script.calls == 3
    assert caught.value.attempts == 3
    assert all(script.closed)


def test_total_time_is_bounded() -> None:
    """The transport gives up when the next wait would end past ``max_total`` since the first attempt."""
    clock = FakeClock(0.0)
    delays: list[float] = []

    def sleep(seconds: float) -> None:
        delays.append(seconds)
        clock.advance(seconds)

    policy = _policy(delays, sleep=sleep, clock=clock, random=lambda: 1.0, max_total=3.0)
    script = Script(*[503] * 10)
    with _client(script, policy) as client, pytest.raises(ServiceLimitError) as caught:
        client.get(URL)
    assert delays == [0.5, 1.0]  # the next wait (2.0) would end at 3.5 s
    assert caught.value.attempts == 3


def test_discarded_responses_are_closed() -> None:
    """Every 503 the transport retries past is closed, so its connection goes back to the pool."""
    script = Script(503, 503)
    with _client(script, _policy([])) as client:
        client.get(URL)
    assert script.closed == [True, True, True]


def test_other_statuses_are_returned_without_retry() -> None:
    """Only the policy's statuses are retried: a 500 comes back at once."""
    script, delays = Script(500), list[float]()
    with _client(script, _policy(delays)) as client:
        assert client.get(URL).status_code == 500
    assert (script.calls, delays) == (1, [])


def test_statuses_are_chosen_by_the_caller() -> None:
    """A policy naming 429 retries 429."""
    script, delays = Script(429), list[float]()
    with _client(script, _policy(delays, statuses=frozenset({429}))) as client:
        assert client.get(URL).status_code == 200
    assert len(delays) == 1


def test_a_streaming_body_is_not_retried() -> None:
    """A request whose body was a one-shot stream gets its 503 back instead of a broken replay."""
    calls: list[int] = []

    class Consuming(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            assert isinstance(request.stream, httpx.SyncByteStream)
            for _ in request.stream:
                pass
            calls.append(1)
            return httpx.Response(503)

    def body() -> Iterator[bytes]:
        yield b"once"

    with httpx.Client(transport=RetryTransport(Consuming(), policy=_policy([]))) as client:
        assert client.post(URL, content=body()).status_code == 503
    assert calls == [1]


def test_no_sleep_removes_every_wait() -> None:
    """``RetryPolicy.no_sleep()`` keeps the retries but never calls the sleep functions."""

    def forbidden(_: float) -> None:
        raise AssertionError("slept")

    policy = _policy([], sleep=forbidden).no_sleep()
    script = Script(503, 503)
    with _client(script, policy) as client:
        assert client.get(URL).status_code == 200
    assert script.calls == 3


@pytest.mark.anyio
async def test_async_no_sleep_removes_every_wait() -> None:
    """The async waits of a ``no_sleep()`` policy return at once too."""

    async def forbidden(_: float) -> None:
        raise AssertionError("slept")

    policy = _policy([], async_sleep=forbidden).no_sleep()
    transport = AsyncRetryTransport(httpx.MockTransport(Script(503)), policy=policy)
    async with httpx.AsyncClient(transport=transport) as client:
        assert (await client.get(URL)).status_code == 200


def test_close_is_delegated_to_the_inner_transport() -> None:
    """Closing the retry transport closes the transport it wraps."""
    closed: list[str] = []

    class Inner(httpx.MockTransport):
        def close(self) -> None:
            closed.append("sync")

    RetryTransport(Inner(Script())).close()
    assert closed == ["sync"]


@pytest.mark.anyio
async def test_aclose_is_delegated_to_the_inner_transport() -> None:
    """Closing the async retry transport closes the transport it wraps."""
    closed: list[str] = []

    class Inner(httpx.MockTransport):
        async def aclose(self) -> None:
            closed.append("async")

    await AsyncRetryTransport(Inner(Script())).aclose()
    assert closed == ["async"]


def test_policy_rejects_nonsense_bounds() -> None:
    """Zero attempts or a negative delay are configuration errors."""
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError, match="base_delay"):
        RetryPolicy(base_delay=-1.0)


def test_the_login_request_is_retried_below_the_auth_flow() -> None:
    """With the retry transport under the client, a 503 on the login is retried and the call succeeds."""
    service = FakeService()
    answers = [503]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/login" and answers:
            return httpx.Response(answers.pop())
        return service.handle(request)

    delays: list[float] = []
    transport = RetryTransport(httpx.MockTransport(handler), policy=_policy(delays))
    with httpx.Client(transport=transport, auth=make_lifecycle()) as client:
        assert sent_token(client.get(f"{BASE_URL}/items")) == "tok-1"
    assert delays == [0.25]


def test_the_policy_may_be_passed_positionally() -> None:
    """``RetryTransport(inner, policy)`` is the form generated clients use."""
    policy = RetryPolicy(attempts=2)
    assert RetryTransport(httpx.MockTransport(Script()), policy).policy is policy
    assert AsyncRetryTransport(httpx.MockTransport(Script()), policy).policy is policy
