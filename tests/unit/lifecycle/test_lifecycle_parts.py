"""The pure parts of the lifecycle: token state windows, login parsing, credentials, errors, URLs."""

from __future__ import annotations

import hashlib
import math
from typing import Any

import httpx
import pytest
import token_lifecycle
from token_lifecycle import (
    ADVISORY_REFRESH_SECONDS,
    MANDATORY_REFRESH_SECONDS,
    AuthError,
    Credentials,
    CredentialsError,
    InsecureTransportError,
    LoginError,
    LoginResult,
    ServiceLimitError,
    TokenRejectedError,
    TokenState,
    UnreplayableRequestError,
    fingerprint,
    read_login_response,
    resolve_json_pointer,
)
from token_lifecycle._answer import MISSING
from token_lifecycle._state import Need
from token_lifecycle._urls import is_loopback, is_loopback_host, join_url, origin, safe_url

from ._support import BASE_URL, make_lifecycle, query_login

JSON_LOGIN = query_login(token_from="json", token_pointer="/data/access_token", expires_in_pointer="/data/expires_in")


def _need(state: TokenState, now: float) -> Need:
    return state.need(now, advisory_window=ADVISORY_REFRESH_SECONDS, mandatory_window=MANDATORY_REFRESH_SECONDS)


def test_token_state_moves_from_fresh_to_advisory_to_mandatory() -> None:
    """An 18 h token needs nothing until 15 min before expiry, then advisory, then mandatory at 5 min."""
    state = TokenState(token="t", obtained_at=0.0, expires_at=64800.0)
    assert _need(state, 64800.0 - 901) is Need.NOTHING
    assert _need(state, 64800.0 - 900) is Need.ADVISORY
    assert _need(state, 64800.0 - 301) is Need.ADVISORY
    assert _need(state, 64800.0 - 300) is Need.MANDATORY
    assert _need(state, 64801.0) is Need.MANDATORY
    assert state.is_expired(64800.0)
    assert not state.is_expired(64799.0)


def test_windows_shrink_for_short_lived_tokens() -> None:
    """A 60 s token is not "expiring" from birth: its windows are capped at a share of its lifetime."""
    state = TokenState(token="t", obtained_at=0.0, expires_at=60.0)
    assert _need(state, 1.0) is Need.NOTHING
    assert _need(state, 30.0) is Need.ADVISORY
    assert _need(state, 45.0) is Need.MANDATORY


def test_a_static_token_never_needs_a_refresh() -> None:
    """An infinite expiry (static token) stays fresh forever."""
    state = TokenState(token="t", obtained_at=0.0, expires_at=math.inf)
    assert _need(state, 1e12) is Need.NOTHING


def test_fingerprint_is_the_sha256_prefix() -> None:
    """``fingerprint`` is ``tok:`` plus the first 8 hex digits of the token's sha256."""
    assert fingerprint("abc") == "tok:" + hashlib.sha256(b"abc").hexdigest()[:8]


@pytest.mark.parametrize(
    ("pointer", "expected"),
    [
        ("", {"a/b": {"m~n": [10, 20]}}),
        ("/a~1b/m~0n/1", 20),
        ("/a~1b/m~0n/01", MISSING),
        ("/a~1b/m~0n/2", MISSING),
        ("/nope", MISSING),
        ("/a~1b/m~0n/1/deeper", MISSING),
    ],
)
def test_json_pointer_follows_rfc_6901(pointer: str, expected: object) -> None:
    """Pointers unescape ``~1`` and ``~0``, index arrays without leading zeros and report misses."""
    assert resolve_json_pointer({"a/b": {"m~n": [10, 20]}}, pointer) == expected


def _response(status: int = 200, **kwargs: Any) -> httpx.Response:
    return httpx.Response(status, request=httpx.Request("GET", f"{BASE_URL}/login"), **kwargs)


@pytest.mark.parametrize(
    ("body", "token"),
    [("tok-1", "tok-1"), ("  tok-1\r\n", "tok-1"), ('"tok-1"', "tok-1")],
)
def test_body_token_is_read_trimmed_and_unquoted(body: str, token: str) -> None:
    """A whole-body token is stripped of whitespace and of JSON string quotes."""
    assert read_login_response(query_login(), _response(text=body), username="u") == LoginResult(token=token)


