"""A fleet on one account (issue 15): one login and the account's limit shared through Redis, and what it costs.

Three parts, each measured in one run:

1. The fleet: `PROCESSES` worker processes x `THREADS` threads (`benchmarks._fleet`) call ``GET /sites`` as
   fast as they can for `SECONDS` against a simulator that limits the account to `LIMIT` requests per
   `WINDOW` seconds, in three configurations: the memory store and no limiter (the baseline: each
   process logs in and learns the limit from 503s), the Redis store and the Redis limiter, and the
   same with Redis killed in the middle of the run and restarted later (failed user calls, and the
   seconds from the restart until a worker reports Redis back).
2. Import time: ``import synthetic_classic_client`` (the extras not loaded: the probe checks that
   redis, limits and opentelemetry are absent from ``sys.modules``) against the same import followed
   by building a ``RedisTokenStore`` and a ``RedisRateLimiter`` (the lazy load of their modules and of
   redis and limits, which the probe checks are then loaded; merely naming ``RedisTokenStore`` loads
   only its module: redis is imported when a store is built).
3. Per-call cost: a client without limiter, with the in-process limiter and with the Redis limiter,
   calling ``GET /tests`` through an ``httpx.MockTransport`` (limit far above the call rate: the
   limiter's own cost, never a wait), as ratios to the client without limiter.

Runs are interleaved and medians reported; nothing asserts a speed.
"""

from __future__ import annotations

import contextlib
import functools
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from benchmarks._common import ROOT, interleave, median, rotations, simulator, table
from benchmarks._fleet import FleetConfig, FleetResult, recovery_seconds, run_fleet, worker_environment

if TYPE_CHECKING:
    from tests.redis_server import RedisServer

PROCESSES, THREADS = 8, 4
#: Seconds every fleet configuration calls for.
SECONDS = 25.0
#: The account's limit: 40 requests per second. The simulator serves ~800 authenticated requests/s
#: here (section 5) and 32 threads of the generated client send several hundred calls/s, so at 40/s
#: the limit, not the 2 shared CPUs, bounds the rate. A paced fleet takes its slots in bursts, up to L
#: as a window frees them: a short window keeps the measured rate from being quantised to a handful of
#: bursts (with 200 per 5 s, 20 s hold four, whatever the pacing).
LIMIT, WINDOW = 40, 1.0
#: Seconds at the start of a run whose successes are counted apart: the first window's L free slots
#: (a burst no steady rate includes) and the first login; calls/s are measured after it.
WARMUP = 2.0
#: In the outage run: Redis is killed at this fraction of the run and restarted at that one, leaving
#: half the run (more than `REMOTE_RECHECK_SECONDS`) for the fleet to find it back.
KILL_AT, RESTART_AT = 0.25, 0.5
MOCK_BASE = "https://sc.example/publicapi/rest/v1.0"
BODY = b'{"Monitors": [{"Monitor": {"monitorID": "42", "tname": "Home page", "testType": "BACKBONE"}}]}'
EXTRAS = ("redis", "limits", "opentelemetry")

PROBE = r"""
import sys, time
start = time.perf_counter()
import synthetic_classic_client as package
if sys.argv[1] == "lazy":
    # Building them loads their libraries (an unreachable URL: nothing connects before a call).
    package.RedisTokenStore("redis://127.0.0.1:9/0")
    package.RedisRateLimiter("redis://127.0.0.1:9/0", package.ServiceLimits(requests=1, per=1.0), api="probe")
elapsed = time.perf_counter() - start
loaded = sorted(m for m in EXTRAS if m in sys.modules)
if sys.argv[1] == "lazy":
    assert {"redis", "limits"} <= set(loaded), f"the fleet's libraries were not loaded: {loaded}"
else:
    assert not loaded, f"extras loaded by a plain import: {loaded}"
print(elapsed)
"""


