"""Concurrency against the simulator: many threads and tasks meeting no token share exactly one login."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from synthetic_classic_client import AuthenticatedClient, Credentials, RetryPolicy
from synthetic_classic_client.api.tests import list_tests

from tests.integration.simulator._support import SPEC_ARG, Simulator, running


@pytest.fixture(scope="module")
def simulator_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    """A simulator whose service limit is out of the way: only logins are counted here."""
    log = tmp_path_factory.mktemp("simulator") / "stderr.log"
    with running(SPEC_ARG, "--control", "--rate-limit", "100000/60", log=log) as simulator:
        yield simulator


def _client(sim: Simulator) -> AuthenticatedClient:
    return AuthenticatedClient(
        base_url=sim.url,
        credentials=Credentials(username="demo", password="demo-password"),
        retry=RetryPolicy().no_sleep(),
        timeout=None,
    )


def test_64_threads_starting_together_cause_exactly_one_login(sim: Simulator) -> None:
    """64 threads on one sync client, released together, share one login."""
    client = _client(sim)
    barrier = threading.Barrier(64)
    failures: list[BaseException] = []

    def call() -> None:
        barrier.wait()
        try:
            assert list_tests.sync_detailed(client=client).status_code == 200
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
async def test_256_tasks_starting_together_cause_exactly_one_login(sim: Simulator) -> None:
    """256 asyncio tasks on one async client share one login."""
    client = _client(sim)
    async with client as session:
        responses = await asyncio.gather(*(list_tests.asyncio_detailed(client=session) for _ in range(256)))
    assert all(response.status_code == 200 for response in responses)
    assert sim.control("GET", "stats")["logins"]["total"] == 1
