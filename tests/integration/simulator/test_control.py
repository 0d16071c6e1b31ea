"""Rule 7: the control API (only with --control, only for loopback clients) moves time and shows state."""

from __future__ import annotations

import asyncio

import httpx

from simulator import Clock, RateLimit, SimulatorState, build_app, load_api, resolve_fixtures

from ._support import DEMO, OTHER, SPEC, VIEWER, Simulator, auth


def test_clock_advance_moves_server_time_forward(sim: Simulator) -> None:
    """``clock/advance?seconds=S`` moves the server clock by S; negative or missing S is a 400."""
    before = sim.control("GET", "clock")
    after = sim.control("POST", "clock/advance", seconds=3600)
    assert after["offset"] == before["offset"] + 3600
    assert after["now"] >= before["now"] + 3600
    with sim.client() as client:
        assert client.post("/_control/clock/advance", params={"seconds": -1}).status_code == 400
        assert client.post("/_control/clock/advance").status_code == 400


def test_stats_count_logins_requests_and_refusals(sim: Simulator) -> None:
    """Stats show logins per account and user, requests, and the 401/403 counts."""
    demo, viewer, other = sim.login(DEMO), sim.login(VIEWER), sim.login(OTHER)
    sim.login(DEMO)
    with sim.client() as client:
        client.get("/login", params={"user": "demo", "password": "nope"})
        client.get("/tests", headers=auth(demo))
        client.get("/sites", headers=auth(viewer))
        client.get("/sites", headers=auth(other))
        client.get("/sites")
    stats = sim.control("GET", "stats")
    assert stats["logins"] == {
        "total": 4,
        "failed": 1,
        "by_account": {"1001": 3, "2002": 1},
        "by_user": {"demo": 2, "other": 1, "viewer": 1},
    }
    assert stats["requests"]["total"] == 9
    assert stats["requests"]["by_account"] == {"1001": 2, "2002": 1}
    assert stats["requests"]["by_status"] == {"200": 6, "401": 2, "403": 1, "503": 0}
    assert (stats["unauthorized"], stats["forbidden"], stats["busy"]) == (2, 1, 0)


def test_contexts_show_fingerprints_never_tokens(sim: Simulator) -> None:
    """Contexts list each token as ``tok:`` and a hash prefix; the token itself appears nowhere."""
    token = sim.login()
    with sim.client() as client:
        text = client.get("/_control/contexts").text
    assert token not in text
    assert '"token":"tok:' in text


def test_reset_forgets_tokens_and_counts(sim: Simulator) -> None:
    """After ``reset`` earlier tokens are unknown and every count is zero."""
    token = sim.login()
    sim.control("POST", "clock/advance", seconds=10)
    assert sim.control("POST", "reset") == {"reset": True}
    with sim.client() as client:
        assert client.get("/sites", headers=auth(token)).status_code == 401
    stats = sim.control("GET", "stats")
    assert stats["logins"]["total"] == 0
    assert sim.control("GET", "clock")["offset"] == 0
    assert sim.control("GET", "contexts") == {"contexts": []}


def test_revoke_needs_a_known_user(sim: Simulator) -> None:
    """Revoking without a user is a 400 and an unknown user a 404, so a typo does not pass silently."""
    with sim.client() as client:
        assert client.post("/_control/tokens/revoke").status_code == 400
        assert client.post("/_control/tokens/revoke", params={"user": "dmeo"}).status_code == 404


def test_control_api_refuses_clients_off_loopback() -> None:
    """A client address outside loopback gets 403 from the control API (in-process: no such socket exists here)."""
    api = load_api(SPEC, "spec/synthetic-classic.yaml")
    assert not isinstance(api, list)
    fixtures = resolve_fixtures(SPEC, None, api)
    assert not isinstance(fixtures, list)
    app = build_app(api, fixtures, SimulatorState(Clock(), 60.0, RateLimit(10, 60)), control=True)

    async def ask(client_address: str) -> int:
        transport = httpx.ASGITransport(app=app, client=(client_address, 50000))
        async with httpx.AsyncClient(transport=transport, base_url=f"http://simulator{api.base_path}") as client:
            return (await client.get("/_control/stats")).status_code

    assert asyncio.run(ask("192.0.2.10")) == 403
    assert asyncio.run(ask("127.0.0.1")) == 200
    assert asyncio.run(ask("::1")) == 200
