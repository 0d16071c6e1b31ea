"""A whole httpx.Client / AsyncClient with TokenLifecycle behind MockTransport, on a fake clock."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from token_lifecycle import (
    Credentials,
    InsecureTransportError,
    LoginError,
    TokenRejectedError,
    UnreplayableRequestError,
)

from ._support import (
    BASE_URL,
    LIFETIME,
    PASSWORD,
    USERNAME,
    ConsumingTransport,
    FakeClock,
    FakeService,
    gate,
    make_lifecycle,
    query_login,
    sent_token,
)

ITEMS = f"{BASE_URL}/items"
ADVISORY_POINT = LIFETIME - 600  # 10 min left: inside the 15 min advisory window, outside the 5 min one
MANDATORY_POINT = LIFETIME - 100  # under 5 min left


def _stream() -> Iterator[bytes]:
    yield b"chunk"


# -- lazy login and expiry ---------------------------------------------------------------------


def test_login_is_lazy_and_happens_once() -> None:
    """Building the client logs nobody in; the first request logs in and later ones reuse the token."""
    service = FakeService()
    auth = make_lifecycle()
    with httpx.Client(transport=service.transport(), auth=auth) as client:
        assert service.logins == 0
        assert auth.token_fingerprint is None
        assert sent_token(client.get(ITEMS)) == "tok-1"
        assert sent_token(client.get(ITEMS)) == "tok-1"
    assert service.logins == 1
    assert auth.stats.logins == 1


@pytest.mark.anyio
async def test_async_login_is_lazy_and_happens_once() -> None:
    """The async client also logs in on its first request only."""
    service = FakeService()
    auth = make_lifecycle()
    async with httpx.AsyncClient(transport=service.async_transport(), auth=auth) as client:
        assert service.logins == 0
        assert sent_token(await client.get(ITEMS)) == "tok-1"
        assert sent_token(await client.get(ITEMS)) == "tok-1"
    assert service.logins == 1


def test_crossing_the_lifetime_logs_in_again() -> None:
    """Eighteen hours later on the fake clock, the next request carries a fresh token."""
    service, clock = FakeService(), FakeClock()
    auth = make_lifecycle(clock)
    with httpx.Client(transport=service.transport(), auth=auth) as client:
        client.get(ITEMS)
        clock.advance(LIFETIME - 901)
        assert sent_token(client.get(ITEMS)) == "tok-1"
        clock.advance(1000)
        assert sent_token(client.get(ITEMS)) == "tok-2"
    assert (auth.stats.logins, auth.stats.proactive_refreshes) == (2, 1)


@pytest.mark.anyio
async def test_async_crossing_the_lifetime_logs_in_again() -> None:
    """The async flow also replaces the token once its lifetime is over."""
    service, clock = FakeService(), FakeClock()
    auth = make_lifecycle(clock)
    async with httpx.AsyncClient(transport=service.async_transport(), auth=auth) as client:
        await client.get(ITEMS)
        clock.advance(LIFETIME + 1)
        assert sent_token(await client.get(ITEMS)) == "tok-2"
    assert auth.stats.logins == 2


def test_lifetime_counts_from_the_arrival_of_the_login_response() -> None:
    """A slow login does not shorten the token: expiry is measured from when the response arrived."""
    service, clock = FakeService(), FakeClock()
    service.login_gate = lambda: clock.advance(10)  # the login takes ten seconds
    auth = make_lifecycle(clock, advisory_window=0.0, mandatory_window=0.0)
    with httpx.Client(transport=service.transport(), auth=auth) as client:
        client.get(ITEMS)
        clock.advance(LIFETIME - 1)
        assert sent_token(client.get(ITEMS)) == "tok-1"
        clock.advance(1)
        assert sent_token(client.get(ITEMS)) == "tok-2"


def test_expires_in_pointer_overrides_the_static_lifetime() -> None:
    """A login answering ``{"expires_in": 3600}`` makes the token last an hour, not eighteen."""
    service, clock = FakeService(json_body={"expires_in": 3600}), FakeClock()
    login = query_login(token_from="json", token_pointer="/access_token", expires_in_pointer="/expires_in")
    auth = make_lifecycle(clock, login=login)
    with httpx.Client(transport=service.transport(), auth=auth) as client:
        client.get(ITEMS)
        clock.advance(3600 - 901)
        assert sent_token(client.get(ITEMS)) == "tok-1"
        clock.advance(700)  # 201 s left: inside the mandatory window of the one-hour token
        assert sent_token(client.get(ITEMS)) == "tok-2"


@pytest.mark.anyio
async def test_async_expires_in_pointer_overrides_the_static_lifetime() -> None:
    """The async flow honours the lifetime read from the login response too."""
    service, clock = FakeService(json_body={"expires_in": "120"}), FakeClock()
    login = query_login(token_from="json", token_pointer="/access_token", expires_in_pointer="/expires_in")
    auth = make_lifecycle(clock, login=login)
    async with httpx.AsyncClient(transport=service.async_transport(), auth=auth) as client:
        await client.get(ITEMS)
        clock.advance(121)
        assert sent_token(await client.get(ITEMS)) == "tok-2"


def test_a_missing_expires_in_falls_back_to_the_static_lifetime_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """When the pointer finds nothing, the static lifetime applies and a warning says why."""
    service, clock = FakeService(json_body={}), FakeClock()
    login = query_login(token_from="json", token_pointer="/access_token", expires_in_pointer="/expires_in")
    auth = make_lifecycle(clock, login=login)
    with caplog.at_level(logging.WARNING), httpx.Client(transport=service.transport(), auth=auth) as client:
        client.get(ITEMS)
        clock.advance(7200)
        assert sent_token(client.get(ITEMS)) == "tok-1"
    assert "no value at expires-in pointer /expires_in; using the static lifetime" in caplog.text


# -- advisory and mandatory windows --------------------------------------------------------------


def test_advisory_refresh_is_done_by_one_caller_while_others_keep_the_token() -> None:
    """In the advisory window one thread logs in; callers meanwhile send the current token at once."""
    service, clock = FakeService(), FakeClock()
    auth = make_lifecycle(clock)
    with httpx.Client(transport=service.transport(), auth=auth) as client, ThreadPoolExecutor(1) as pool:
        client.get(ITEMS)
        clock.advance(ADVISORY_POINT)
        entered, release, hook = gate()
        service.login_gate = hook
        refreshing = pool.submit(client.get, ITEMS)
        assert entered.wait(timeout=10)
        # The login is held open: these calls would hang if they waited for it.
        others = [client.get(f"{BASE_URL}/other") for _ in range(5)]
        release.set()
        assert sent_token(refreshing.result(timeout=10)) == "tok-2"
        assert [sent_token(response) for response in others] == ["tok-1"] * 5
        assert sent_token(client.get(ITEMS)) == "tok-2"
    assert (auth.stats.logins, auth.stats.proactive_refreshes) == (2, 1)


@pytest.mark.anyio
async def test_async_advisory_refresh_is_done_by_one_task_while_others_keep_the_token() -> None:
    """In the advisory window one task logs in; other tasks finish meanwhile with the current token."""
    service, clock = FakeService(), FakeClock()
    auth = make_lifecycle(clock)
    entered, release = asyncio.Event(), asyncio.Event()

    async def login_gate() -> None:
        entered.set()
        await release.wait()

    async with httpx.AsyncClient(transport=service.async_transport(), auth=auth) as client:
        await client.get(ITEMS)
        clock.advance(ADVISORY_POINT)
        service.async_login_gate = login_gate
        refreshing = asyncio.create_task(client.get(ITEMS))
        await entered.wait()
        # A timeout turns a regression (callers waiting for the held login) into a failure, not a hang.
        others = await asyncio.wait_for(asyncio.gather(*(client.get(f"{BASE_URL}/other") for _ in range(5))), 10)
        assert not refreshing.done()
        release.set()
        assert sent_token(await refreshing) == "tok-2"
        assert [sent_token(response) for response in others] == ["tok-1"] * 5
    assert (auth.stats.logins, auth.stats.proactive_refreshes) == (2, 1)


def test_a_failed_advisory_refresh_is_logged_and_the_token_kept(caplog: pytest.LogCaptureFixture) -> None:
    """A login failing in the advisory window logs a warning; the request succeeds with the current token."""
    service, clock = FakeService(), FakeClock()
    auth = make_lifecycle(clock)
    with httpx.Client(transport=service.transport(), auth=auth) as client:
        client.get(ITEMS)
        clock.advance(ADVISORY_POINT)
        service.login_status = 500
        with caplog.at_level(logging.WARNING, logger="tests.lifecycle.auth"):
            response = client.get(ITEMS)
        assert sent_token(response) == "tok-1"
    assert "advisory refresh failed; keeping token tok:" in caplog.text
    assert (auth.stats.logins, auth.stats.failed_logins) == (1, 1)


@pytest.mark.anyio
async def test_async_a_failed_advisory_refresh_is_logged_and_the_token_kept(caplog: pytest.LogCaptureFixture) -> None:
    """The async flow also logs a failed advisory refresh and keeps going with the current token."""
    service, clock = FakeService(), FakeClock()
    auth = make_lifecycle(clock)
    async with httpx.AsyncClient(transport=service.async_transport(), auth=auth) as client:
        await client.get(ITEMS)
        clock.advance(ADVISORY_POINT)
        service.login_status = 500
        with caplog.at_level(logging.WARNING, logger="tests.lifecycle.auth"):
            response = await client.get(ITEMS)
        assert sent_token(response) == "tok-1"
    assert "advisory refresh failed" in caplog.text
    assert auth.stats.failed_logins == 1


def test_mandatory_refresh_makes_other_callers_wait_for_the_new_token() -> None:
    """In the mandatory window a second caller waits for the first one's login and then uses its token."""
    service = FakeService()
    waiter_assessed = threading.Event()

    class Clock(FakeClock):
        def __call__(self) -> float:
            if threading.current_thread().name == "waiter":
                waiter_assessed.set()
            return super().__call__()

    clock = Clock()
    auth = make_lifecycle(clock)
    with httpx.Client(transport=service.transport(), auth=auth) as client, ThreadPoolExecutor(1) as pool:
        client.get(ITEMS)
        clock.advance(MANDATORY_POINT)
        entered, release, hook = gate()
        service.login_gate = hook
        refreshing = pool.submit(client.get, ITEMS)
        assert entered.wait(timeout=10)
        results: list[httpx.Response] = []
        waiter = threading.Thread(target=lambda: results.append(client.get(f"{BASE_URL}/waiter")), name="waiter")
        waiter.start()
        assert waiter_assessed.wait(timeout=10)
        # The waiter has seen the expiring token; it cannot reach the service before the login ends.
        assert ("/v1/waiter", "bearer tok-1") not in service.seen
        release.set()
        waiter.join(timeout=10)
        assert sent_token(refreshing.result(timeout=10)) == "tok-2"
        assert sent_token(results[0]) == "tok-2"
    assert service.logins == 2


