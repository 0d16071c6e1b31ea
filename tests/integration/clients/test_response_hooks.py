"""Issue 13 item 3: a user's ``raise_for_status`` response hook must not abort the recovery from a 401.

httpx runs response event hooks inside ``send``, before the auth flow sees the response: a hook that
raises on 401 used to end the call with ``HTTPStatusError`` and leave the revoked token in place, so
every later call failed too. The lifecycle now keeps a 401 it will replay away from your hooks; they
see the replay's answer. Against the real simulator: revoke, then call.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import synthetic_classic_client

from tests.fault_server import FaultServer, Reply, Seen
from tests.integration.simulator._support import Simulator

from ._apis import Api


def _raise_for_status(response: httpx.Response) -> None:
    response.raise_for_status()


async def _araise_for_status(response: httpx.Response) -> None:
    response.raise_for_status()


def _seen_statuses(seen: list[int]) -> Any:
    def hook(response: httpx.Response) -> None:
        seen.append(response.status_code)

    return hook


def test_a_raise_for_status_hook_does_not_stop_the_recovery_from_a_revoked_token(api: Api, sim: Simulator) -> None:
    """Revoked server-side: the next call succeeds, one invalidation, one replay, and the hook saw no 401."""
    seen: list[int] = []
    hooks = {"response": [_raise_for_status, _seen_statuses(seen)]}
    with api.client(sim.url, "demo", "demo-password", httpx_args={"event_hooks": hooks}) as client:
        assert isinstance(api.call(client), api.listed)
        sim.control("POST", "tokens/revoke", user="demo")
        assert isinstance(api.call(client), api.listed)  # used to raise HTTPStatusError 401
        assert isinstance(api.call(client), api.listed)
    assert (client.lifecycle.stats.invalidations, client.lifecycle.stats.replays) == (1, 1)
    stats = sim.control("GET", "stats")
    assert (stats["logins"]["total"], stats["unauthorized"]) == (2, 1)
    assert 401 not in seen, "the hook sees the replay's answer, not the 401 the lifecycle handled"
    assert seen.count(200) >= 5  # two logins and three calls


@pytest.mark.anyio
async def test_an_async_raise_for_status_hook_does_not_stop_the_recovery(api: Api, sim: Simulator) -> None:
    """The same with the async client and a coroutine hook."""
    hooks = {"response": [_araise_for_status]}
    async with api.client(sim.url, "demo", "demo-password", httpx_args={"event_hooks": hooks}) as client:
        assert isinstance(await api.acall(client), api.listed)
        sim.control("POST", "tokens/revoke", user="demo")
        assert isinstance(await api.acall(client), api.listed)
    assert (client.lifecycle.stats.invalidations, client.lifecycle.stats.replays) == (1, 1)


def test_the_hook_still_sees_a_401_that_survives_the_replay() -> None:
    """A fresh token rejected as well: the replay's 401 reaches the hooks (nothing is hidden for good)."""
    seen: list[int] = []
    hooks = {"response": [_seen_statuses(seen), _raise_for_status]}
    logins = iter(range(1, 100))

    def script(request: Seen) -> Reply:
        if request.path.startswith("/login"):
            return Reply(200, f"token-{next(logins)}".encode())
        return Reply(401, b"no")

    with FaultServer(script) as server:
        credentials = synthetic_classic_client.Credentials(username="demo", password="demo-password")
        with (
            synthetic_classic_client.AuthenticatedClient(
                base_url=server.url,
                credentials=credentials,
                timeout=httpx.Timeout(5.0),
                httpx_args={"event_hooks": hooks},
            ) as client,
            pytest.raises(httpx.HTTPStatusError) as caught,
        ):
            client.get_httpx_client().get("/tests")
        assert caught.value.response.status_code == 401
        assert [seen.path.split("?")[0] for seen in server.requests] == ["/login", "/tests", "/login", "/tests"]
    assert seen == [200, 200, 401], "the logins, then only the replay's 401: the first one was the lifecycle's"
    assert (client.lifecycle.stats.invalidations, client.lifecycle.stats.replays) == (1, 1)


def test_a_401_from_another_origin_reaches_the_hooks_untouched() -> None:
    """Only a 401 the lifecycle will replay is kept from the hooks: another origin's 401 is theirs at once."""
    seen: list[int] = []
    hooks = {"response": [_seen_statuses(seen)]}
    with FaultServer(lambda _: Reply(401, b"no")) as other, FaultServer(lambda _: Reply(200, b"t")) as server:
        credentials = synthetic_classic_client.Credentials(username="demo", password="demo-password")
        with synthetic_classic_client.AuthenticatedClient(
            base_url=server.url, credentials=credentials, timeout=httpx.Timeout(5.0), httpx_args={"event_hooks": hooks}
        ) as client:
            assert client.get_httpx_client().get(f"{other.url}/x").status_code == 401
    assert seen == [401]
    assert client.lifecycle.stats.invalidations == 0


def _raise_for_client_error(response: httpx.Response) -> None:
    if response.is_client_error:  # raise_for_status would raise on the 302 already
        response.raise_for_status()


def test_a_401_of_another_origin_after_a_redirect_reaches_the_hooks() -> None:
    """A followed redirect's 401 from another origin says nothing of the token: the hooks see it at once."""
    with FaultServer(lambda _: Reply(401, b"not yours")) as other:

        def script(seen: Seen) -> Reply:
            if seen.path.startswith("/login"):
                return Reply(200, b"the-token")
            return Reply(302, headers={"Location": f"{other.url}/elsewhere"})

        with FaultServer(script) as server:
            credentials = synthetic_classic_client.Credentials(username="demo", password="demo-password")
            hooks = {"response": [_raise_for_client_error]}
            with (
                synthetic_classic_client.AuthenticatedClient(
                    base_url=server.url,
                    credentials=credentials,
                    timeout=httpx.Timeout(5.0),
                    follow_redirects=True,
                    httpx_args={"event_hooks": hooks},
                ) as client,
                pytest.raises(httpx.HTTPStatusError) as caught,
            ):
                client.get_httpx_client().get("/tests")
    assert (caught.value.response.status_code, caught.value.response.url.path) == (401, "/elsewhere")
    assert client.lifecycle.stats.invalidations == 0
