"""Synthetic Classic with the sync API: one session through login, expiry, early expiry and revocation.

Start a simulator, then run this with the URL it prints (``make demo`` does both)::

    .venv/bin/python -m generator serve spec/synthetic-classic.yaml --port 0 --control --token-lifetime PT30M
    PYTHONPATH=generated/synthetic_classic_client .venv/bin/python examples/sync_session.py http://127.0.0.1:PORT/publicapi/rest/v1.0

Credentials come from ``SYNTHETIC_USER`` / ``SYNTHETIC_PASSWORD`` (default: the simulator's ``demo`` /
``demo-password``, a user with every permission). Time moves through the simulator's control API and
the client's injected clock together: nothing sleeps. The script exits 1 when the client misbehaves.
"""

from __future__ import annotations

import os
import time

from _demo import AuthLog, ManualClock, Simulator, check, expect, run, step
from synthetic_classic_client import AuthenticatedClient, AuthError, Credentials, ServiceLimitError
from synthetic_classic_client.api.results import get_test_results, get_test_results_for_monitors
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
    TimeReference,
)

USER_VAR, PASSWORD_VAR = "SYNTHETIC_USER", "SYNTHETIC_PASSWORD"
AUTH_LOGGER = "synthetic_classic_client.auth"
#: A read-only user of the simulator's demo fixtures: may list tests, may not read results.
VIEWER = Credentials(username="viewer", password="viewer-password")  # noqa: S106 -- published demo fixture
#: Query windows are in epoch milliseconds.
DAY_MS = 24 * 3600 * 1000


def monitor_set_xml(monitor_ids: list[str]) -> str:
    """The XML body of POST /testresults for these monitor IDs."""
    check(all(mid.isdigit() for mid in monitor_ids), f"monitor IDs are digits: {monitor_ids}")
    monitors = "".join(f"<Monitor><mid>{mid}</mid></Monitor>" for mid in monitor_ids)
    return f"<TESTDATA_INPUT><MonitorSet>{monitors}</MonitorSet></TESTDATA_INPUT>"


def runs(results: TestResults) -> tuple[int, int]:
    """How many Backbone and Last Mile/Mobile runs a result holds."""
    backbone = results.backbone_data.test_level_data if results.backbone_data else None
    other = results.other_data.test_level_data if results.other_data else None
    return (len(backbone) if backbone else 0), (len(other) if other else 0)


