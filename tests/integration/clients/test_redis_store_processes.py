"""Issue 15, item 1: processes sharing one token through RedisTokenStore, against the simulator and a real Redis.

Every process is a real one (multiprocessing, spawn: nothing shared but Redis and the simulator),
using the generated ``synthetic_classic_client`` with ``token_store=RedisTokenStore(url)``; the
simulator's control API counts the logins. Faults are real: a lock holder killed with SIGKILL while
it holds the lease, the simulator revoking the token under two processes, Redis killed mid-run.
Every wait on a child is bounded; a child still running at the bound is killed and the test fails.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import time
from collections.abc import Iterator
from multiprocessing.context import SpawnContext, SpawnProcess
from multiprocessing.synchronize import Event
from typing import Any

import httpx
import pytest
import redis
import synthetic_classic_client
from synthetic_classic_client._token_lifecycle import RedisTokenStore, fingerprint
from synthetic_classic_client._token_lifecycle._urls import safe_url

from tests.integration.simulator._support import Simulator, running
from tests.redis_server import RedisServer

from ._apis import SYNTHETIC_CLASSIC, Api

#: Seconds any wait on a child may take (they take a second or two when things work).
BOUND = 60.0
#: The lease of the holder that is killed: real seconds the others wait for it to run out.
SHORT_LEASE = 2.0

USER, PASSWORD = "demo", "demo-password"

SPAWN: SpawnContext = multiprocessing.get_context("spawn")

#: What a worker reports after a phase: its index, the phase, calls that worked, errors, token fingerprint.
Report = tuple[int, int, int, list[str], str | None]


@pytest.fixture(scope="module")
def api() -> Api:
    """One API is enough here: the store does not depend on the spec."""
    return SYNTHETIC_CLASSIC


@pytest.fixture(scope="module")
def simulator_process(api: Api, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    """A simulator whose service limit is out of the way: only logins are counted here."""
    log = tmp_path_factory.mktemp("simulator") / "stderr.log"
    with running(api.spec, "--control", "--rate-limit", "100000/60", log=log) as simulator:
        yield simulator


def _worker(sim_url: str, redis_url: str, phases: list[Event], calls: int, out: Any, index: int) -> None:
    """In a child: for each phase, wait for its event, make ``calls`` calls, report how they went."""
    store = RedisTokenStore(redis_url)
    client = synthetic_classic_client.AuthenticatedClient(
        base_url=sim_url,
        credentials=synthetic_classic_client.Credentials(username=USER, password=PASSWORD),
        token_store=store,
        timeout=httpx.Timeout(10.0),
    )
    with client:
        for phase, go in enumerate(phases):
            if not go.wait(BOUND):
                out.put((index, phase, 0, ["never started"], None))
                return
            ok, errors = 0, list[str]()
            for _ in range(calls):
                try:
                    SYNTHETIC_CLASSIC.call(client)
                    ok += 1
                except Exception as exc:  # noqa: BLE001 - reported to the parent, which asserts
                    errors.append(f"{type(exc).__name__}: {exc}")
            out.put((index, phase, ok, errors, client.lifecycle.token_fingerprint))
    store.close()


def _hold_the_lock(redis_url: str, subject: str, held: Event) -> None:
    """In a child: take the fleet's login lock with a short lease, say so, then hang until killed."""
    store = RedisTokenStore(redis_url, lease=SHORT_LEASE).bound(subject)
    with store.lock(blocking=False) as got:
        if got:
            held.set()
        time.sleep(BOUND)


class Fleet:
    """Worker processes started together, phase by phase; every wait bounded, stragglers killed."""

    def __init__(self, sim: Simulator, redis_url: str, *, processes: int, calls: int, phases: int) -> None:
        self.out: Any = SPAWN.Queue()
        self.phases = [SPAWN.Event() for _ in range(phases)]
        self.processes: list[SpawnProcess] = [
            SPAWN.Process(target=_worker, args=(sim.url, redis_url, self.phases, calls, self.out, index), daemon=True)
            for index in range(processes)
        ]
        for process in self.processes:
            process.start()

    def run(self, phase: int) -> list[Report]:
        """Start ``phase`` in every process at once; return each one's report, by process."""
        self.phases[phase].set()
        reports: list[Report] = []
        for _ in self.processes:
            try:
                reports.append(self.out.get(timeout=BOUND))
            except queue.Empty:
                pytest.fail(f"a worker did not report phase {phase} within {BOUND}s")
        return sorted(reports)

    def close(self) -> None:
        for process in self.processes:
            process.join(BOUND)
            if process.is_alive():
                process.kill()
                process.join(BOUND)
                pytest.fail("a worker did not exit within the bound")
        self.out.close()


