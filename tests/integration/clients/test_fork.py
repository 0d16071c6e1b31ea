"""Issue 13 item 4: a generated client survives ``os.fork()`` — fresh locks, fresh connections, same token.

Against a real loopback server (`FaultServer`), with a real ``os.fork()``:

- a fork while another thread is logging in (its login hangs on the server, so it holds the login
  lock at fork time) used to leave the child waiting forever on that lock;
- a fork after a login used to leave parent and child on the same pooled keep-alive connection,
  reading each other's answers.

Every wait on the child is bounded; a child still running at the bound is killed and the test fails.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import synthetic_classic_client

from tests.fault_server import FaultServer, Hang, Reply, Seen
from tests.integration.simulator._support import Simulator

from ._apis import Api

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or sys.platform != "linux", reason="os.fork on Linux")

CHILD_BOUND_SECONDS = 10.0
"""How long a child may take to make its calls (it takes milliseconds when it works)."""


@contextmanager
def forked(work: Callable[[], object], *, bound: float = CHILD_BOUND_SECONDS) -> Iterator[Callable[[], object]]:
    """Fork; the child runs ``work`` and sends back its JSON result. Yields a function that waits for it.

    The parent's code inside the ``with`` runs while the child works. Waiting is bounded: a child that
    has not answered within ``bound`` seconds is killed and the wait raises AssertionError.
    """
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns that forking a multi-threaded process may deadlock: that is what we test.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            os.close(read_end)
            try:
                result: object = {"ok": work()}
            except Exception as exc:  # noqa: BLE001 - reported to the parent, which asserts
                result = {"error": f"{type(exc).__name__}: {exc}"}
            os.write(write_end, json.dumps(result).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    answer: list[object] = []
    reaped = False

    def reap(kill: bool) -> None:
        nonlocal reaped
        if not reaped:
            if kill:
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            reaped = True

    def wait() -> object:
        if not answer:
            ready, _, _ = select.select([read_end], [], [], bound)
            data = b""
            if ready:
                while chunk := os.read(read_end, 65536):
                    data += chunk
            if not data:
                reap(kill=True)
                raise AssertionError(f"the forked child gave no answer within {bound} s (hung?)")
            reap(kill=False)
            answer.append(json.loads(data))
        return answer[0]

    try:
        yield wait
    finally:
        reap(kill=True)
        os.close(read_end)


def _client(server: FaultServer, **kwargs: object) -> synthetic_classic_client.AuthenticatedClient:
    credentials = synthetic_classic_client.Credentials(username="demo", password="demo-password")
    return synthetic_classic_client.AuthenticatedClient(
        base_url=server.url, credentials=credentials, timeout=httpx.Timeout(CHILD_BOUND_SECONDS), **kwargs
    )


def test_a_fork_while_another_thread_is_logging_in_leaves_the_child_able_to_call() -> None:
    """The parent's login hangs in a thread (holding the login lock); the forked child logs in and calls."""
    login_started = threading.Event()
    logins = iter(range(100))

    def script(seen: Seen) -> Reply | Hang:
        if seen.path.startswith("/login"):
            if next(logins) == 0:
                login_started.set()
                return Hang()  # the parent's login: held until the test releases the server
            return Reply(200, b"child-token")
        return Reply(200, seen.headers.get("authentication", "").encode())

    with FaultServer(script) as server, _client(server) as client:
        errors: list[BaseException] = []

        def parent_call() -> None:
            try:
                client.get_httpx_client().get("/tests")
            except httpx.HTTPError as exc:  # the hung login ends when the server is released
                errors.append(exc)

        thread = threading.Thread(target=parent_call, daemon=True)
        thread.start()
        try:
            assert login_started.wait(CHILD_BOUND_SECONDS), "the parent's login never reached the server"

            def child() -> object:
                response = client.get_httpx_client().get("/tests")
                return [response.status_code, response.text]

            with forked(child) as wait:
                assert wait() == {"ok": [200, "bearer child-token"]}
        finally:
            server.release()
            thread.join(CHILD_BOUND_SECONDS)
        assert not thread.is_alive(), "the parent's hung login ends when the server lets go"
        # Let go, the server closes the hung connection without an answer: the retry layer sends the
        # (idempotent, GET) login once more, which is answered, so the parent's call succeeds too.
        assert errors == []
        assert server.count("/login") == 3  # the parent's hung one and its resend, and the child's own


