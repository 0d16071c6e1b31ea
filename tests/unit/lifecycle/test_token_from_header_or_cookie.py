"""A login whose answer carries the token in a response header or a cookie (token_from + token_name)."""

from __future__ import annotations

import httpx
import pytest
from token_lifecycle import Credentials, LoginCall, LoginError, TokenLifecycle, TokenPlacement

from ._support import FakeClock

API = "https://api.example/v1"


def login(token_from: str, name: str) -> LoginCall:
    return LoginCall(
        method="POST",
        path="/session",
        username_in="json",
        username_name="user",
        password_in="json",
        password_name="password",
        token_from=token_from,  # type: ignore[arg-type]
        token_name=name,
    )


def run(call: LoginCall, answer: httpx.Response, placement: TokenPlacement) -> list[httpx.Request]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer if request.url.path == "/v1/session" else httpx.Response(200)

    auth = TokenLifecycle(
        base_url=API,
        login=call,
        credentials=Credentials("alice", "pw"),
        placement=placement,
        lifetime=600.0,
        clock=FakeClock(),
        logger_name="tests.lifecycle.auth",
    )
    with httpx.Client(auth=auth, transport=httpx.MockTransport(handler)) as client:
        client.get(f"{API}/items")
    return seen


def test_the_token_of_a_response_header() -> None:
    answer = httpx.Response(204, headers={"X-Subject-Token": "tok-h"})
    _, api = run(login("header", "X-Subject-Token"), answer, TokenPlacement("header", "X-Auth-Token", "{token}"))
    assert api.headers["X-Auth-Token"] == "tok-h"


def test_the_token_of_a_cookie() -> None:
    answer = httpx.Response(200, headers={"Set-Cookie": "session=tok-c; Path=/; HttpOnly"})
    _, api = run(login("cookie", "session"), answer, TokenPlacement("cookie", "session", "{token}"))
    assert "session=tok-c" in api.headers["Cookie"]


@pytest.mark.parametrize(
    "answer",
    [httpx.Response(200), httpx.Response(200, headers={"X-Subject-Token": "two words"})],
)
def test_a_missing_or_malformed_header_is_a_login_error(answer: httpx.Response) -> None:
    with pytest.raises(LoginError, match="header 'X-Subject-Token' is not a token"):
        run(login("header", "X-Subject-Token"), answer, TokenPlacement())