def _logins(sim: Simulator) -> int:
    return int(sim.control("GET", "stats")["logins"]["total"])


def _all_ok(reports: list[Report], calls: int) -> None:
    assert [errors for *_, errors, _ in reports] == [[]] * len(reports)
    assert [ok for _, _, ok, *_ in reports] == [calls] * len(reports)


def test_four_processes_log_in_once(sim: Simulator, redis_server: RedisServer) -> None:
    """4 processes started together, 3 calls each, one Redis: exactly 1 login on the service."""
    fleet = Fleet(sim, redis_server.url, processes=4, calls=3, phases=1)
    try:
        reports = fleet.run(0)
    finally:
        fleet.close()
    _all_ok(reports, 3)
    assert len({fingerprint_ for *_, fingerprint_ in reports}) == 1
    assert _logins(sim) == 1


def test_a_lock_holder_killed_holds_the_fleet_back_one_lease_only(sim: Simulator, redis_server: RedisServer) -> None:
    """A process SIGKILLed while it holds the login lock: the others log in once, after its lease ran out."""
    held = SPAWN.Event()
    subject = f"{USER}@{safe_url(httpx.URL(sim.url))}"
    fleet = Fleet(sim, redis_server.url, processes=3, calls=2, phases=1)  # started, waiting for the phase
    holder = SPAWN.Process(target=_hold_the_lock, args=(redis_server.url, subject, held), daemon=True)
    holder.start()
    try:
        assert held.wait(BOUND), "the holder never took the lock"
        assert holder.pid is not None
        os.kill(holder.pid, signal.SIGKILL)
        holder.join(BOUND)
        assert not holder.is_alive()
        lock_key = RedisTokenStore(redis_server.url).bound(subject).lock_key
        with redis.Redis.from_url(redis_server.url) as raw:  # pyright: ignore[reportUnknownMemberType]
            assert int(raw.pttl(lock_key)) > 0  # the dead holder's lock is still there
        reports = fleet.run(0)
    finally:
        fleet.close()
        if holder.is_alive():
            holder.kill()
            holder.join(BOUND)
    _all_ok(reports, 2)
    assert _logins(sim) == 1


def test_two_processes_racing_a_401_log_in_once_more(sim: Simulator, redis_server: RedisServer) -> None:
    """Token revoked under two processes: both get 401, one new login, both replays work, Redis holds the new token."""
    fleet = Fleet(sim, redis_server.url, processes=2, calls=1, phases=2)
    try:
        first = fleet.run(0)
        sim.control("POST", "tokens/revoke", user=USER)
        second = fleet.run(1)
    finally:
        fleet.close()
    _all_ok(first, 1)
    _all_ok(second, 1)
    assert _logins(sim) == 2
    assert sim.control("GET", "stats")["unauthorized"] == 2  # both calls were refused once
    old, new = {f for *_, f in first}, {f for *_, f in second}
    assert len(old) == 1
    assert len(new) == 1
    assert old != new
    store = RedisTokenStore(redis_server.url)
    try:
        stored = store.bound(f"{USER}@{safe_url(httpx.URL(sim.url))}").load()
    finally:
        store.close()
    assert stored is not None
    assert {fingerprint(stored.token)} == new


def test_redis_killed_mid_run_costs_no_call(sim: Simulator, own_redis: RedisServer) -> None:
    """Redis killed between two phases (and the token revoked meanwhile): every call of every process works."""
    fleet = Fleet(sim, own_redis.url, processes=3, calls=3, phases=2)
    try:
        first = fleet.run(0)
        own_redis.kill()
        sim.control("POST", "tokens/revoke", user=USER)  # each process must now log in, without Redis
        second = fleet.run(1)
    finally:
        fleet.close()
    _all_ok(first, 3)
    _all_ok(second, 3)
    assert _logins(sim) <= 1 + 3  # one shared login, then at most one per process during the outage
