"""Issue 13, item 7: a login answer that cannot be a token is refused, against real loopback servers.

A 200 with an HTML page, a JSON error object, a 10 MB body, or the body of another origin reached by
a followed redirect used to be taken as the token (a 10 MB header was then sent twice). Each is now a
`LoginError` that quotes nothing of the body; a 10 MB answer is not read past the bound; and a 401
from another origin after a followed redirect leaves the valid token alone.
"""

from __future__ import annotations

import itertools
import traceback
import tracemalloc
from collections.abc import Callable, Iterator

import httpx
import pytest
import token_lifecycle
from synthetic_classic_client import AuthenticatedClient, Credentials, LoginError
from token_lifecycle import MANDATORY_REFRESH_SECONDS, TokenLifecycle

from tests.fault_server import Action, FaultServer, Garbage, Reply, Seen, serving
from tests.unit.lifecycle._support import query_login

USERNAME, PASSWORD = "alice", "pw-untrusted-0077"
TEN_MB = 10 * 1024 * 1024
#: What the client may allocate while refusing a 10 MB answer (it reads at most 64 KiB of it).
MEMORY_BOUND = 2 * 1024 * 1024
SECRET_LOOKING = "sk-live-4f9a8b7c6d5e"


def _service(login_reply: Callable[[Seen], Action]) -> Callable[[Seen], Action]:
    """Answer logins with ``login_reply``; accept calls that carry a token it issued as 'tok-N'."""

    def script(seen: Seen) -> Action:
        if seen.path.startswith("/login"):
            return login_reply(seen)
        if seen.headers.get("authentication", "").startswith("bearer tok-"):
            return Reply(200, b"[]", {"Content-Type": "application/json"})
        return Reply(401, b'{"message": "no token"}', {"Content-Type": "application/json"})

    return script


def _client(url: str, **options: object) -> AuthenticatedClient:
    return AuthenticatedClient(url, credentials=Credentials(USERNAME, PASSWORD), timeout=httpx.Timeout(5.0), **options)  # type: ignore[arg-type]


def _refused(server: FaultServer, **options: object) -> LoginError:
    with _client(server.url, **options) as client, pytest.raises(LoginError) as caught:
        client.get_httpx_client().get("/tests")
    assert server.count("/tests") == 0  # no call left with whatever the login answered
    return caught.value


BAD_ANSWERS = {
    "html page": Reply(
        200, f"<html><body>Welcome {SECRET_LOOKING}</body></html>".encode(), {"Content-Type": "text/html"}
    ),
    "html without content type": Reply(200, f"<html><p>{SECRET_LOOKING}</p></html>".encode()),
    "json error object": Reply(
        200, f'{{"error":"account_locked","hint":"{SECRET_LOOKING}"}}'.encode(), {"Content-Type": "application/json"}
    ),
    "json array": Reply(200, f'["{SECRET_LOOKING}"]'.encode()),
    "token over 16 KiB": Reply(200, b"t" * (16 * 1024 + 1)),
}


@pytest.mark.parametrize("answer", BAD_ANSWERS.values(), ids=BAD_ANSWERS.keys())
def test_a_200_login_that_is_not_a_token_is_a_login_error_quoting_nothing(answer: Reply) -> None:
    """The page or the error object is not sent as a token; the message names the user, not the body."""
    with serving(_service(lambda _seen: answer)) as server:
        error = _refused(server)
    text = "".join(traceback.format_exception(error))
    assert "not a token" in text
    assert SECRET_LOOKING not in text
    assert "<html" not in text
    assert "account_locked" not in text


def test_a_10_mb_login_answer_is_refused_without_reading_it() -> None:
    """Content-Length says 10 MB: refused before a byte of the body is read, memory stays small."""
    body = b"A" * TEN_MB
    with serving(_service(lambda _seen: Reply(200, body))) as server:
        tracemalloc.start()
        try:
            error = _refused(server)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert "more than 65536 bytes" in str(error)
    assert peak < MEMORY_BOUND, f"peak {peak} bytes while refusing a 10 MB login answer"


