"""A generated client paced to the account's limit meets no 503 from a simulator that enforces that limit.

The simulator runs on its real clock with ``--rate-limit 10/1``; the limiter uses real time too.
No assertion depends on speed: a paced client must see zero 503s however slow the machine is, and
the simulator's own counts say how many calls it admitted. The control (the same calls unpaced)
shows that the limit is real: sent back to back they meet 503s.
"""

from __future__ import annotations

import asyncio
import logging
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from synthetic_classic_client import (
    AuthenticatedClient,
    Credentials,
    LocalRateLimiter,
    RedisRateLimiter,
    RetryPolicy,
    ServiceLimitError,
    ServiceLimits,
)
from synthetic_classic_client._token_lifecycle import PacedTransport, RetryTransport
from synthetic_classic_client.api.tests import list_tests
from synthetic_classic_client.client import SERVICE_LIMITS
from synthetic_classic_client.models import MonitorList

from tests.conftest import Outcome, minimal_spec, write_spec
from tests.integration.simulator._support import Simulator, running
from tests.redis_server import RedisServer

LIMIT = ServiceLimits(10, 1)
#: The customer account of the spec's demo user, whose requests the simulator counts.
ACCOUNT = "1001"
CALLS = 15
#: One attempt: a 503 surfaces as ServiceLimitError instead of being retried away.
NO_RETRY = RetryPolicy(attempts=1)


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    """The Synthetic Classic simulator on its real clock, limiting each account to 10 requests per second."""
    log = tmp_path_factory.mktemp("simulator") / "stderr.log"
    with running("spec/synthetic-classic.yaml", "--control", "--rate-limit", "10/1", log=log) as simulator:
        yield simulator


@pytest.fixture
def sim(limited: Simulator) -> Simulator:
    """The module's simulator with fresh counts."""
    limited.control("POST", "reset")
    return limited


def client(sim: Simulator, **kwargs: Any) -> AuthenticatedClient:
    credentials = Credentials(username="demo", password="demo-password")
    return AuthenticatedClient(base_url=sim.url, credentials=credentials, retry=NO_RETRY, **kwargs)


def assert_all_admitted(sim: Simulator, calls: int = CALLS) -> None:
    stats = sim.control("GET", "stats")
    assert stats["busy"] == 0
    assert stats["requests"]["by_account"] == {ACCOUNT: calls}
    assert stats["logins"]["total"] == 1
    assert stats["requests"]["by_status"]["200"] == calls + 1  # the login's answer too


def test_a_paced_client_meets_no_503(sim: Simulator):
    """Calls one after another, paced to the limit: every one admitted, none answered 503."""
    with client(sim, service_limits=LIMIT) as paced:
        results = [list_tests.sync(client=paced) for _ in range(CALLS)]
    assert all(isinstance(result, MonitorList) for result in results)
    assert_all_admitted(sim)


