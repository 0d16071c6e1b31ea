"""Synthetic Classic with the async API: concurrent calls share one login, one refresh, one recovery.

Start a simulator, then run this with the URL it prints (``make demo`` does both)::

    .venv/bin/python -m generator serve spec/synthetic-classic.yaml --port 0 --control --token-lifetime PT30M
    PYTHONPATH=generated/synthetic_classic_client .venv/bin/python examples/async_session.py http://127.0.0.1:PORT/publicapi/rest/v1.0

Credentials come from ``SYNTHETIC_USER`` / ``SYNTHETIC_PASSWORD`` (default ``demo`` / ``demo-password``).
Each step fires several calls at once with ``asyncio.gather`` and checks, on the client and on the
server, that they caused exactly one login. The script exits 1 when the client misbehaves.
"""

from __future__ import annotations

import asyncio
import os
import time
from http import HTTPStatus

from _demo import AuthLog, ManualClock, ServerTally, Simulator, check, expect, run, step
from synthetic_classic_client import AuthenticatedClient, AuthError, Credentials, ServiceLimitError
from synthetic_classic_client.api.results import get_test_results
from synthetic_classic_client.api.sites import list_sites
from synthetic_classic_client.api.tests import list_tests
from synthetic_classic_client.client import TOKEN_LIFETIME_SECONDS
from synthetic_classic_client.models import (
    DetailLevel,
    Error,
    MonitorList,
    SiteList,
    TestResults,
    TestStatusFilter,
    TestType,
)

USER_VAR, PASSWORD_VAR = "SYNTHETIC_USER", "SYNTHETIC_PASSWORD"
AUTH_LOGGER = "synthetic_classic_client.auth"
DAY_MS = 24 * 3600 * 1000
#: A read-only user of the simulator's demo fixtures: may list tests, may not read results.
VIEWER = Credentials(username="viewer", password="viewer-password")  # noqa: S106 -- published demo fixture


async def results_of_all(client: AuthenticatedClient, monitor_ids: list[str]) -> list[TestResults]:
    """The last day's results of every monitor, fetched concurrently; fail on any non-success."""
    end_ms = int(time.time() * 1000)
    answers = await asyncio.gather(
        *(
            get_test_results.asyncio(
                mid, client=client, start=end_ms - DAY_MS, end=end_ms, detail_level=DetailLevel.TEST
            )
            for mid in monitor_ids
        )
    )
    return [
        expect(answer, TestResults, f"GET /testresults/{mid}") for mid, answer in zip(monitor_ids, answers, strict=True)
    ]