@pytest.mark.parametrize("body", ["", "two words", "line\nbreak", "\u00e9t\u00e9", '"a b"'])
def test_body_that_is_not_a_token_raises_login_error_without_quoting_it(body: str) -> None:
    """Empty, spaced or non-ASCII bodies are refused with a message about the expected shape only."""
    with pytest.raises(LoginError, match="expected one line of visible ASCII") as caught:
        read_login_response(query_login(), _response(text=body), username="u")
    if body.strip():
        assert body.strip() not in str(caught.value)
    assert caught.value.status_code is None


def test_json_token_and_lifetime_are_read_through_their_pointers() -> None:
    """The token and ``expires_in`` come from their JSON pointers; numeric strings count."""
    response = _response(json={"data": {"access_token": "tok-9", "expires_in": "3600"}})
    assert read_login_response(JSON_LOGIN, response, username="u") == LoginResult(token="tok-9", lifetime=3600.0)


@pytest.mark.parametrize("value", [None, True, -5, 0, "soon", [1]])
def test_unusable_expires_in_is_ignored_with_a_reason(value: object) -> None:
    """A lifetime that is not a positive number leaves the static lifetime in charge and says why."""
    response = _response(json={"data": {"access_token": "tok-9", "expires_in": value}})
    result = read_login_response(JSON_LOGIN, response, username="u")
    assert result.lifetime is None
    assert result.lifetime_problem is not None
    assert "/data/expires_in" in result.lifetime_problem


@pytest.mark.parametrize(
    "content", [b"not json", b'{"data": {"access_token": 5}}', b'{"data": {}}', b'{"data": {"access_token": "a b"}}']
)
def test_json_of_the_wrong_shape_raises_login_error(content: bytes) -> None:
    """A JSON login without a usable string at the token pointer raises LoginError."""
    with pytest.raises(LoginError, match="login as 'u' answered HTTP 200 but"):
        read_login_response(JSON_LOGIN, _response(content=content), username="u")


def test_non_2xx_login_raises_login_error_with_status() -> None:
    """A non-2xx login names the user and the status."""
    with pytest.raises(LoginError, match=r"^login as 'u' failed: HTTP 503 Service Unavailable$") as caught:
        read_login_response(query_login(), _response(503, text="try later"), username="u")
    assert caught.value.status_code == 503


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"method": "DELETE"}, "method"),
        ({"username_in": "path"}, "username_in"),
        ({"username_in": "form", "password_in": "json"}, "one body"),
        ({"token_from": "json"}, "token_pointer"),
        ({"token_from": "json", "token_pointer": "access_token"}, "RFC 6901"),
        ({"expires_in_pointer": "/expires_in"}, "token_from='json'"),
    ],
)
def test_login_call_rejects_inconsistent_descriptions(overrides: dict[str, object], message: str) -> None:
    """A LoginCall that could not work fails when it is built, saying which field is wrong."""
    with pytest.raises(ValueError, match=message):
        query_login(**overrides)


def test_login_path_joins_the_base_path() -> None:
    """The login path is relative to the base URL's path, like httpx's ``base_url``."""
    assert join_url(httpx.URL("https://h/api/v1/"), "/login") == httpx.URL("https://h/api/v1/login")
    assert join_url(httpx.URL("https://h"), "login") == httpx.URL("https://h/login")


def test_credentials_from_env_reads_both_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Credentials.from_env`` builds credentials from the two named variables."""
    monkeypatch.setenv("APP_USER", "alice")
    monkeypatch.setenv("APP_PASSWORD", "pw-from-env")
    assert Credentials.from_env("APP_USER", "APP_PASSWORD") == Credentials("alice", "pw-from-env")


def test_credentials_from_env_names_the_missing_variable_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """A missing variable raises CredentialsError naming it and never echoing the other one's value."""
    monkeypatch.setenv("APP_USER", "alice-value")
    monkeypatch.delenv("APP_PASSWORD", raising=False)
    with pytest.raises(CredentialsError, match="APP_PASSWORD") as caught:
        Credentials.from_env("APP_USER", "APP_PASSWORD")
    assert "alice-value" not in str(caught.value)
    assert isinstance(caught.value, AuthError)


