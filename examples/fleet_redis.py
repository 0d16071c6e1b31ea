"""A fleet on one account: worker processes share one login and the account's service limit through Redis.

Start a simulator with a small service limit and a Redis, then run this with the simulator's URL
(``make demo`` does all three, with a real ``redis-server`` on a free loopback port)::

    .venv/bin/python -m generator serve spec/synthetic-classic.yaml --port 0 --control --rate-limit 20/1
    REDIS_URL=redis://127.0.0.1:6379/0 PYTHONPATH=generated/synthetic_classic_client \\
        .venv/bin/python examples/fleet_redis.py http://127.0.0.1:PORT/publicapi/rest/v1.0

`PROCESSES` processes x `THREADS` threads each call ``GET /sites`` as fast as they can for `SECONDS`.
Every process builds its own client with a `RedisTokenStore` (the fleet logs in once) and a
`RedisRateLimiter` (the fleet paces itself to the account's limit, so the service never has to
refuse a call). The simulator's per-account counts are printed at the end; the script exits 1 when
the account saw more than one login, when any 503 reached a worker, or when a call failed.
Credentials come from ``SYNTHETIC_USER`` / ``SYNTHETIC_PASSWORD`` (default: the ``demo`` fixture).
"""

from __future__ import annotations

import collections
import concurrent.futures
import multiprocessing
import os
import threading
import time
from typing import Any

import httpx
from _demo import DemoFailure, check, run, step
from synthetic_classic_client import (
    AuthenticatedClient,
    AuthError,
    Credentials,
    RedisRateLimiter,
    RedisTokenStore,
    ServiceLimitError,
    ServiceLimits,
)
from synthetic_classic_client.api.sites import list_sites

PROCESSES, THREADS = 3, 2
#: Seconds every thread calls for: several windows of the simulator's limit.
SECONDS = 3.0
#: Seconds a worker process may take beyond its calling time (start-up, last calls) before we give up.
WORKER_MARGIN_SECONDS = 60.0
USER_VAR, PASSWORD_VAR = "SYNTHETIC_USER", "SYNTHETIC_PASSWORD"
#: The customer account of the ``demo`` fixture user, as the simulator's stats name it.
ACCOUNT = "1001"


def member(base_url: str, redis_url: str, requests: int, per: float) -> dict[str, int]:
    """One process of the fleet: its own client on the shared store and limiter, THREADS threads calling."""
    limits = ServiceLimits(requests=requests, per=per)
    credentials = Credentials.from_env(USER_VAR, PASSWORD_VAR)
    store = RedisTokenStore(redis_url)
    limiter = RedisRateLimiter(redis_url, account=ACCOUNT)  # the client gives it its limits and base URL
    tallies = [collections.Counter[str]() for _ in range(THREADS)]
    deadline = time.monotonic() + SECONDS

    def calls(client: AuthenticatedClient, tally: collections.Counter[str]) -> None:
        while time.monotonic() < deadline:
            try:
                response = list_sites.sync_detailed(client=client)
            except (AuthError, ServiceLimitError, httpx.HTTPError) as error:
                tally[type(error).__name__] += 1
                continue
            tally["ok" if response.status_code == 200 else f"HTTP {int(response.status_code)}"] += 1

    with AuthenticatedClient(
        base_url=base_url, credentials=credentials, token_store=store, service_limits=limits, rate_limiter=limiter
    ) as client:
        threads = [threading.Thread(target=calls, args=(client, tally)) for tally in tallies]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return dict(sum(tallies, collections.Counter[str]()))


def account_counts(base_url: str) -> dict[str, int]:
    """The simulator's counts of the account: logins, busy (503s answered), ok (2xx answered)."""
    stats: dict[str, Any] = httpx.get(f"{base_url}/_control/stats", timeout=10.0).json()
    counts: dict[str, int] = stats["accounts"].get(ACCOUNT, {"logins": 0, "busy": 0, "ok": 0})
    return counts


def simulator_limits(base_url: str) -> ServiceLimits:
    """The service limit the simulator enforces (``COUNT/SECONDS``); an application takes the spec's."""
    rendered = str(httpx.get(f"{base_url}/_control/stats", timeout=10.0).json()["rate_limit"])
    requests, per = rendered.split("/")
    return ServiceLimits(requests=int(requests), per=float(per))


def main(base_url: str) -> None:
    """Run the fleet; raise DemoFailure when it logged in more than once, met a 503 or lost a call."""
    os.environ.setdefault(USER_VAR, "demo")
    os.environ.setdefault(PASSWORD_VAR, "demo-password")
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        raise DemoFailure("set REDIS_URL to a Redis the fleet may use (make demo starts one)")
    limits = simulator_limits(base_url)
    before = account_counts(base_url)
    print(f"== A fleet of {PROCESSES} processes x {THREADS} threads on one account ({limits}), {base_url}")
    step(f"1. Every process calls GET /sites for {SECONDS:g}s through one RedisTokenStore and one RedisRateLimiter")
    # spawn: each member starts from a clean interpreter, as separate hosts would.
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(PROCESSES, mp_context=context) as pool:
        futures = [pool.submit(member, base_url, redis_url, limits.requests, limits.per) for _ in range(PROCESSES)]
        results = [future.result(timeout=SECONDS + WORKER_MARGIN_SECONDS) for future in futures]
    for number, result in enumerate(results):
        print(f"   process {number}: {result}")
    after = account_counts(base_url)
    logins, busy, ok = (after[key] - before[key] for key in ("logins", "busy", "ok"))
    failed = sum(count for result in results for kind, count in result.items() if kind != "ok")
    succeeded = sum(result.get("ok", 0) for result in results)
    step("2. What the service saw of the account (GET /_control/stats, accounts)")
    print(f"   logins {logins}, 503s answered {busy}, successful calls {ok} ({ok / SECONDS:.1f}/s)")
    check(logins == 1, f"the fleet logged in {logins} times, expected once")
    check(busy == 0, f"{busy} calls of the fleet were answered 503")
    check(failed == 0, f"{failed} calls failed")
    check(succeeded == ok, f"the workers counted {succeeded} successes, the service {ok}")
    print("\nOK: one login for the fleet, no 503, every call succeeded.")


if __name__ == "__main__":
    run(main, client_errors=(AuthError, ServiceLimitError))
