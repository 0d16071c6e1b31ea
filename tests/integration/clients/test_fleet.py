"""A small fleet on one account: 3 processes x 2 threads share one login and the account's limit through Redis.

The fleet is the benchmark's (`benchmarks._fleet`): real worker processes, each with its own generated
client, against a real simulator with a service limit and a real redis-server. The figures asserted
are counts, never times: the simulator's per-account logins and 503s, the workers' failed calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks._fleet import FleetConfig, FleetResult, run_fleet, summary
from tests.integration.simulator._support import SPEC_ARG, Simulator, running
from tests.redis_server import RedisServer

PROCESSES, THREADS = 3, 2
#: Seconds each fleet calls: long enough for several windows of the limit, short for the suite.
SECONDS = 3.0
#: 20 requests per second: six threads calling as fast as they can would exceed it many times over.
LIMIT = "20/1"


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    """The Synthetic Classic simulator limiting each account to LIMIT, on real time (the workers' clocks)."""
    log = tmp_path_factory.mktemp("fleet-simulator") / "stderr.log"
    with running(SPEC_ARG, "--control", "--rate-limit", LIMIT, log=log) as simulator:
        yield simulator


def _run(simulator: Simulator, config: FleetConfig, log_dir: Path) -> FleetResult:
    return run_fleet(simulator.url, config, processes=PROCESSES, threads=THREADS, seconds=SECONDS, log_dir=log_dir)


def test_a_fleet_sharing_redis_logs_in_once_and_never_meets_a_503(
    limited: Simulator, redis_server: RedisServer, tmp_path: Path
) -> None:
    """With the Redis store and limiter the account sees one login and no 503, and every call succeeds."""
    config = FleetConfig(store="redis", limiter="redis", redis_url=redis_server.url, limit=LIMIT)
    result = _run(limited, config, tmp_path)
    figures = summary([result])
    assert result.account["logins"] == 1, figures
    assert result.account["busy"] == 0, figures
    assert result.failed == 0, figures
    assert result.ok > 0, figures
    assert result.account["ok"] == result.ok + result.warmup_ok, figures


def test_a_fleet_on_the_memory_store_logs_in_once_per_process(limited: Simulator, tmp_path: Path) -> None:
    """Without a shared store each process logs in for itself: the contrast the Redis store removes."""
    result = _run(limited, FleetConfig(), tmp_path)
    figures = summary([result])
    assert result.account["logins"] == PROCESSES, figures
    assert result.ok > 0, figures
