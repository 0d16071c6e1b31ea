"""Concurrency against the simulator: many threads and tasks meeting no token share exactly one login."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.simulator._support import Simulator, running

from ._apis import Api


@pytest.fixture(scope="module")
def simulator_process(api: Api, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    """A simulator whose service limit is out of the way: only logins are counted here."""
    log = tmp_path_factory.mktemp("simulator") / "stderr.log"
    with running(api.spec, "--control", "--rate-limit", "100000/60", log=log) as simulator:
        yield simulator


def _client(api: Api, sim: Simulator) -> Any:
    return api.client(sim.url, "demo", "demo-password", retry=api.package.RetryPolicy().no_sleep())


def test_64_threads_starting_together_cause_exactly_one_login(api: Api, sim: Simulator) -> None:
    """64 threads on one sync client, released together, share one login."""
    client = _client(api, sim)
    barrier = threading.Barrier(64)
    failures: list[BaseException] = []

    def call() -> None:
        barrier.wait()
        try:
            assert isinstance(api.call(client), api.listed)
        except BaseException as error:  # noqa: BLE001 - collected and asserted below
            failures.append(error)

    threads = [threading.Thread(target=call) for _ in range(64)]
    with client:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []
    assert sim.control("GET", "stats")["logins"]["total"] == 1


@pytest.mark.anyio
async def test_256_tasks_starting_together_cause_exactly_one_login(api: Api, sim: Simulator) -> None:
    """256 asyncio tasks on one async client share one login."""
    client = _client(api, sim)
    async with client as session:
        results = await asyncio.gather(*(api.acall(session) for _ in range(256)))
    assert all(isinstance(result, api.listed) for result in results)
    assert sim.control("GET", "stats")["logins"]["total"] == 1
