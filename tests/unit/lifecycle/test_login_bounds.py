"""Issue 13, item 1: a login that never answers must not block anyone forever.

Against a real loopback server (`tests.fault_server.FaultServer`) whose login hangs: the login has its
own deadline whatever the client's timeout, the callers waiting on it are released within one
attempt's bound plus a margin, and a process waiting on another process's `FileTokenStore` lock stops
waiting and logs in by itself. Every wait below is bounded by a join or ``wait_for`` timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from token_lifecycle import (
    LOGIN_TIMEOUT_SECONDS,
    Credentials,
    FileTokenStore,
    LoginError,
    TokenLifecycle,
)

from tests.fault_server import FaultServer, Hang, Reply, Seen
from tests.unit.lifecycle._support import query_login

RUNTIME = Path(__file__).resolve().parents[3] / "templates" / "runtime"
ROOT = Path(__file__).resolve().parents[3]

LOGIN = query_login(method="POST", username_in="form", password_in="form")
#: Small bounds: the tests never wait for a production-sized timeout.
LOGIN_TIMEOUT = 0.2
LOGIN_WAIT = 0.6
#: What a test allows a bounded call beyond its bound (loaded CI machines).
SLACK = 2.0


def _lifecycle(url: str, **kwargs: object) -> TokenLifecycle:
    options: dict[str, object] = {"login_timeout": LOGIN_TIMEOUT, "login_wait": LOGIN_WAIT, **kwargs}
    return TokenLifecycle(
        base_url=url,
        login=LOGIN,
        credentials=Credentials("alice", "s3cret-pw"),
        header_name="Authorization",
        scheme="Bearer",
        lifetime=3600.0,
        **options,  # type: ignore[arg-type]
    )


def _hung_login(seen: Seen) -> Reply | Hang:
    return Hang() if seen.path.startswith("/login") else Reply(200, b"ok")


def _run_threads(count: int, target: Callable[[], object], bound: float) -> tuple[list[object], float]:
    """Run ``target`` on ``count`` threads; return the outcomes and the longest wait (bounded joins)."""
    outcomes: list[object] = []
    longest = [0.0]
    lock = threading.Lock()

    def run() -> None:
        started = time.monotonic()
        try:
            outcome: object = target()
        except Exception as error:  # noqa: BLE001 - the outcome is what the test asserts
            outcome = error
        with lock:
            outcomes.append(outcome)
            longest[0] = max(longest[0], time.monotonic() - started)

    threads = [threading.Thread(target=run, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + bound
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    assert not any(thread.is_alive() for thread in threads), f"callers still blocked after {bound}s"
    return outcomes, longest[0]


def test_the_generated_clients_default_timeouts_are_finite() -> None:
    """httpx's ``timeout=None`` would wait forever: the generated clients default to finite bounds."""
    import fleet_notes_client.client
    import synthetic_classic_client.client

    for module in (synthetic_classic_client.client, fleet_notes_client.client):
        timeout = module.DEFAULT_TIMEOUT
        phases = (timeout.connect, timeout.read, timeout.write, timeout.pool)
        assert all(value is not None and 0 < value <= 60 for value in phases)
        client = module.AuthenticatedClient(base_url="https://api.example", token="tok-static")
        assert client.get_httpx_client().timeout == timeout
        plain = module.Client(base_url="https://api.example")
        assert plain.get_httpx_client().timeout == timeout
        # ``timeout=None`` still means "none", as in httpx.
        unbounded = module.Client(base_url="https://api.example", timeout=None)
        assert unbounded.get_httpx_client().timeout == httpx.Timeout(None)


