"""Many real threads and asyncio tasks meeting a missing, an expired or a rejected token log in once."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, Generator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from token_lifecycle import TokenLifecycle

from ._support import BASE_URL, LIFETIME, FakeClock, FakeService, lifecycle_arguments, sent_token

THREADS = 64
TASKS = 256
ITEMS = f"{BASE_URL}/items"
SCENARIOS = ["missing", "expired", "rejected"]


class CountingLifecycle(TokenLifecycle):
    """Counts callers entering the flow, so the login can be held until every caller is in."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.entered = 0
        self.condition = threading.Condition()
        self.all_in = asyncio.Event()
        self.expected = 0

    def _note(self) -> None:
        with self.condition:
            self.entered += 1
            if self.entered >= self.expected:
                self.all_in.set()
            self.condition.notify_all()

    def wait_all_in(self) -> None:
        with self.condition:
            assert self.condition.wait_for(lambda: self.entered >= self.expected, timeout=20)

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self._note()
        yield from super().sync_auth_flow(request)

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        self._note()
        flow = super().async_auth_flow(request)
        outgoing = await flow.__anext__()
        while True:
            response = yield outgoing
            try:
                outgoing = await flow.asend(response)
            except StopAsyncIteration:
                return


def _prepare(scenario: str, service: FakeService, clock: FakeClock, auth: CountingLifecycle) -> str:
    """Put the lifecycle in the scenario's state; return the token every caller must end up sending."""
    if scenario == "missing":
        return "tok-1"
    with httpx.Client(transport=service.transport(), auth=auth) as client:
        client.get(ITEMS)
    if scenario == "expired":
        clock.advance(LIFETIME + 1)
    else:
        service.revoke_all()
    return "tok-2"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_threads_meeting_a_token_problem_log_in_exactly_once(scenario: str) -> None:
    """64 threads released together by a barrier share one login and all send the same fresh token."""
    service, clock = FakeService(), FakeClock()
    counting = CountingLifecycle(**lifecycle_arguments(clock))
    expected = _prepare(scenario, service, clock, counting)
    logins_before = service.logins
    counting.entered, counting.expected = 0, THREADS
    # Hold the one login open until every thread is inside the flow, so they really contend.
    service.login_gate = counting.wait_all_in
    barrier = threading.Barrier(THREADS)

    with httpx.Client(transport=service.transport(), auth=counting) as client:

        def call() -> str:
            barrier.wait(timeout=20)
            return sent_token(client.get(ITEMS))

        with ThreadPoolExecutor(THREADS) as pool:
            tokens = [future.result(timeout=30) for future in [pool.submit(call) for _ in range(THREADS)]]

    assert tokens == [expected] * THREADS
    assert service.logins - logins_before == 1
    # Single flight comes from re-checking under the lock, not from the store catching late callers.
    assert counting.stats.store_hits == 0
    if scenario == "rejected":
        assert counting.stats.invalidations == 1


@pytest.mark.anyio
@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_tasks_meeting_a_token_problem_log_in_exactly_once(scenario: str) -> None:
    """256 asyncio tasks on one AsyncClient share one login and all send the same fresh token."""
    service, clock = FakeService(), FakeClock()
    counting = CountingLifecycle(**lifecycle_arguments(clock))
    expected = _prepare(scenario, service, clock, counting)
    logins_before = service.logins
    counting.entered, counting.expected = 0, TASKS
    counting.all_in = asyncio.Event()

    async def login_gate() -> None:
        await counting.all_in.wait()

    service.async_login_gate = login_gate
    async with httpx.AsyncClient(transport=service.async_transport(), auth=counting) as client:
        responses = await asyncio.gather(*(client.get(ITEMS) for _ in range(TASKS)))

    assert [sent_token(response) for response in responses] == [expected] * TASKS
    assert service.logins - logins_before == 1
    # Single flight comes from re-checking under the lock, not from the store catching late callers.
    assert counting.stats.store_hits == 0
    if scenario == "rejected":
        assert counting.stats.invalidations == 1