def main(base_url: str) -> None:
    """Tell the story; raise DemoFailure at the first thing that does not behave."""
    os.environ.setdefault(USER_VAR, "demo")
    os.environ.setdefault(PASSWORD_VAR, "demo-password")
    credentials = Credentials.from_env(USER_VAR, PASSWORD_VAR)
    user = credentials.username
    simulator = Simulator(base_url)
    clock = ManualClock()
    server_before = simulator.stats()
    client = AuthenticatedClient(base_url=base_url, credentials=credentials, clock=clock)
    lifecycle = client.lifecycle
    end_ms = int(time.time() * 1000)
    start_ms = end_ms - DAY_MS
    print(f"== Synthetic Classic, sync API, {base_url}, as {user!r} (from ${USER_VAR} / ${PASSWORD_VAR})")

    log = AuthLog()
    with log.attached(AUTH_LOGGER), client:
        step("1. The first call logs in (GET /login), then lists the active Backbone tests")
        listed = list_tests.sync(client=client, test_type=TestType.BACKBONE, status=TestStatusFilter.ACTIVE)
        monitors = expect(listed, MonitorList, "GET /tests").monitors
        for entry in monitors:
            monitor = entry.monitor
            print(f"   {monitor.monitor_id}  {monitor.tname}  ({monitor.test_type}, {monitor.status})")
        print("   (the simulator answers its fixture list whatever the filters)")
        check(lifecycle.stats.logins == 1, f"one login for the first call, not {lifecycle.stats.logins}")
        print(f"   token in use: {lifecycle.token_fingerprint}")

        step("2. Results of one test, then of two at once through the XML body of POST /testresults")
        ids = [entry.monitor.monitor_id for entry in monitors if isinstance(entry.monitor.monitor_id, str)]
        check(len(ids) >= 2, f"at least two monitors listed, got {ids}")
        one = get_test_results.sync(
            ids[0], client=client, start=start_ms, end=end_ms, detail_level=DetailLevel.TEST, time=TimeReference.ARRIVAL
        )
        backbone, other = runs(expect(one, TestResults, f"GET /testresults/{ids[0]}"))
        print(f"   GET /testresults/{ids[0]}: {backbone} Backbone runs, {other} Last Mile/Mobile runs")
        many = get_test_results_for_monitors.sync(
            client=client, body=monitor_set_xml(ids[:2]), start=start_ms, end=end_ms, detail_level=DetailLevel.TEST
        )
        backbone, other = runs(expect(many, TestResults, "POST /testresults"))
        print(f"   POST /testresults for {ids[:2]}: {backbone} Backbone runs, {other} Last Mile/Mobile runs")

        step("3. The monitoring sites")
        sites = expect(list_sites.sync(client=client), SiteList, "GET /sites")
        print(f"   GET /sites: {len(sites.additional_properties.get('Sites', []))} sites")

        step("4. 17 h 50 min later the 18 h token is in its last 15 minutes: refreshed before the call")
        simulator.advance(clock, TOKEN_LIFETIME_SECONDS - 10 * 60)
        before, unauthorized = lifecycle.stats, simulator.stats().unauthorized
        expect(list_sites.sync(client=client), SiteList, "GET /sites after 17 h 50 min")
        after = lifecycle.stats
        check(after.proactive_refreshes == before.proactive_refreshes + 1, "a proactive refresh")
        check(simulator.stats().unauthorized == unauthorized, "the server never saw the old token again (no 401)")
        print(f"   token in use: {lifecycle.token_fingerprint}; the server answered no 401")

        step("5. The server expires tokens sooner than the spec says: a 401, one login, one replay")
        token = lifecycle.token_fingerprint
        context = simulator.context(token)
        print(
            f"   the simulator expires {token} in {context.expires_in:.0f}s (it runs with a short --token-lifetime); "
            f"the client counts on {TOKEN_LIFETIME_SECONDS / 3600:.0f} h, as the spec says"
        )
        simulator.advance(clock, context.expires_in + 60)
        check(simulator.context(token).state == "expired", "the server expired the token")
        before = lifecycle.stats
        listed = list_tests.sync(client=client, test_type=TestType.LASTMILE, status=TestStatusFilter.ALL)
        expect(listed, MonitorList, "GET /tests after the server-side expiry")
        after = lifecycle.stats
        check(after.invalidations == before.invalidations + 1, "the rejected token was invalidated")
        check(after.replays == before.replays + 1, "the request was replayed once")
        check(after.logins == before.logins + 1, "exactly one login")
        print(f"   token in use: {lifecycle.token_fingerprint}; the caller saw only the MonitorList")

        step(f"6. The server revokes every token of {user!r}: the next call recovers the same way")
        check(simulator.revoke(user) >= 1, "the simulator revoked the client's token")
        before = lifecycle.stats
        one = get_test_results.sync(ids[1], client=client, start=start_ms, end=end_ms, detail_level=DetailLevel.STEP)
        expect(one, TestResults, f"GET /testresults/{ids[1]} after the revocation")
        after = lifecycle.stats
        check((after.invalidations, after.replays) == (before.invalidations + 1, before.replays + 1), "one replay")
        print(f"   token in use: {lifecycle.token_fingerprint}")

    step("7. A read-only user gets 403 as a typed Error; a 403 is not a reason to log in again")
    with log.attached(AUTH_LOGGER), AuthenticatedClient(base_url=base_url, credentials=VIEWER, clock=clock) as viewer:
        expect(list_tests.sync(client=viewer), MonitorList, "GET /tests as viewer")
        denied = get_test_results.sync(ids[0], client=viewer, start=start_ms, end=end_ms)
        message = expect(denied, Error, "GET /testresults as viewer").message
        print(f"   GET /testresults/{ids[0]} as 'viewer': Error({message!r})")
        check(viewer.lifecycle.stats.logins == 1, "the viewer logged in once")
        check(viewer.lifecycle.stats.invalidations == 0, "403 does not invalidate the token")

    step("Summary")
    stats, server = lifecycle.stats, simulator.stats()
    server_logins = server.logins(user) - server_before.logins(user)
    server_401 = server.unauthorized - server_before.unauthorized
    print(
        f"   client: {stats.logins} logins, {stats.proactive_refreshes} proactive refresh(es), "
        f"{stats.invalidations} invalidations, {stats.replays} replays; token now {lifecycle.token_fingerprint}"
    )
    print(f"   server: {server_logins} logins of {user!r}, {server_401} answers 401, none of them reached the caller")
    check((stats.logins, stats.proactive_refreshes, stats.replays) == (4, 1, 2), f"expected counts, got {stats}")
    check(server_logins == stats.logins, "the server counted the same logins as the client")
    check(server_401 == stats.replays, "every 401 was absorbed by a replay")
    secrets = (credentials.password, VIEWER.password)
    check(not any(secret in line for line in log.lines for secret in secrets), "no password in the auth log")
    simulator.close()


if __name__ == "__main__":
    run(main, client_errors=(AuthError, ServiceLimitError))
