"""Issue 13, item 2: a failed login is shared with the callers that waited on it, then backed off.

With a wrong password, every thread (or task) waiting on one login used to send its own, each failing
in turn: 64 threads, 64 failed logins counted by the simulator, and the last caller waiting 64 logins
long (an account lockout against a real identity service). Now the waiters share the one failure,
each with its own `LoginError`, and new callers get it at once until the back-off has passed (on the
client's injected clock: no test sleeps for it). A 401 login is not retried by the 503 layer either.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from token_lifecycle import LOGIN_FAILURE_BACKOFF_SECONDS

from tests.fault_server import FaultServer, Reply, Seen
from tests.integration.simulator._support import Simulator, running

from ._apis import Api

#: Every wait of these tests is bounded (joins, wait_for) by this many seconds.
BOUND = 60.0


@pytest.fixture(scope="module")
def simulator_process(api: Api, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    """A simulator whose service limit is out of the way: only logins are counted here."""
    log = tmp_path_factory.mktemp("simulator") / "stderr.log"
    with running(api.spec, "--control", "--rate-limit", "100000/60", log=log) as simulator:
        yield simulator


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _client(api: Api, sim: Simulator, clock: _Clock, password: str = "wrong-password") -> Any:
    return api.client(sim.url, "demo", password, clock=clock, retry=api.package.RetryPolicy().no_sleep())


def _failed_logins(sim: Simulator) -> int:
    return int(sim.control("GET", "stats")["logins"]["failed"])


def _assert_shared(errors: list[BaseException], api: Api, count: int) -> None:
    assert len(errors) == count
    assert all(isinstance(error, api.package.LoginError) for error in errors), errors
    assert len({str(error) for error in errors}) == 1  # the same message
    assert len({id(error) for error in errors}) == count  # each caller its own instance
    assert all(error.status_code == 401 and error.username == "demo" for error in errors)
    assert "wrong-password" not in str(errors[0])


def test_64_threads_share_one_failed_login_then_back_off(api: Api, sim: Simulator) -> None:
    """64 threads, wrong password: 1 login attempt (≤ 2 allowed); the back-off; then one new attempt."""
    clock = _Clock()
    client = _client(api, sim, clock)
    barrier = threading.Barrier(64)
    errors: list[BaseException] = []
    lock = threading.Lock()

    def call() -> None:
        barrier.wait(BOUND)
        try:
            api.call(client)
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            with lock:
                errors.append(error)

    threads = [threading.Thread(target=call, daemon=True) for _ in range(64)]
    with client:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(BOUND)
        assert not any(thread.is_alive() for thread in threads)
        _assert_shared(errors, api, 64)
        assert _failed_logins(sim) <= 2

        failed = _failed_logins(sim)
        clock.now += LOGIN_FAILURE_BACKOFF_SECONDS / 2  # inside the back-off: the failure, at once
        with pytest.raises(api.package.LoginError, match="HTTP 401"):
            api.call(client)
        assert _failed_logins(sim) == failed

        clock.now += LOGIN_FAILURE_BACKOFF_SECONDS  # past it: one new attempt
        with pytest.raises(api.package.LoginError, match="HTTP 401"):
            api.call(client)
        assert _failed_logins(sim) == failed + 1
    assert sim.control("GET", "stats")["logins"]["total"] == 0


@pytest.mark.anyio
async def test_256_tasks_share_one_failed_login(api: Api, sim: Simulator) -> None:
    """256 tasks, wrong password: 1 login attempt (≤ 2 allowed), 256 LoginErrors of the same message."""
    client = _client(api, sim, _Clock())
    async with client as session:
        results = await asyncio.wait_for(
            asyncio.gather(*(api.acall(session) for _ in range(256)), return_exceptions=True), BOUND
        )
    _assert_shared([result for result in results if isinstance(result, BaseException)], api, 256)
    assert _failed_logins(sim) <= 2


def test_the_back_off_belongs_to_the_failing_lifecycle(api: Api, sim: Simulator) -> None:
    """Another client (its own lifecycle, the right password) logs in at once despite the first one's back-off."""
    clock = _Clock()
    client = _client(api, sim, clock)
    with client, pytest.raises(api.package.LoginError):
        api.call(client)
    fixed = _client(api, sim, clock, password="demo-password")
    with fixed:
        assert isinstance(api.call(fixed), api.listed)
    assert _failed_logins(sim) == 1


def test_a_refused_login_is_not_retried_by_the_503_layer(api: Api) -> None:
    """The retry layer retries 503 only: a login refused with 401 is sent once, and raised as LoginError."""

    def script(seen: Seen) -> Reply:
        return Reply(401, b"no") if "login" in seen.path or seen.method == "POST" else Reply(200, b"{}")

    with FaultServer(script) as server:
        client = api.client(server.url, "demo", "wrong-password", retry=api.package.RetryPolicy().no_sleep())
        with client, pytest.raises(api.package.LoginError, match="HTTP 401"):
            api.call(client)
        assert len(server.requests) == 1