@pytest.mark.anyio
async def test_async_mandatory_refresh_makes_other_tasks_wait_for_the_new_token() -> None:
    """In the mandatory window other tasks wait on the lock and then use the fresh token."""
    service, clock = FakeService(), FakeClock()
    auth = make_lifecycle(clock)
    entered, release = asyncio.Event(), asyncio.Event()

    async def login_gate() -> None:
        entered.set()
        await release.wait()

    async with httpx.AsyncClient(transport=service.async_transport(), auth=auth) as client:
        await client.get(ITEMS)
        clock.advance(MANDATORY_POINT)
        service.async_login_gate = login_gate
        refreshing = asyncio.create_task(client.get(ITEMS))
        await entered.wait()
        waiting = asyncio.create_task(client.get(f"{BASE_URL}/waiter"))
        for _ in range(20):
            await asyncio.sleep(0)
        assert not waiting.done()
        assert all(path != "/v1/waiter" for path, _ in service.seen)
        release.set()
        assert sent_token(await refreshing) == "tok-2"
        assert sent_token(await waiting) == "tok-2"
    assert service.logins == 2


def test_a_failed_mandatory_refresh_raises() -> None:
    """When the token is about to expire and the login fails, the request raises LoginError."""
    service, clock = FakeService(), FakeClock()
    auth = make_lifecycle(clock)
    with httpx.Client(transport=service.transport(), auth=auth) as client:
        client.get(ITEMS)
        clock.advance(MANDATORY_POINT)
        service.login_status = 500
        with pytest.raises(LoginError, match="HTTP 500"):
            client.get(ITEMS)
    assert auth.stats.failed_logins == 1