@contextlib.contextmanager
def _redis() -> Generator[RedisServer]:
    """A real redis-server on a free loopback port (tests/redis_server.py), stopped on the way out."""
    sys.path.insert(0, str(ROOT))
    from tests.redis_server import running_redis

    with tempfile.TemporaryDirectory(prefix="bench-redis-") as directory, running_redis(Path(directory)) as server:
        yield server


def _fleet_rows(log_dir: Path, seconds: float) -> tuple[list[list[object]], str]:
    """The table rows of the three configurations, and the outage run's recovery sentence."""
    rows: list[list[object]] = []
    rate = LIMIT / WINDOW
    limit = f"{LIMIT}/{WINDOW:g}"
    with simulator("spec/synthetic-classic.yaml", "--rate-limit", limit) as url, _redis() as server:
        shared = FleetConfig(store="redis", limiter="redis", redis_url=server.url, limit=limit)
        restarted: list[float] = []

        def outage() -> None:
            time.sleep(seconds * KILL_AT)
            server.kill()
            time.sleep(seconds * (RESTART_AT - KILL_AT))
            server.restart()
            restarted.append(time.time())

        runs: list[tuple[str, FleetConfig, Callable[[], None] | None]] = [
            ("memory store, no limiter (baseline)", FleetConfig(), None),
            ("Redis store + Redis limiter", shared, None),
            (
                f"the same, Redis killed at {seconds * KILL_AT:g} s, restarted at {seconds * RESTART_AT:g} s",
                shared,
                outage,
            ),
        ]
        results: list[FleetResult] = []
        for number, (name, config, during) in enumerate(runs):
            server.flush()  # each run starts without a shared token, window or cool-down
            directory = log_dir / f"run-{number}"
            directory.mkdir()
            result = run_fleet(
                url,
                config,
                processes=PROCESSES,
                threads=THREADS,
                seconds=seconds,
                warmup=WARMUP,
                log_dir=directory,
                during=during,
            )
            results.append(result)
            failures = ", ".join(f"{kind} {count}" for kind, count in sorted(result.failures.items()))
            rows.append(
                [
                    name,
                    result.account["logins"],
                    result.account["busy"],
                    f"{result.calls_per_second:.1f} ({result.calls_per_second / rate:.2f}xL/W)",
                    f"{result.failed}{f' ({failures})' if failures else ''}",
                ]
            )
        recovered = recovery_seconds(results[-1], restarted[0]) if restarted else None
        workers_back = sum(1 for t in results[-1].back if restarted and t >= restarted[0])
    if recovered is None:
        sentence = "No worker reported Redis back after its restart within the run."
    else:
        sentence = (
            f"Recovery: the first worker reported Redis back {recovered:.1f} s after its restart "
            f'({workers_back} "is back" reports from the {PROCESSES} workers\' token stores and limiters; '
            "each backend is probed again at most `REMOTE_RECHECK_SECONDS` after its last failure)."
        )
    return rows, sentence


def _import_rows(rounds: int) -> list[list[object]]:
    """Median import seconds of the plain import and of the import with the lazy load, interleaved."""
    probe = f"EXTRAS = {EXTRAS!r}\n{PROBE}"
    env = worker_environment()
    samples: dict[str, list[float]] = {"plain": [], "lazy": []}
    for order in rotations(list(samples), rounds):
        for side in order:
            completed = subprocess.run(  # noqa: S603 - this interpreter with a fixed probe
                [sys.executable, "-c", probe, side], cwd=ROOT, env=env, capture_output=True, text=True, check=True
            )
            samples[side].append(float(completed.stdout))
    plain = median(samples["plain"])
    return [
        ["`import synthetic_classic_client` (no extra loaded)", f"{plain * 1000:.1f}", "1.00x"],
        [
            "the same, then a `RedisTokenStore` and a `RedisRateLimiter` built (redis and limits loaded)",
            f"{median(samples['lazy']) * 1000:.1f}",
            f"{median(samples['lazy']) / plain:.2f}x",
        ],
    ]