def test_threads_sharing_a_paced_client_meet_no_503(sim: Simulator):
    """Three threads of one client share its limiter: together they stay under the account's limit."""
    errors: list[BaseException] = []
    with client(sim, service_limits=LIMIT) as paced:
        list_tests.sync(client=paced)  # the login, once, before the threads

        def work() -> None:
            try:
                for _ in range((CALLS - 1) // 2):
                    list_tests.sync(client=paced)
            except BaseException as error:  # noqa: BLE001 -- handed to the test thread, which fails on it
                errors.append(error)

        threads = [threading.Thread(target=work) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == []
    assert_all_admitted(sim)


def test_tasks_of_a_paced_async_client_meet_no_503(sim: Simulator):
    """Fifteen concurrent tasks on the async client: paced, all admitted (async twin)."""

    async def main() -> list[object]:
        async with client(sim, service_limits=LIMIT) as paced:
            await list_tests.asyncio(client=paced)
            return list(await asyncio.gather(*(list_tests.asyncio(client=paced) for _ in range(CALLS - 1))))

    assert all(isinstance(result, MonitorList) for result in asyncio.run(main()))
    assert_all_admitted(sim)


def test_unpaced_the_same_calls_meet_the_limit(sim: Simulator):
    """The control: without pacing, back-to-back calls exceed 10 per second and the simulator answers 503."""
    failures: list[ServiceLimitError] = []
    with client(sim, service_limits=None) as unpaced:
        for _ in range(CALLS):
            try:
                list_tests.sync(client=unpaced)
            except ServiceLimitError as error:
                failures.append(error)
    assert failures
    assert {error.last_status for error in failures} == {503}
    assert sim.control("GET", "stats")["busy"] >= 1


def test_two_clients_on_one_redis_limiter_share_the_limit(sim: Simulator, redis_server: RedisServer):
    """Two clients (two processes' view), each with its own RedisRateLimiter: one budget, no 503."""
    # As a fleet's workers write it: the limit and the API come from the client (service_limits, base_url).
    limiters = [RedisRateLimiter(redis_server.url, account=ACCOUNT) for _ in range(2)]
    try:
        first, second = (client(sim, service_limits=LIMIT, rate_limiter=limiter) for limiter in limiters)
        with first, second:
            for index in range(CALLS):
                list_tests.sync(client=first if index % 2 else second)
    finally:
        for limiter in limiters:
            limiter.close()
    stats = sim.control("GET", "stats")
    assert stats["busy"] == 0
    assert stats["requests"]["by_account"] == {ACCOUNT: CALLS}


def test_a_client_without_a_limit_has_no_pacing_layer(sim: Simulator):
    """No limit, no limiter: the retry layer wraps the HTTP transport directly (a call pays nothing)."""
    assert SERVICE_LIMITS is None  # the document declares none
    with client(sim) as plain:
        transport: Any = plain.get_httpx_client()._transport  # the layer stack is the point
        assert plain.rate_limiter is None
        assert isinstance(transport, RetryTransport)
        assert isinstance(transport._transport, httpx.HTTPTransport)


def test_a_limit_adds_the_pacing_layer_under_the_retries_and_copies_share_it(sim: Simulator):
    """With a limit: RetryTransport(PacedTransport(...)), and with_headers copies pace against the same slots."""
    with client(sim, service_limits=LIMIT) as paced:
        transport: Any = paced.get_httpx_client()._transport  # the layer stack is the point
        assert isinstance(transport, RetryTransport)
        assert isinstance(transport._transport, PacedTransport)
        assert isinstance(paced.rate_limiter, LocalRateLimiter)
        assert paced.with_headers({"X-Trace": "1"}).rate_limiter is paced.rate_limiter


def test_the_documents_limit_is_the_clients_default(tmp_path: Path, cli: Callable[..., Outcome]):
    """x-service-limits in the document becomes SERVICE_LIMITS, the default of service_limits=."""
    spec = minimal_spec()
    spec["x-service-limits"] = {"requests": 100, "per": "PT1M"}
    out = tmp_path / "out"
    result = cli("generate", write_spec(tmp_path / "limited.yaml", spec), "--output", out)
    assert result.code == 0, result.err
    (source,) = [path.read_text(encoding="utf-8") for path in out.rglob("client.py")]
    assert re.search(r"SERVICE_LIMITS: ServiceLimits \| None = ServiceLimits\(\s*requests=100, per=60\.0\s*\)", source)
    assert "service_limits: ServiceLimits | None = SERVICE_LIMITS," in source


def test_importing_the_package_loads_no_redis_part_until_one_is_used():
    """RedisRateLimiter and RedisTokenStore load on first use: a client not using them pays nothing."""
    script = (
        "import sys, synthetic_classic_client as p\n"
        "runtime = 'synthetic_classic_client._token_lifecycle.'\n"
        "print(sorted(m for m in (runtime + '_redis_limiter', runtime + '_redis_store') if m in sys.modules))\n"
        "p.RedisRateLimiter\n"
        "print(runtime + '_redis_limiter' in sys.modules, 'limits' in sys.modules, 'redis' in sys.modules)\n"
    )
    package = Path(__file__).resolve().parents[3] / "generated" / "synthetic_classic_client"
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(package), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[]", "True False False"]


def test_async_clients_on_one_redis_limiter_share_the_limit(sim: Simulator, redis_server: RedisServer):
    """The async twin: two async clients, each with its own RedisRateLimiter, concurrent tasks, no 503."""
    limiters = [RedisRateLimiter(redis_server.url, LIMIT, api=sim.url, account=ACCOUNT) for _ in range(2)]

    async def main() -> None:
        try:
            async with client(sim, rate_limiter=limiters[0]) as first, client(sim, rate_limiter=limiters[1]) as second:
                calls = (list_tests.asyncio(client=first if index % 2 else second) for index in range(CALLS))
                await asyncio.gather(*calls)
        finally:
            for limiter in limiters:
                await limiter.aclose()

    asyncio.run(main())
    stats = sim.control("GET", "stats")
    assert stats["busy"] == 0
    assert stats["requests"]["by_account"] == {ACCOUNT: CALLS}


def test_redis_killed_mid_run_costs_no_call(sim: Simulator, own_redis: RedisServer, caplog: pytest.LogCaptureFixture):
    """Redis dies between calls: one warning, the client paces itself alone, every call still succeeds."""
    limiter = RedisRateLimiter(own_redis.url, LIMIT, api=sim.url, account=ACCOUNT)
    try:
        with client(sim, rate_limiter=limiter) as paced, caplog.at_level(logging.WARNING):
            for index in range(CALLS):
                if index == CALLS // 2:
                    own_redis.kill()
                assert isinstance(list_tests.sync(client=paced), MonitorList)
    finally:
        limiter.close()
    assert limiter.health.down
    assert [record.getMessage() for record in caplog.records if "is unavailable" in record.getMessage()] != []
    assert len([record for record in caplog.records if record.levelno == logging.WARNING]) == 1
    assert_all_admitted(sim)