def test_every_auth_failure_is_an_auth_error_and_service_limits_are_not() -> None:
    """The exception tree: AuthError covers authentication failures; ServiceLimitError stands apart."""
    for error in (CredentialsError, InsecureTransportError, LoginError, TokenRejectedError, UnreplayableRequestError):
        assert issubclass(error, AuthError)
    assert not issubclass(ServiceLimitError, AuthError)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"credentials": None}, "credentials .* or a token"),
        ({"login": None}, "login call"),
        ({"lifetime": 0.0}, "lifetime"),
        ({"lifetime": math.inf}, "lifetime"),
        ({"mandatory_window": 1000.0}, "windows"),
        ({"header_name": ""}, "header_name"),
        ({"token": "bad token"}, "visible ASCII"),
    ],
)
def test_lifecycle_rejects_impossible_configurations(overrides: dict[str, Any], message: str) -> None:
    """A lifecycle that could never authenticate fails at construction with a clear reason."""
    with pytest.raises(ValueError, match=message):
        make_lifecycle(**overrides)


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1/", True),
        ("http://127.200.0.1/", True),
        ("http://[::1]:80/", True),
        ("http://localhost:8000/", True),
        ("http://api.localhost/", True),
        ("http://10.0.0.1/", False),
        ("http://example.com/", False),
        ("http://[::2]/", False),
    ],
)
def test_loopback_detection(url: str, loopback: bool) -> None:
    """Only 127.0.0.0/8, ::1 and localhost names count as loopback."""
    assert is_loopback(httpx.URL(url)) is loopback


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LocalHost.", True),
        ("api.localhost", True),
        ("a.b.localhost", True),
        ("127.0.0.1", True),
        ("127.255.3.4", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("[::ffff:127.9.8.7]", True),
        ("localhost.example", False),
        ("notlocalhost", False),
        ("128.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("::2", False),
        ("0.0.0.0", False),  # noqa: S104 - a host to classify, not a bind address
        ("", False),
        ("api.example", False),
    ],
)
def test_loopback_host_rule(host: str, loopback: bool) -> None:
    """The one loopback rule: localhost and *.localhost, 127.0.0.0/8, ::1 and IPv4-mapped 127.x, brackets stripped."""
    assert is_loopback_host(host) is loopback


def test_loopback_urls_follow_the_host_rule() -> None:
    """``is_loopback(url)`` is the host rule applied to the URL's host, IPv4-mapped loopback included."""
    assert is_loopback(httpx.URL("http://[::ffff:127.0.0.1]:8000/x"))
    assert not is_loopback(httpx.URL("http://[::ffff:10.0.0.1]:8000/x"))


def test_safe_url_drops_user_info_and_query() -> None:
    """URLs in messages lose user info, query string and fragment."""
    assert safe_url(httpx.URL("https://u:p@h:8443/a/b?password=x#f")) == "https://h:8443/a/b"


def test_origin_compares_scheme_host_and_effective_port() -> None:
    """Default ports are made explicit and host case normalised before comparing origins."""
    assert origin(httpx.URL("https://h/a")) == origin(httpx.URL("https://H:443/b"))
    assert origin(httpx.URL("https://h/a")) != origin(httpx.URL("http://h/a"))
    assert origin(httpx.URL("https://h/a")) != origin(httpx.URL("https://h:8443/a"))


def test_package_all_is_sorted_and_complete() -> None:
    """The package re-exports a sorted ``__all__`` whose every name exists."""
    names = token_lifecycle.__all__
    assert names == sorted(names, key=lambda name: (not name.isupper(), name))
    assert all(hasattr(token_lifecycle, name) for name in names)
    assert {"TokenLifecycle", "LoginCall", "Credentials", "RetryTransport", "FileTokenStore"} <= set(names)


def test_quiet_fast_path_still_notices_the_advisory_window() -> None:
    """After many cheap checks inside the token's quiet period, crossing into the advisory window is noticed."""
    state = TokenState(token="t", obtained_at=0.0, expires_at=18 * 3600.0)
    assert state.advisory_at(900.0) == 18 * 3600.0 - 900.0
    assert state.need(state.advisory_at(900.0) - 1, advisory_window=900.0, mandatory_window=300.0) is Need.NOTHING
    assert state.need(state.advisory_at(900.0), advisory_window=900.0, mandatory_window=300.0) is Need.ADVISORY
