"""TokenPlacement: a token travels in a header, a query parameter or a cookie, in the value the scheme says."""

from __future__ import annotations

import logging

import httpx
import pytest
from token_lifecycle import TokenLifecycle, TokenPlacement, TokenRejectedError

from ._support import FakeClock

API = "https://api.example/v1"


def _sent(placement: TokenPlacement, token: str = "abc", **request: object) -> httpx.Request:
    built = httpx.Request("GET", f"{API}/items", **request)  # type: ignore[arg-type]
    placement.apply(built, token)
    return built


@pytest.mark.parametrize(
    ("template", "value"),
    [
        ("{token}", "abc"),
        ("Bearer {token}", "Bearer abc"),
        ("bearer {token}", "bearer abc"),
        ("Token token={token}", "Token token=abc"),
        ("Basic {token}", "Basic abc"),
    ],
)
def test_a_header_carries_the_filled_template(template: str, value: str) -> None:
    assert _sent(TokenPlacement("header", "Authorization", template)).headers["Authorization"] == value


def test_a_query_parameter_carries_the_token_and_keeps_the_other_parameters() -> None:
    request = _sent(TokenPlacement("query", "api_key", "{token}"), params={"page": "2"})
    assert request.url.params["api_key"] == "abc"
    assert request.url.params["page"] == "2"
    assert "Authorization" not in request.headers


def test_a_cookie_carries_the_token_beside_the_other_cookies() -> None:
    request = _sent(TokenPlacement("cookie", "session", "{token}"), headers={"Cookie": "theme=dark"})
    assert request.headers["Cookie"] == "theme=dark; session=abc"


@pytest.mark.parametrize(
    ("placement", "read"),
    [
        (TokenPlacement("header", "X-Key", "{token}"), lambda r: r.headers.get_list("X-Key")),
        (TokenPlacement("query", "key", "{token}"), lambda r: r.url.params.get_list("key")),
        (TokenPlacement("cookie", "key", "{token}"), lambda r: [r.headers["Cookie"]]),
    ],
)
def test_a_second_token_replaces_the_first_as_in_a_replay(placement: TokenPlacement, read: object) -> None:
    request = _sent(placement, "old")
    placement.apply(request, "new")
    values = read(request)  # type: ignore[operator]
    assert values in (["new"], ["key=new"])


@pytest.mark.parametrize(
    "arguments",
    [
        {"template": "Bearer"},
        {"template": "{token} {token}"},
        {"template": "x\r\n{token}"},
        {"location": "body"},
        {"name": ""},
        {"name": "a b"},
    ],
)
def test_a_placement_that_cannot_carry_a_token_is_refused(arguments: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=r"template|location|name"):
        TokenPlacement(**arguments)  # type: ignore[arg-type]


def test_header_builds_the_placement_of_the_older_header_and_scheme_pair() -> None:
    assert TokenPlacement.header("Authentication", "bearer") == TokenPlacement(
        "header", "Authentication", "bearer {token}"
    )
    assert TokenPlacement.header("X-Key", None).template == "{token}"


def test_a_token_in_the_query_string_never_reaches_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    """httpx logs each request's URL at INFO: the lifecycle's redaction hides the key in it."""
    caplog.set_level(logging.DEBUG)
    key = "CanaryQUERYKEY123"
    lifecycle = TokenLifecycle(
        base_url=API,
        login=None,
        token=key,
        placement=TokenPlacement("query", "api_key", "{token}"),
        lifetime=60.0,
        clock=FakeClock(),
        logger_name="tests.lifecycle.auth",
    )
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(401)

    with (
        httpx.Client(auth=lifecycle, transport=httpx.MockTransport(handler)) as client,
        pytest.raises(TokenRejectedError) as raised,
    ):
        client.get(f"{API}/items")
    assert seen == [f"{API}/items?api_key={key}"]
    assert "HTTP Request" in caplog.text
    assert key not in caplog.text
    assert key not in str(raised.value)
    assert key not in repr(lifecycle)