@pytest.mark.anyio
async def test_async_a_failed_mandatory_refresh_raises() -> None:
    """The async flow raises LoginError when a mandatory refresh fails."""
    service, clock = FakeService(), FakeClock()
    auth = make_lifecycle(clock)
    async with httpx.AsyncClient(transport=service.async_transport(), auth=auth) as client:
        await client.get(ITEMS)
        clock.advance(LIFETIME + 5)
        service.login_status = 500
        with pytest.raises(LoginError, match="HTTP 500"):
            await client.get(ITEMS)


# -- invalid-token statuses ----------------------------------------------------------------------


def test_a_401_leads_to_one_login_and_one_replay() -> None:
    """After the service revokes the token, a request logs in once and is replayed once, transparently."""
    service = FakeService()
    auth = make_lifecycle()
    with httpx.Client(transport=service.transport(), auth=auth) as client:
        client.get(ITEMS)
        service.revoke_all()
        response = client.post(ITEMS, json={"x": 1})
        assert response.status_code == 200
        assert sent_token(response) == "tok-2"
    assert service.seen.count(("/v1/items", "bearer tok-1")) == 2
    stats = auth.stats
    assert (stats.logins, stats.invalidations, stats.replays) == (2, 1, 1)


@pytest.mark.anyio
async def test_async_a_401_leads_to_one_login_and_one_replay() -> None:
    """The async client recovers from a revoked token with one login and one replay."""
    service = FakeService()
    auth = make_lifecycle()
    async with httpx.AsyncClient(transport=service.async_transport(), auth=auth) as client:
        await client.get(ITEMS)
        service.revoke_all()
        assert sent_token(await client.get(ITEMS)) == "tok-2"
    assert (auth.stats.logins, auth.stats.replays) == (2, 1)


