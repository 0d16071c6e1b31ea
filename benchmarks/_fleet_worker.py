"""One member of a fleet: M threads of one process calling a cheap operation as fast as they can.

Run by `benchmarks._fleet` (never by hand)::

    python -m benchmarks._fleet_worker URL --threads M --seconds S --store memory|redis
        [--warmup W] [--limiter none|local|redis] [--redis-url redis://...] [--limit L/W]

with the generated ``synthetic_classic_client`` importable and the credentials in ``SYNTHETIC_USER`` /
``SYNTHETIC_PASSWORD`` (never on the command line, where ``ps`` shows it). The worker builds its client,
prints ``ready``, waits for a ``go`` line on stdin (so that every member of the fleet starts at once),
calls ``GET /sites`` from every thread for S seconds, then prints one JSON line: the calls that succeeded
(apart: those of the first ``--warmup`` seconds, the burst of a fresh window and the first login),
the ones that failed by exception type (a ``ServiceLimitError`` is a call the fleet lost to the service
limit), and the wall-clock times at which the fleet's shared backend (Redis) was reported unavailable and
back (the runtime's `FailOpen` log lines), from which the fleet's recovery after an outage is read.
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
import os
import sys
import threading
import time
from typing import Any

from synthetic_classic_client import AuthenticatedClient, Credentials
from synthetic_classic_client.api.sites import list_sites

#: Seconds the worker waits for ``go`` before it gives up (the launcher starts every member first).
START_TIMEOUT_SECONDS = 120.0
#: The logger of the runtime embedded in the package, where `FailOpen` reports outages.
RUNTIME_LOGGER = "synthetic_classic_client._token_lifecycle"
READY, GO = "ready", "go"
#: The customer account whose limit the fleet shares (the Redis limiter's keys name it and the API).
ACCOUNT = "1001"


class _OutageLog(logging.Handler):
    """Keeps the wall-clock time of each "unavailable" and "is back" line of the runtime's `FailOpen`."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.down: list[float] = []
        self.back: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if " is unavailable " in message:
            self.down.append(record.created)
        elif " is back after " in message:
            self.back.append(record.created)


def build_client(url: str, credentials: Credentials, args: argparse.Namespace) -> AuthenticatedClient:
    """The client of one worker process: its token store and rate limiter as the fleet's configuration says."""
    import synthetic_classic_client as package

    options: dict[str, Any] = {"service_limits": None}  # "none": no pacing, whatever the document declares
    if args.store == "redis":
        options["token_store"] = package.RedisTokenStore(args.redis_url)
    if args.limiter != "none":
        requests, per = args.limit.split("/")
        limits = package.ServiceLimits(requests=int(requests), per=float(per))
        options["service_limits"] = limits  # "local": the client's own LocalRateLimiter of these limits
        if args.limiter == "redis":
            options["rate_limiter"] = package.RedisRateLimiter(args.redis_url, account=ACCOUNT)  # takes the limits
    return AuthenticatedClient(base_url=url, credentials=credentials, **options)


def _call_until(client: AuthenticatedClient, warm: float, deadline: float, tally: collections.Counter[str]) -> None:
    """Call ``GET /sites`` until ``deadline`` (monotonic), counting each outcome in ``tally``; a success before
    ``warm`` counts as ``warmup`` (the first window's burst and the first login), after it as ``ok``."""
    while (now := time.monotonic()) < deadline:
        try:
            response = list_sites.sync_detailed(client=client)
        except Exception as error:  # noqa: BLE001 - every failure a user would see is what we count
            tally[type(error).__name__] += 1
            continue
        if response.status_code == 200:
            tally["ok" if now >= warm else "warmup"] += 1
        else:
            tally[f"HTTP {int(response.status_code)}"] += 1


def main(argv: list[str] | None = None) -> int:
    """Build the client, wait for ``go``, call for the given seconds, print the JSON result line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--warmup", type=float, default=0.0, help="seconds whose successes count as warm-up")
    parser.add_argument("--store", choices=("memory", "redis"), default="memory")
    parser.add_argument("--limiter", choices=("none", "local", "redis"), default="none")
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--limit", default="", help="L/W: L requests per W seconds for the client's limiter")
    args = parser.parse_args(argv)
    outages = _OutageLog()
    runtime_logger = logging.getLogger(RUNTIME_LOGGER)
    runtime_logger.addHandler(outages)
    runtime_logger.setLevel(logging.INFO)
    credentials = Credentials.from_env("SYNTHETIC_USER", "SYNTHETIC_PASSWORD")
    tallies = [collections.Counter[str]() for _ in range(args.threads)]
    with build_client(args.url, credentials, args) as client:
        print(READY, flush=True)
        line = _read_line(START_TIMEOUT_SECONDS)
        if line != GO:
            print(f"no {GO!r} within {START_TIMEOUT_SECONDS:.0f}s (read {line!r})", file=sys.stderr)
            return 2
        start = time.monotonic()
        warm, deadline = start + args.warmup, start + args.seconds
        threads = [
            threading.Thread(target=_call_until, args=(client, warm, deadline, tally), daemon=True) for tally in tallies
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    total = sum(tallies, collections.Counter[str]())
    ok, warmup = total.pop("ok", 0), total.pop("warmup", 0)
    result = {
        "pid": os.getpid(),
        "ok": ok,
        "warmup": warmup,
        "failures": dict(total),
        "down": outages.down,
        "back": outages.back,
    }
    print(json.dumps(result), flush=True)
    return 0


def _read_line(timeout: float) -> str:
    """One line of stdin, read on a helper thread so that a launcher that never says ``go`` cannot hang us."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(sys.stdin.readline().strip()), daemon=True)
    reader.start()
    reader.join(timeout)
    return lines[0] if lines else ""


if __name__ == "__main__":
    sys.exit(main())
