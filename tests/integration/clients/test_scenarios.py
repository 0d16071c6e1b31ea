"""Every generated client against its simulator: the session scenarios users rely on, same for each API.

Time travel goes through the simulator's control API and the client's injected clock, moved by
the same amount; backoff waits move simulated time too. Nothing sleeps.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.simulator._support import Simulator

from ._apis import Api


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


def _client(api: Api, sim: Simulator, user: str = "demo", password: str | None = None, **kwargs: Any) -> Any:
    retry = api.package.RetryPolicy(sleep=lambda seconds: sim.control("POST", "clock/advance", seconds=seconds))
    return api.client(sim.url, user, password or f"{user}-password", retry=retry, **kwargs)


def _stats(sim: Simulator) -> dict[str, Any]:
    stats: dict[str, Any] = sim.control("GET", "stats")
    return stats


def test_server_and_client_name_the_token_alike(api: Api, sim: Simulator) -> None:
    """The fingerprint the client logs is the one the simulator's contexts show, for the same user."""
    with _client(api, sim) as client:
        assert isinstance(api.call(client), api.listed)
        (context,) = sim.control("GET", "contexts")["contexts"]
        assert context["token"] == client.lifecycle.token_fingerprint
        assert context["user"] == "demo"


def test_crossing_the_lifetime_refreshes_in_the_advisory_window_before_any_401(api: Api, sim: Simulator) -> None:
    """Just before expiry the client refreshes ahead of time, and the server never answers 401."""
    clock = Clock(sim)
    with _client(api, sim, clock=clock) as client:
        assert isinstance(api.call(client), api.listed)
        clock.advance(api.lifetime * 0.5)
        assert isinstance(api.call(client), api.listed)
        assert _stats(sim)["logins"]["total"] == 1, "half-way through its life the token is kept"
        clock.advance(api.lifetime * 0.5 - 120)
        assert isinstance(api.call(client), api.listed)
    stats = _stats(sim)
    assert stats["logins"]["by_user"] == {"demo": 2}
    assert stats["unauthorized"] == 0
    assert client.lifecycle.stats.proactive_refreshes == 1


def test_token_revoked_mid_session_is_recovered_with_one_login_and_one_replay(api: Api, sim: Simulator) -> None:
    """After a server-side revocation the next call succeeds for the caller: one 401, one login, one replay."""
    with _client(api, sim) as client:
        api.call(client)
        sim.control("POST", "tokens/revoke", user="demo")
        assert isinstance(api.call(client), api.listed)
    stats = _stats(sim)
    assert (stats["logins"]["total"], stats["unauthorized"]) == (2, 1)
    assert (client.lifecycle.stats.invalidations, client.lifecycle.stats.replays) == (1, 1)


def test_two_users_share_the_account_limit_and_retries_succeed_once_the_window_allows(api: Api, sim: Simulator) -> None:
    """demo and demo2 (account 1001) exceed its 6-per-minute limit; 503s are retried until the window slides.

    The user of account 2002 is served meanwhile without a single 503.
    """
    with _client(api, sim) as demo, _client(api, sim, "demo2") as demo2, _client(api, sim, "other") as other:
        results = [api.call(client) for client in (demo, demo2) * 5]
        assert all(isinstance(result, api.listed) for result in results)
        busy = _stats(sim)["busy"]
        assert busy >= 1, "10 calls against a limit of 6 per minute were answered 503 and retried"
        assert all(isinstance(api.call(other), api.listed) for _ in range(5))
    assert _stats(sim)["busy"] == busy, "account 2002 is not affected by account 1001's load"


def test_viewer_gets_a_typed_403_without_logging_in_again(api: Api, sim: Simulator) -> None:
    """The read-only viewer may list but not read details: a typed error result, and no second login."""
    with _client(api, sim, "viewer") as client:
        assert isinstance(api.call(client), api.listed)
        response = api.forbidden_for_viewer(client)
    assert response.status_code == 403
    assert response.parsed is not None
    assert _stats(sim)["logins"]["by_user"] == {"viewer": 1}


def test_wrong_password_raises_login_error_and_nothing_more_is_tried(api: Api, sim: Simulator) -> None:
    """A refused login raises LoginError; the simulator sees one failed attempt and no API call."""
    with _client(api, sim, password="not-the-password") as client, pytest.raises(api.package.LoginError) as caught:
        api.call(client)
    assert "not-the-password" not in str(caught.value)
    stats = _stats(sim)
    # One request in all: the refused login itself; no retry, no protected call.
    assert (stats["logins"]["failed"], stats["logins"]["total"], stats["requests"]["total"]) == (1, 0, 1)
