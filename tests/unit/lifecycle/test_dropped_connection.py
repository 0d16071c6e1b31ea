"""A keep-alive connection the server drops just as a request goes out: idempotent requests go again once.

Real sockets (tests/fault_server.py): the server answers, keeps the connection, then closes it on the
next request without a byte of answer — what a server's keep-alive timeout does when it fires as the
client reuses the pooled connection. httpx raises RemoteProtocolError("Server disconnected without
sending a response"); the retry layer sends a GET (or PUT, DELETE...) once more on a new connection,
never a POST, and never more than once.
"""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from token_lifecycle import AsyncRetryTransport, RetryPolicy, RetryTransport

from tests.fault_server import Action, FaultServer, Garbage, Reply, Reset, Seen

DROP = Garbage(b"")  # close the connection without a byte of answer


def _script(*actions: Action):
    """Answer the n-th request with the n-th action, then 200 for every later one."""
    queue = list(actions)

    def script(_: Seen) -> Action:
        return queue.pop(0) if queue else Reply(200, b"ok")

    return script


def _client(server: FaultServer) -> httpx.Client:
    return httpx.Client(base_url=server.url, transport=RetryTransport(httpx.HTTPTransport(), RetryPolicy().no_sleep()))


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("drop", [DROP, Reset()], ids=["closed", "reset"])
def test_an_idempotent_request_goes_again_once_on_a_new_connection(
    method: str, drop: Action, caplog: pytest.LogCaptureFixture
):
    with FaultServer(_script(Reply(200, b"first"), drop)) as server, _client(server) as client:
        assert client.get("/a").text == "first"  # the connection is now pooled
        with caplog.at_level(logging.INFO, logger="token_lifecycle.retry"):
            response = client.request(method, "/b", content=b"{}")
        assert response.status_code == 200
        assert [seen.method for seen in server.requests] == ["GET", method, method]
    [line] = [r.getMessage() for r in caplog.records if "again" in r.getMessage()]
    assert line.startswith(f"sending {method} {server.url}/b again: its connection dropped before an answer")


def test_a_post_is_never_sent_twice():
    with FaultServer(_script(Reply(200), DROP)) as server, _client(server) as client:
        client.get("/a")
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/orders", content=b"{}")
        assert [seen.method for seen in server.requests] == ["GET", "POST"]


def test_a_second_drop_is_raised():
    with FaultServer(_script(Reply(200), DROP, DROP)) as server, _client(server) as client:
        client.get("/a")
        with pytest.raises(httpx.RemoteProtocolError):
            client.get("/b")
        assert server.count("/b") == 2


def test_a_streaming_body_is_not_sent_again():
    def chunks():
        yield b"part"

    with FaultServer(_script(Reply(200), DROP)) as server, _client(server) as client:
        client.get("/a")
        with pytest.raises(httpx.RemoteProtocolError):
            client.put("/b", content=chunks())
        assert server.count("/b") == 1


def test_the_async_layer_does_the_same():
    async def run(server: FaultServer) -> list[int]:
        transport = AsyncRetryTransport(httpx.AsyncHTTPTransport(), RetryPolicy().no_sleep())
        async with httpx.AsyncClient(base_url=server.url, transport=transport) as client:
            first = await client.get("/a")
            second = await client.get("/b")
            with pytest.raises(httpx.RemoteProtocolError):
                await client.post("/c", content=b"{}")
            return [first.status_code, second.status_code]

    with FaultServer(_script(Reply(200), DROP, Reply(200), DROP)) as server:
        assert asyncio.run(run(server)) == [200, 200]
        assert [(seen.method, seen.path) for seen in server.requests] == [
            ("GET", "/a"),
            ("GET", "/b"),
            ("GET", "/b"),
            ("POST", "/c"),
        ]