def test_a_second_401_raises_token_rejected() -> None:
    """A path that answers 401 even to a fresh token raises TokenRejectedError after a single replay."""
    service = FakeService()
    service.forced["/v1/denied"] = 401
    auth = make_lifecycle()
    with httpx.Client(transport=service.transport(), auth=auth) as client, pytest.raises(TokenRejectedError):
        client.get(f"{BASE_URL}/denied")
    assert service.logins == 2
    assert [path for path, _ in service.seen] == ["/v1/denied", "/v1/denied"]


@pytest.mark.anyio
async def test_async_a_second_401_raises_token_rejected() -> None:
    """The async flow also gives up after one replay."""
    service = FakeService()
    service.forced["/v1/denied"] = 401
    auth = make_lifecycle()
    async with httpx.AsyncClient(transport=service.async_transport(), auth=auth) as client:
        with pytest.raises(TokenRejectedError):
            await client.get(f"{BASE_URL}/denied")
    assert service.logins == 2


def test_a_403_is_returned_without_login() -> None:
    """A status outside ``invalid_on`` reaches the caller unchanged and costs no login."""
    service = FakeService()
    service.forced["/v1/admin"] = 403
    auth = make_lifecycle()
    with httpx.Client(transport=service.transport(), auth=auth) as client:
        assert client.get(f"{BASE_URL}/admin").status_code == 403
    assert (service.logins, auth.stats.invalidations) == (1, 0)


@pytest.mark.anyio
async def test_async_a_403_is_returned_without_login() -> None:
    """The async flow returns a 403 as is."""
    service = FakeService()
    service.forced["/v1/admin"] = 403
    auth = make_lifecycle()
    async with httpx.AsyncClient(transport=service.async_transport(), auth=auth) as client:
        assert (await client.get(f"{BASE_URL}/admin")).status_code == 403
    assert service.logins == 1


def test_login_answering_401_raises_login_error_naming_user_and_status_not_password() -> None:
    """Wrong credentials raise LoginError with the user name and status and without the password."""
    service = FakeService()
    auth = make_lifecycle(credentials=Credentials(USERNAME, "wrong-pw-xyz"))
    with httpx.Client(transport=service.transport(), auth=auth) as client, pytest.raises(LoginError) as caught:
        client.get(ITEMS)
    message = str(caught.value)
    assert "'alice'" in message
    assert "401" in message
    assert "wrong-pw-xyz" not in message
    assert "wrong-pw-xyz" not in repr(caught.value)
    assert (caught.value.status_code, caught.value.username) == (401, USERNAME)


