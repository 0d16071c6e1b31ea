"""The generated Synthetic Classic client against the simulator, over real sockets, as users will use it.

Time travel goes through the simulator's control API and the client's injected clock, moved by
the same amount; nothing sleeps.
"""

from __future__ import annotations

from typing import Any

import pytest
from synthetic_classic_client import AuthenticatedClient, Credentials, LoginError, RetryPolicy
from synthetic_classic_client.api.results import get_test_results, get_test_results_for_monitors
from synthetic_classic_client.api.sites import list_sites
from synthetic_classic_client.api.tests import list_tests
from synthetic_classic_client.models import DetailLevel, Error, MonitorList, SiteList, TestResults, TestType

from tests.integration.simulator._support import Simulator

HOUR = 3600.0
START_MS = 1_700_000_000_000
XML = (
    "<TESTDATA_INPUT><MonitorSet>"
    "<Monitor><mid>21714841</mid></Monitor><Monitor><mid>21714856</mid></Monitor>"
    "</MonitorSet></TESTDATA_INPUT>"
)


class Clock:
    """The client's monotonic clock, moved only together with the simulator's."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.sim.control("POST", "clock/advance", seconds=seconds)
        self.now += seconds


def _client(sim: Simulator, user: str = "demo", password: str | None = None, **kwargs: Any) -> AuthenticatedClient:
    # Backoff waits move simulated time instead of sleeping, so the account's window really slides.
    retry = RetryPolicy(sleep=lambda seconds: sim.control("POST", "clock/advance", seconds=seconds))
    return AuthenticatedClient(
        base_url=sim.url,
        credentials=Credentials(username=user, password=password or f"{user}-password"),
        retry=kwargs.pop("retry", retry),
        timeout=None,
        **kwargs,
    )


def _stats(sim: Simulator) -> dict[str, Any]:
    stats: dict[str, Any] = sim.control("GET", "stats")
    return stats


def test_login_and_every_resource_parse_into_typed_models(sim: Simulator) -> None:
    """One login, then tests (filtered), results for one monitor, for many via XML, and sites, all typed."""
    with _client(sim) as client:
        tests = list_tests.sync(client=client, test_type=TestType.BACKBONE, test_name="%")
        one = get_test_results.sync("21714841", client=client, start=START_MS, detail_level=DetailLevel.TEST)
        many = get_test_results_for_monitors.sync(client=client, body=XML, start=START_MS, end=START_MS + 3_600_000)
        sites = list_sites.sync(client=client)
    assert isinstance(tests, MonitorList)
    assert {entry.monitor.monitor_id for entry in tests.monitors} >= {"21714841"}
    assert isinstance(one, TestResults)
    assert isinstance(many, TestResults)
    assert isinstance(sites, SiteList)
    assert _stats(sim)["logins"]["by_user"] == {"demo": 1}
    contexts = sim.control("GET", "contexts")["contexts"]
    assert len(contexts) == 1
    assert contexts[0]["user"] == "demo"


def test_crossing_the_lifetime_refreshes_in_the_advisory_window_before_any_401(sim: Simulator) -> None:
    """18 hours on: the client refreshes 10 minutes before expiry, and the server never answers 401."""
    clock = Clock(sim)
    with _client(sim, clock=clock) as client:
        assert isinstance(list_tests.sync(client=client), MonitorList)
        clock.advance(18 * HOUR - 10 * 60)
        assert isinstance(list_tests.sync(client=client), MonitorList)
        clock.advance(9 * 60)
        assert isinstance(list_tests.sync(client=client), MonitorList)
    stats = _stats(sim)
    assert stats["logins"]["by_user"] == {"demo": 2}
    assert stats["unauthorized"] == 0
    assert client.lifecycle.stats.proactive_refreshes == 1


def test_token_revoked_mid_session_is_recovered_with_one_login_and_one_replay(sim: Simulator) -> None:
    """After a server-side revocation the next call succeeds for the caller: one 401, one login, one replay."""
    with _client(sim) as client:
        list_tests.sync(client=client)
        sim.control("POST", "tokens/revoke", user="demo")
        assert isinstance(list_tests.sync(client=client), MonitorList)
    stats = _stats(sim)
    assert (stats["logins"]["total"], stats["unauthorized"]) == (2, 1)
    assert (client.lifecycle.stats.invalidations, client.lifecycle.stats.replays) == (1, 1)


def test_two_users_share_the_account_limit_and_retries_succeed_once_the_window_allows(sim: Simulator) -> None:
    """demo and demo2 (account 1001) exhaust its 6-per-minute limit; 503s are retried until the window slides.

    The user of account 2002 is served meanwhile without a single 503.
    """
    with _client(sim) as demo, _client(sim, "demo2") as demo2, _client(sim, "other") as other:
        results = [list_tests.sync(client=client) for client in (demo, demo2) * 5]
        assert all(isinstance(result, MonitorList) for result in results)
        stats = _stats(sim)
        assert stats["busy"] >= 1, "the account's limit (6 per minute) was hit by 10 calls and retried"
        busy = stats["busy"]
        assert all(isinstance(list_tests.sync(client=other), MonitorList) for _ in range(5))
    assert _stats(sim)["busy"] == busy, "account 2002 is not affected by account 1001's load"


def test_viewer_gets_a_typed_403_without_logging_in_again(sim: Simulator) -> None:
    """viewer may list tests but not read results: a typed Error, and no second login."""
    with _client(sim, "viewer") as client:
        assert isinstance(list_tests.sync(client=client), MonitorList)
        response = get_test_results.sync_detailed("21714841", client=client, start=START_MS)
    assert response.status_code == 403
    assert isinstance(response.parsed, Error)
    assert _stats(sim)["logins"]["by_user"] == {"viewer": 1}


def test_wrong_password_raises_login_error_and_nothing_more_is_tried(sim: Simulator) -> None:
    """A refused login raises LoginError; the simulator sees exactly one failed attempt and no API call."""
    with _client(sim, password="not-the-password") as client, pytest.raises(LoginError) as caught:
        list_tests.sync(client=client)
    assert "not-the-password" not in str(caught.value)
    stats = _stats(sim)
    # One request in all: the refused login itself; no retry, no protected call.
    assert (stats["logins"]["failed"], stats["logins"]["total"], stats["requests"]["total"]) == (1, 0, 1)