async def tour(base_url: str, credentials: Credentials, simulator: Simulator, log: AuthLog) -> None:
    """Tell the story with one async client; raise DemoFailure at the first thing that does not behave."""
    user = credentials.username
    clock = ManualClock()
    server = ServerTally(simulator, user)

    async with AuthenticatedClient(base_url=base_url, credentials=credentials, clock=clock) as client:
        lifecycle = client.lifecycle

        step(f"1. {len(TestType)} concurrent GET /tests (one per test type) and GET /sites on a fresh client")
        answers, sites = await asyncio.gather(
            asyncio.gather(
                *(list_tests.asyncio(client=client, test_type=kind, status=TestStatusFilter.ALL) for kind in TestType)
            ),
            list_sites.asyncio(client=client),
        )
        lists = [
            expect(answer, MonitorList, f"GET /tests?testType={kind}")
            for kind, answer in zip(TestType, answers, strict=True)
        ]
        expect(sites, SiteList, "GET /sites")
        ids = sorted(
            {m.monitor.monitor_id for lst in lists for m in lst.monitors if isinstance(m.monitor.monitor_id, str)}
        )
        print(f"   {len(lists)} lists and the sites, monitors {ids}; token {lifecycle.token_fingerprint}")
        logins, _ = server.take()
        check(
            (lifecycle.stats.logins, logins) == (1, 1), f"exactly one login, client {lifecycle.stats}, server {logins}"
        )

        step(f"2. {len(ids)} GET /testresults/{{id}} at once, on the same token")
        results = await results_of_all(client, ids)
        runs = sum(len(r.backbone_data.test_level_data or []) for r in results if r.backbone_data)
        print(f"   {len(results)} results ({runs} Backbone runs in all); no new login")
        check(server.take() == (0, 0), "no login and no 401 for calls on a valid token")

        step(f"3. The server expires the token early (short --token-lifetime): {len(ids)} calls meet a 401 at once")
        token = lifecycle.token_fingerprint
        simulator.advance(clock, simulator.context(token).expires_in + 60)
        before = lifecycle.stats
        await results_of_all(client, ids)
        after = lifecycle.stats
        replays = after.replays - before.replays
        print(f"   {replays} of {len(ids)} calls were replayed; token {token} -> {lifecycle.token_fingerprint}")
        check(after.invalidations == before.invalidations + 1, "one invalidation (compare-and-invalidate)")
        check(1 <= replays <= len(ids), f"every rejected call replayed once, got {replays}")
        check(server.take() == (1, replays), "exactly one login, and every 401 absorbed by a replay")

        step("4. 2 minutes before the client's 18 h expiry every caller waits for one refresh: no 401")
        simulator.advance(clock, TOKEN_LIFETIME_SECONDS - 2 * 60)
        before = lifecycle.stats
        await results_of_all(client, ids)
        after = lifecycle.stats
        check(after.proactive_refreshes == before.proactive_refreshes + 1, "one proactive refresh")
        check(server.take() == (1, 0), "exactly one login and no 401: the old token was never sent")
        print(f"   token {lifecycle.token_fingerprint}; {len(ids)} calls, one login, no 401")

        step(f"5. The server revokes the tokens of {user!r}: {len(ids)} calls recover with one login")
        check(simulator.revoke(user) >= 1, "the simulator revoked the token")
        before = lifecycle.stats
        await results_of_all(client, ids)
        after = lifecycle.stats
        replays = after.replays - before.replays
        check(after.invalidations == before.invalidations + 1, "one invalidation")
        check(server.take() == (1, replays), "exactly one login, and every 401 absorbed by a replay")
        print(f"   token {lifecycle.token_fingerprint}; {replays} replays")

    step("6. The read-only 'viewer', concurrently: GET /tests works, GET /testresults is a typed 403 Error")
    async with AuthenticatedClient(base_url=base_url, credentials=VIEWER, clock=clock) as viewer:
        end_ms = int(time.time() * 1000)
        listed, denied = await asyncio.gather(
            list_tests.asyncio(client=viewer),
            get_test_results.asyncio_detailed(ids[0], client=viewer, start=end_ms - DAY_MS, end=end_ms),
        )
        expect(listed, MonitorList, "GET /tests as viewer")
        error = expect(denied.parsed, Error, "GET /testresults as viewer")
        print(f"   HTTP {denied.status_code}: {error.message}")
        check(denied.status_code == HTTPStatus.FORBIDDEN, "403")
        stats = viewer.lifecycle.stats
        check((stats.logins, stats.invalidations) == (1, 0), f"one login and no invalidation for 403, {stats}")

    step("Summary")
    stats = lifecycle.stats
    print(
        f"   client: {stats.logins} logins, {stats.proactive_refreshes} proactive refresh(es), "
        f"{stats.invalidations} invalidations, {stats.replays} replays"
    )
    check((stats.logins, stats.proactive_refreshes, stats.invalidations) == (4, 1, 2), f"expected counts, {stats}")
    secrets = (credentials.password, VIEWER.password)
    check(not any(secret in line for line in log.lines for secret in secrets), "no password in the auth log")


def main(base_url: str) -> None:
    """Read the credentials, then run the async tour."""
    os.environ.setdefault(USER_VAR, "demo")
    os.environ.setdefault(PASSWORD_VAR, "demo-password")
    credentials = Credentials.from_env(USER_VAR, PASSWORD_VAR)
    print(f"== Synthetic Classic, async API, {base_url}, as {credentials.username!r}")
    simulator = Simulator(base_url)
    log = AuthLog()
    try:
        with log.attached(AUTH_LOGGER):
            asyncio.run(tour(base_url, credentials, simulator, log))
    finally:
        simulator.close()


if __name__ == "__main__":
    run(main, client_errors=(AuthError, ServiceLimitError))