@pytest.mark.anyio
async def test_async_login_answering_403_raises_login_error() -> None:
    """A 403 login in the async flow raises LoginError carrying the status."""
    service = FakeService()
    service.login_status = 403
    auth = make_lifecycle()
    async with httpx.AsyncClient(transport=service.async_transport(), auth=auth) as client:
        with pytest.raises(LoginError, match=r"login as 'alice' failed: HTTP 403") as caught:
            await client.get(ITEMS)
    assert PASSWORD not in str(caught.value)


def test_login_response_of_the_wrong_shape_raises_login_error_without_the_body() -> None:
    """A JSON login without the token at the pointer says what was expected and does not quote the body."""
    service = FakeService(json_body={"other": "x"})
    login = query_login(token_from="json", token_pointer="/data/token")
    auth = make_lifecycle(login=login)
    with httpx.Client(transport=service.transport(), auth=auth) as client, pytest.raises(LoginError) as caught:
        client.get(ITEMS)
    assert "no token at /data/token" in str(caught.value)
    assert "tok-1" not in str(caught.value)


def test_a_streaming_body_is_not_replayed() -> None:
    """A 401 on a streaming upload raises UnreplayableRequestError; the next request logs in afresh."""
    service = FakeService()
    auth = make_lifecycle()
    with httpx.Client(transport=ConsumingTransport(service), auth=auth) as client:
        client.get(ITEMS)
        service.revoke_all()
        with pytest.raises(UnreplayableRequestError, match="streaming body"):
            client.post(ITEMS, content=_stream())
        assert sent_token(client.get(ITEMS)) == "tok-2"
    assert (auth.stats.replays, auth.stats.invalidations) == (0, 1)


@pytest.mark.anyio
async def test_async_a_streaming_body_is_not_replayed() -> None:
    """The async flow refuses to replay an async streaming body."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b"chunk"

    service = FakeService()
    auth = make_lifecycle()
    async with httpx.AsyncClient(transport=ConsumingTransport(service), auth=auth) as client:
        await client.get(ITEMS)
        service.revoke_all()
        with pytest.raises(UnreplayableRequestError):
            await client.post(ITEMS, content=chunks())
        assert sent_token(await client.get(ITEMS)) == "tok-2"


# -- transport safety ------------------------------------------------------------------------------


def test_plain_http_to_a_remote_host_is_refused() -> None:
    """Neither credentials nor a token go over http:// to a non-loopback host."""
    service = FakeService()
    auth = make_lifecycle(base_url="http://api.example/v1")
    with (
        httpx.Client(transport=service.transport(), auth=auth) as client,
        pytest.raises(InsecureTransportError, match="http://"),
    ):
        client.get("http://api.example/v1/items")
    assert service.logins == 0


@pytest.mark.anyio
async def test_async_plain_http_to_a_remote_host_is_refused() -> None:
    """The async flow refuses plain http to a remote host too."""
    service = FakeService()
    auth = make_lifecycle(base_url="http://api.example/v1")
    async with httpx.AsyncClient(transport=service.async_transport(), auth=auth) as client:
        with pytest.raises(InsecureTransportError):
            await client.get("http://api.example/v1/items")
    assert service.logins == 0


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "localhost", "[::1]"])
def test_plain_http_to_loopback_is_allowed(host: str) -> None:
    """Loopback hosts (127.0.0.0/8, ::1, localhost) may use plain http."""
    service = FakeService()
    base = f"http://{host}:8080/v1"
    auth = make_lifecycle(base_url=base)
    with httpx.Client(transport=service.transport(), auth=auth) as client:
        assert sent_token(client.get(f"{base}/items")) == "tok-1"


def test_allow_insecure_http_lifts_the_refusal() -> None:
    """``allow_insecure_http=True`` is the explicit opt-in for plain http to a remote host."""
    service = FakeService()
    auth = make_lifecycle(base_url="http://api.example/v1", allow_insecure_http=True)
    with httpx.Client(transport=service.transport(), auth=auth) as client:
        assert sent_token(client.get("http://api.example/v1/items")) == "tok-1"