def _chunked(total: int, chunk: int = 64 * 1024) -> bytes:
    """A raw HTTP/1.1 200 with a chunked body of ``total`` bytes and no Content-Length."""
    piece = f"{chunk:x}\r\n".encode() + b"B" * chunk + b"\r\n"
    return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + piece * (total // chunk) + b"0\r\n\r\n"


def test_a_10_mb_chunked_login_answer_is_read_only_up_to_the_bound() -> None:
    """No Content-Length to go by: the body is read up to 64 KiB and then refused."""
    raw = _chunked(TEN_MB)
    with serving(_service(lambda _seen: Garbage(raw))) as server:
        tracemalloc.start()
        try:
            error = _refused(server)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert "more than 65536 bytes" in str(error)
    assert peak < MEMORY_BOUND, f"peak {peak} bytes while refusing a 10 MB chunked login answer"


@pytest.fixture
def elsewhere() -> Iterator[FaultServer]:
    """Another origin, which answers every request with something token-shaped."""
    with serving(lambda _seen: Reply(200, b"tok-from-elsewhere")) as server:
        yield server


def test_a_login_redirected_to_another_origin_is_not_followed(elsewhere: FaultServer) -> None:
    """307 to another origin: the generated client refuses before sending anything there."""
    with serving(_service(lambda _seen: Reply(307, b"", {"Location": f"{elsewhere.url}/token"}))) as server:
        error = _refused(server, follow_redirects=True)
    assert "another origin" in str(error)
    assert elsewhere.requests == []


def test_without_the_guard_the_other_origins_answer_is_still_not_the_token(elsewhere: FaultServer) -> None:
    """A bare httpx client (no event hooks) follows the redirect; its answer is refused all the same."""
    login = query_login()
    with serving(_service(lambda _seen: Reply(307, b"", {"Location": f"{elsewhere.url}/token"}))) as server:
        lifecycle = TokenLifecycle(
            base_url=server.url,
            login=login,
            credentials=token_lifecycle.Credentials(USERNAME, PASSWORD),
            header_name="Authentication",
            scheme="bearer",
            lifetime=3600.0,
            logger_name="tests.login_untrusted.auth",
        )
        with (
            httpx.Client(base_url=server.url, auth=lifecycle, follow_redirects=True, timeout=5) as client,
            pytest.raises(token_lifecycle.LoginError, match="another origin"),
        ):
            client.get("/tests")
        assert server.count("/tests") == 0
    assert lifecycle.stats.logins == 0
    assert lifecycle.stats.failed_logins == 1


def test_a_401_from_another_origin_after_a_redirect_keeps_the_valid_token() -> None:
    """The service redirects one call elsewhere, which answers 401: the caller gets it, the token stays."""
    serials = itertools.count(1)
    with serving(lambda _seen: Reply(401, b'{"message": "who are you"}')) as foreign:

        def service(seen: Seen) -> Action:
            if seen.path.startswith("/login"):
                return Reply(200, f"tok-{next(serials)}".encode())
            if seen.path.startswith("/moved"):
                return Reply(302, b"", {"Location": f"{foreign.url}/elsewhere"})
            if seen.headers.get("authentication") == "bearer tok-1":
                return Reply(200, b"[]")
            return Reply(401, b"{}")

        with serving(service) as server, _client(server.url, follow_redirects=True) as client:
            http = client.get_httpx_client()
            assert http.get("/tests").status_code == 200
            assert http.get("/moved").status_code == 401  # the other origin's answer, as is
            assert http.get("/tests").status_code == 200  # still tok-1: no second login
            assert server.count("/login") == 1
            assert client.lifecycle.stats.invalidations == 0
            assert foreign.count("/elsewhere") == 1


@pytest.mark.anyio
async def test_async_a_10_mb_chunked_login_answer_is_read_only_up_to_the_bound() -> None:
    """The async flow reads through the same bound."""
    raw = _chunked(TEN_MB)
    with serving(_service(lambda _seen: Garbage(raw))) as server:
        async with _client(server.url) as client:
            with pytest.raises(LoginError, match="more than 65536 bytes"):
                await client.get_async_httpx_client().get("/tests")
        assert server.count("/tests") == 0


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_10_mb_answer_to_an_advisory_refresh_keeps_the_current_token(chunked: bool) -> None:
    """The refresh fails quietly and the call goes on with the current token; the 10 MB are not read."""
    serials = itertools.count(1)

    def first_logins(seen: Seen) -> Action:
        return Reply(200, f"tok-{next(serials)}".encode())

    script = {"login": first_logins}
    with serving(_service(lambda seen: script["login"](seen))) as server:
        clock = _Clock()
        with _client(server.url, clock=clock) as client:
            http = client.get_httpx_client()
            assert http.get("/tests").status_code == 200
            big: Action = Garbage(_chunked(TEN_MB)) if chunked else Reply(200, b"A" * TEN_MB)  # built before tracing
            script["login"] = lambda _seen: big
            # Inside the advisory window (one minute before it turns mandatory): one caller refreshes.
            clock.now += 18 * 3600.0 - MANDATORY_REFRESH_SECONDS - 60.0
            tracemalloc.start()
            try:
                assert http.get("/tests").status_code == 200
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            stats = client.lifecycle.stats
    assert server.count("/login") == 2
    assert (stats.logins, stats.failed_logins) == (1, 1)
    assert peak < MEMORY_BOUND, f"peak {peak} bytes during a refused advisory refresh"