def test_a_fork_after_a_login_gives_the_child_its_own_connections_and_the_same_token() -> None:
    """Parent and child call at once: each gets its own answer, over its own connection; one login in all.

    The server answers a call only when both calls have arrived (a barrier): two requests queued on
    one shared keep-alive connection can never meet there, so sharing fails the test instead of
    racing.
    """
    barrier = threading.Barrier(2, timeout=2.0)

    def script(seen: Seen) -> Reply:
        if seen.path.startswith("/login"):
            return Reply(200, b"the-token")
        if seen.path.startswith("/warm-up"):
            return Reply(200, b"warm")
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            return Reply(500, b"the other call never arrived on its own connection")
        who = seen.headers.get("x-who", "")
        return Reply(200, f"{who} {seen.headers.get('authentication', '')}".encode())

    with FaultServer(script) as server, _client(server) as client:
        assert client.get_httpx_client().get("/warm-up").text == "warm"  # logs in; the connection is pooled
        assert server.count("/login") == 1

        def child() -> object:
            response = client.get_httpx_client().get("/call", headers={"X-Who": "child"})
            return [response.status_code, response.text, client.lifecycle.stats.logins]

        with forked(child) as wait:
            response = client.get_httpx_client().get("/call", headers={"X-Who": "parent"})
            assert (response.status_code, response.text) == (200, "parent bearer the-token")
            assert wait() == {"ok": [200, "child bearer the-token", 1]}
        assert server.count("/login") == 1, "the child kept the parent's token: no second login"


def test_a_forked_child_keeps_the_token_against_the_simulator(api: Api, sim: Simulator) -> None:
    """A pre-fork server's worker uses the parent's token: one login on the simulator in all."""
    with api.client(sim.url, "demo", "demo-password") as client:
        assert isinstance(api.call(client), api.listed)

        def child() -> object:
            return type(api.call(client)).__name__

        with forked(child) as wait:
            assert isinstance(api.call(client), api.listed)
            assert wait() == {"ok": api.listed.__name__}
    assert sim.control("GET", "stats")["logins"]["total"] == 1


def test_a_child_forked_during_a_login_adopts_that_login_through_a_shared_file_store(tmp_path: Path) -> None:
    """Fork while the parent logs in, with a FileTokenStore: the child waits for that login and uses its token."""
    login_started, answer_login = threading.Event(), threading.Event()

    def script(seen: Seen) -> Reply:
        if seen.path.startswith("/login"):
            login_started.set()
            answer_login.wait(CHILD_BOUND_SECONDS)  # the parent's login, in flight at the fork
            return Reply(200, b"the-parents-token")
        return Reply(200, seen.headers.get("authentication", "").encode())

    store = synthetic_classic_client.FileTokenStore(tmp_path / "token.json")
    with FaultServer(script) as server, _client(server, token_store=store) as client:
        calls: list[str] = []
        thread = threading.Thread(target=lambda: calls.append(client.get_httpx_client().get("/tests").text))
        thread.start()
        try:
            assert login_started.wait(CHILD_BOUND_SECONDS)

            def child() -> object:
                response = client.get_httpx_client().get("/tests")
                return [response.text, client.lifecycle.stats.store_hits]

            with forked(child) as wait:
                answer_login.set()
                assert wait() == {"ok": ["bearer the-parents-token", 1]}
        finally:
            answer_login.set()
            thread.join(CHILD_BOUND_SECONDS)
        assert calls == ["bearer the-parents-token"]
        assert server.count("/login") == 1, "one login for parent and child"