def test_a_hung_login_releases_every_thread_within_its_bound() -> None:
    """The client has no timeout at all; the login hangs; 16 threads are all released in time, 1 login."""
    with FaultServer(_hung_login) as server:
        lifecycle = _lifecycle(server.url)
        with httpx.Client(auth=lifecycle, timeout=None) as client:  # noqa: S113 - no call timeout: the login's own bound is tested
            outcomes, longest = _run_threads(16, lambda: client.get(f"{server.url}/items"), bound=LOGIN_WAIT + SLACK)
        assert server.count("/login") == 1
    assert longest < LOGIN_WAIT + SLACK
    timeouts = [o for o in outcomes if isinstance(o, httpx.TimeoutException)]
    shared = [o for o in outcomes if isinstance(o, LoginError)]
    assert len(timeouts) + len(shared) == 16, outcomes
    assert len(timeouts) >= 1
    for error in shared:
        assert "did not complete: ReadTimeout" in str(error)
        assert "s3cret-pw" not in str(error)


def test_the_login_deadline_applies_whatever_the_calls_timeout() -> None:
    """A generous call timeout (600 s, openai-python's) does not stretch the login: it gets login_timeout."""
    with FaultServer(_hung_login) as server:
        lifecycle = _lifecycle(server.url)
        with httpx.Client(auth=lifecycle, timeout=httpx.Timeout(600.0)) as client:
            started = time.monotonic()
            outcomes, _ = _run_threads(1, lambda: client.get(f"{server.url}/items"), bound=LOGIN_TIMEOUT + SLACK)
            elapsed = time.monotonic() - started
    assert isinstance(outcomes[0], httpx.ReadTimeout)
    assert elapsed < LOGIN_TIMEOUT + SLACK


def test_the_default_login_timeout_is_a_documented_finite_bound() -> None:
    """A lifecycle built without bounds still bounds its login, and its waiters at two attempts plus a margin."""
    lifecycle = TokenLifecycle(
        base_url="https://api.example",
        login=LOGIN,
        credentials=Credentials("alice", "pw"),
        header_name="Authorization",
        scheme="Bearer",
        lifetime=3600.0,
    )
    assert 0 < LOGIN_TIMEOUT_SECONDS <= 30
    assert 2 * LOGIN_TIMEOUT_SECONDS < lifecycle.login_wait <= 2 * LOGIN_TIMEOUT_SECONDS + 5


@pytest.mark.anyio
async def test_a_hung_login_releases_every_task_within_its_bound() -> None:
    """The async flow: 64 tasks, no client timeout, a login that never answers; all released, 1 login."""
    with FaultServer(_hung_login) as server:
        lifecycle = _lifecycle(server.url)
        async with httpx.AsyncClient(auth=lifecycle, timeout=None) as client:  # noqa: S113 - no call timeout: the login's own bound is tested
            started = time.monotonic()
            outcomes = await asyncio.wait_for(
                asyncio.gather(*(client.get(f"{server.url}/items") for _ in range(64)), return_exceptions=True),
                LOGIN_WAIT + SLACK,
            )
            elapsed = time.monotonic() - started
        assert server.count("/login") == 1
    assert elapsed < LOGIN_WAIT + SLACK
    assert all(isinstance(o, httpx.TimeoutException | LoginError) for o in outcomes), outcomes


def test_a_waiter_gives_up_on_a_login_that_outlives_login_wait() -> None:
    """The first caller's own login may take long (a generous login_timeout); the others wait login_wait only."""
    with FaultServer(_hung_login) as server:
        lifecycle = _lifecycle(server.url, login_timeout=30.0)
        with httpx.Client(auth=lifecycle, timeout=None) as client:  # noqa: S113 - no call timeout: the login's own bound is tested
            first = threading.Thread(target=lambda: _ignore(lambda: client.get(f"{server.url}/items")), daemon=True)
            first.start()
            _wait_until(lambda: server.count("/login") == 1)
            outcomes, longest = _run_threads(4, lambda: client.get(f"{server.url}/items"), bound=LOGIN_WAIT + SLACK)
            server.release()  # the hung login ends (the connection closes without an answer)
            first.join(SLACK)
            assert not first.is_alive()
        assert server.count("/login") == 1
    assert longest < LOGIN_WAIT + SLACK
    assert all(isinstance(o, LoginError) and "gave up waiting" in str(o) for o in outcomes), outcomes