def _answer(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/login"):
        return httpx.Response(200, text="benchmark-token")
    return httpx.Response(200, content=BODY, headers={"Content-Type": "application/json"})


def _call_rows(redis_url: str, rounds: int, calls: int) -> list[list[object]]:
    """Median µs per call of a client without limiter, with the in-process one and with the Redis one."""
    sys.path.insert(0, str(ROOT / "generated" / "synthetic_classic_client"))
    import synthetic_classic_client as package
    from synthetic_classic_client.api.tests import list_tests

    credentials = package.Credentials(username="demo", password="demo-password")
    generous = package.ServiceLimits(requests=10_000_000, per=1.0)
    limiters: dict[str, dict[str, Any]] = {
        "no limiter": {"service_limits": None},
        "in-process limiter": {"service_limits": generous},
        "Redis limiter": {
            "service_limits": generous,
            "rate_limiter": package.RedisRateLimiter(redis_url, account="bench"),
        },
    }
    transport = {"transport": httpx.MockTransport(_answer)}
    sides: dict[str, Callable[[], object]] = {}
    for name, options in limiters.items():
        client = package.AuthenticatedClient(
            base_url=MOCK_BASE, credentials=credentials, httpx_args=transport, **options
        )
        sides[name] = functools.partial(list_tests.sync, client=client)
    samples = interleave(sides, rounds, calls)
    reference = median(samples["no limiter"])
    return [
        [name, f"{median(values) * 1e6:.0f}", f"{median(values) / reference:.2f}x"] for name, values in samples.items()
    ]


def report(rounds: int = 9, calls: int = 300, seconds: float = SECONDS) -> str:
    """The markdown section (``seconds``: calling time of each fleet configuration)."""
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as logs:
        fleet, recovery = _fleet_rows(Path(logs), seconds)
    imports = _import_rows(max(3, rounds * 2))
    with _redis() as server:
        per_call = _call_rows(server.url, rounds, calls)
    return "\n".join(
        [
            "## 7. A fleet on one account",
            "",
            f"{PROCESSES} processes x {THREADS} threads call `GET /sites` as fast as they can for {seconds:g} s "
            f"per configuration, against one simulator account limited to L/W = {LIMIT} requests per {WINDOW:g} s "
            f"({LIMIT / WINDOW:g}/s): far below what the simulator serves here (section 5) and what 32 threads "
            "send, so the limit, not the 2 shared CPUs, bounds the rate. Logins and 503s are the simulator's "
            "per-account counts (`accounts` of `/_control/stats`); successful calls/s are the workers' own, counted "
            f"after the first {WARMUP:g} s (the first window's {LIMIT} free slots are a burst no steady rate has; the "
            "limiters pace to 1 / 1.05 of the limit, `DEFAULT_PACING_MARGIN`, so 0.95xL/W is their steady rate); a "
            "failed user call is one that raised (e.g. `ServiceLimitError`). Targets with Redis: 1 login, "
            "0 503s, at least 0.9xL/W calls/s; with Redis killed mid-run: 0 failed calls.",
            "",
            table(["configuration", "logins", "503s seen", "successful calls/s", "failed user calls"], fleet),
            "",
            recovery,
            "",
            f"Import time, a fresh interpreter per run, medians of {max(3, rounds * 2)} interleaved runs "
            "(the plain import asserts that none of redis, limits, opentelemetry was loaded, the other that redis and "
            "limits were):",
            "",
            table(["import", "ms", "ratio"], imports),
            "",
            f"Per-call cost of the limiter, `GET /tests` through `httpx.MockTransport`, {rounds} interleaved rounds "
            f"of {calls} calls, a limit no call waits for:",
            "",
            table(["client", "median µs/call", "ratio to no limiter"], per_call),
        ]
    )


if __name__ == "__main__":
    print(report())
