"""The scripted fault server does what fault tests rely on, over real sockets."""

from __future__ import annotations

import httpx
import pytest

from tests.fault_server import Garbage, Hang, Reply, Reset, Seen, serving


def _by_path(seen: Seen) -> Reply | Hang | Reset | Garbage:
    return {
        "/ok": Reply(201, b"hello", {"X-Test": "1"}),
        "/hang": Hang(),
        "/reset": Reset(),
        "/garbage": Garbage(),
    }[seen.path.split("?")[0]]


def test_replies_and_records_what_it_received() -> None:
    """A scripted reply arrives as written, and the request is recorded with its headers and body."""
    with serving(_by_path) as server, httpx.Client(base_url=server.url, timeout=5) as client:
        response = client.post("/ok?a=1", content=b"body", headers={"X-Mine": "yes"})
        assert (response.status_code, response.content, response.headers["x-test"]) == (201, b"hello", "1")
        (seen,) = server.requests
        assert (seen.method, seen.path, seen.headers["x-mine"], seen.body) == ("POST", "/ok?a=1", "yes", b"body")
        assert server.count("/ok") == 1
        assert server.count("/hang") == 0


def test_a_hang_is_a_read_timeout_for_the_client() -> None:
    """The server reads the request and never answers."""
    with (
        serving(_by_path) as server,
        httpx.Client(base_url=server.url, timeout=0.2) as client,
        pytest.raises(httpx.ReadTimeout),
    ):
        client.get("/hang")


@pytest.mark.parametrize(("path", "error"), [("/reset", httpx.TransportError), ("/garbage", httpx.RemoteProtocolError)])
def test_a_reset_or_garbage_is_a_transport_error(path: str, error: type[Exception]) -> None:
    """A TCP reset and bytes that are not HTTP fail the request at the transport."""
    with serving(_by_path) as server, httpx.Client(base_url=server.url, timeout=5) as client, pytest.raises(error):
        client.get(path)


def test_the_script_can_change_between_requests() -> None:
    """A test can make the same path answer differently from one moment to the next."""
    with serving(lambda _: Reply(200, b"first")) as server, httpx.Client(base_url=server.url, timeout=5) as client:
        assert client.get("/").content == b"first"
        server.script(lambda _: Reply(503))
        assert client.get("/").status_code == 503