@pytest.mark.anyio
async def test_a_task_gives_up_on_a_login_that_outlives_login_wait() -> None:
    """The async flow's waiters give up after login_wait too."""
    with FaultServer(_hung_login) as server:
        lifecycle = _lifecycle(server.url, login_timeout=30.0)
        async with httpx.AsyncClient(auth=lifecycle, timeout=None) as client:  # noqa: S113 - no call timeout: the login's own bound is tested
            first = asyncio.create_task(client.get(f"{server.url}/items"))
            await asyncio.wait_for(_async_wait_until(lambda: server.count("/login") == 1), SLACK)
            started = time.monotonic()
            outcomes = await asyncio.wait_for(
                asyncio.gather(*(client.get(f"{server.url}/items") for _ in range(4)), return_exceptions=True),
                LOGIN_WAIT + SLACK,
            )
            elapsed = time.monotonic() - started
            server.release()
            await asyncio.wait_for(asyncio.gather(first, return_exceptions=True), SLACK)
    assert elapsed < LOGIN_WAIT + SLACK
    assert all(isinstance(o, LoginError) and "gave up waiting" in str(o) for o in outcomes), outcomes


_PEER = textwrap.dedent(
    """
    import sys

    import httpx
    from token_lifecycle import Credentials, FileTokenStore, LoginCall, TokenLifecycle

    url, path = sys.argv[1], sys.argv[2]
    login = LoginCall(method="POST", path="/login", username_in="form", username_name="user",
                      password_in="form", password_name="password", token_from="body")
    lifecycle = TokenLifecycle(base_url=url, login=login, credentials=Credentials("alice", "s3cret-pw"),
                               header_name="Authorization", scheme="Bearer", lifetime=3600.0,
                               store=FileTokenStore(path), login_timeout=120.0)
    with httpx.Client(auth=lifecycle, timeout=None) as client:
        client.get(url + "/items")  # its login hangs, holding the store's lock
    """
)


def _login_hangs_first(server: FaultServer) -> Callable[[Seen], Reply | Hang]:
    def script(seen: Seen) -> Reply | Hang:
        if not seen.path.startswith("/login"):
            return Reply(200, b"ok")
        return Hang() if server.count("/login") == 1 else Reply(200, b"tok-of-the-second-process")

    return script


@contextlib.contextmanager
def _peer_process(server: FaultServer, path: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Another process sharing the token file ``path``, its login hanging on ``server``; killed at the end."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(RUNTIME), os.environ.get("PYTHONPATH", "")])}
    with log.open("wb") as stderr:
        peer = subprocess.Popen(
            [sys.executable, "-c", _PEER, server.url, str(path)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        yield peer
    finally:
        peer.kill()
        peer.wait(SLACK)


def test_a_process_stops_waiting_for_a_hung_peers_store_lock_and_logs_in(tmp_path: Path) -> None:
    """Two processes share a token file; the first one's login hangs; the second logs in by itself in time."""
    path = tmp_path / "token.json"
    with FaultServer(lambda seen: Reply(200, b"ok")) as server:
        server.script(_login_hangs_first(server))
        log = tmp_path / "peer.log"
        with _peer_process(server, path, log) as peer:
            _wait_until(lambda: server.count("/login") == 1 or peer.poll() is not None, bound=30.0)
            assert peer.poll() is None, log.read_text()
            store = FileTokenStore(path)
            with store.lock(blocking=False) as free:
                assert not free  # the peer holds the lock while its login hangs
            lifecycle = _lifecycle(server.url, store=store)
            with httpx.Client(auth=lifecycle, timeout=None) as client:  # noqa: S113 - no call timeout: the login's own bound is tested
                outcomes, longest = _run_threads(
                    1, lambda: client.get(f"{server.url}/items"), bound=LOGIN_WAIT + LOGIN_TIMEOUT + SLACK
                )
    response = outcomes[0]
    assert isinstance(response, httpx.Response), response
    assert response.status_code == 200
    assert response.request.headers["Authorization"] == "Bearer tok-of-the-second-process"
    assert longest < LOGIN_WAIT + LOGIN_TIMEOUT + SLACK
    assert server.count("/login") == 2
    assert lifecycle.stats.logins == 1


def _ignore(call: Callable[[], object]) -> None:
    with contextlib.suppress(Exception):  # the hung caller's own outcome is not what the test checks
        call()


def _wait_until(condition: Callable[[], bool], bound: float = SLACK) -> None:
    deadline = time.monotonic() + bound
    while not condition():
        assert time.monotonic() < deadline, "the condition did not become true in time"
        time.sleep(0.01)


async def _async_wait_until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.01)


def test_a_generated_client_bounds_its_hung_login_with_no_call_timeout() -> None:
    """``AuthenticatedClient(timeout=None, login_timeout=...)``: the generated client's login is bounded too."""
    import synthetic_classic_client
    from synthetic_classic_client.api.tests import list_tests

    with FaultServer(lambda seen: Hang()) as server:
        client = synthetic_classic_client.AuthenticatedClient(
            base_url=server.url,
            credentials=synthetic_classic_client.Credentials(username="demo", password="s3cret-pw"),
            timeout=None,
            login_timeout=LOGIN_TIMEOUT,
            login_wait=LOGIN_WAIT,
        )
        assert client.with_headers({"X-Test": "1"}).lifecycle is client.lifecycle
        with client:
            outcomes, longest = _run_threads(8, lambda: list_tests.sync(client=client), bound=LOGIN_WAIT + SLACK)
        assert server.count("/") == 1  # one login, never answered; no call went out
    assert longest < LOGIN_WAIT + SLACK
    assert all(isinstance(o, httpx.TimeoutException | synthetic_classic_client.LoginError) for o in outcomes)


@pytest.mark.anyio
async def test_an_async_process_stops_waiting_for_a_hung_peers_store_lock(tmp_path: Path) -> None:
    """The async flow polls the token file's lock: it too stops after login_wait and logs in by itself."""
    path = tmp_path / "token.json"
    with FaultServer(lambda seen: Reply(200, b"ok")) as server:
        server.script(_login_hangs_first(server))
        log = tmp_path / "peer.log"
        with _peer_process(server, path, log) as peer:
            await asyncio.wait_for(
                _async_wait_until(lambda: server.count("/login") == 1 or peer.poll() is not None), 30.0
            )
            assert peer.poll() is None, log.read_text()
            lifecycle = _lifecycle(server.url, store=FileTokenStore(path))
            async with httpx.AsyncClient(auth=lifecycle, timeout=None) as client:  # noqa: S113 - the login's own bound
                started = time.monotonic()
                response = await asyncio.wait_for(client.get(f"{server.url}/items"), LOGIN_WAIT + LOGIN_TIMEOUT + SLACK)
                elapsed = time.monotonic() - started
    assert response.request.headers["Authorization"] == "Bearer tok-of-the-second-process"
    assert LOGIN_WAIT <= elapsed < LOGIN_WAIT + LOGIN_TIMEOUT + SLACK
    assert server.count("/login") == 2


@pytest.mark.anyio
async def test_a_cancelled_login_does_not_fail_its_waiters() -> None:
    """The task logging in is cancelled: the tasks waiting on it are not failed, one of them logs in."""
    with FaultServer(lambda seen: Reply(200, b"ok")) as server:
        server.script(_login_hangs_first(server))
        lifecycle = _lifecycle(server.url, login_timeout=30.0, login_wait=10.0)
        async with httpx.AsyncClient(auth=lifecycle, timeout=None) as client:  # noqa: S113 - the login's own bound
            first = asyncio.create_task(client.get(f"{server.url}/items"))
            await asyncio.wait_for(_async_wait_until(lambda: server.count("/login") == 1), SLACK)
            waiters = [asyncio.create_task(client.get(f"{server.url}/items")) for _ in range(4)]
            await asyncio.sleep(0.05)  # the waiters queue on the login
            first.cancel()
            responses = await asyncio.wait_for(asyncio.gather(*waiters), SLACK)
            server.release()
    assert [r.request.headers["Authorization"] for r in responses] == ["Bearer tok-of-the-second-process"] * 4
    assert server.count("/login") == 2
