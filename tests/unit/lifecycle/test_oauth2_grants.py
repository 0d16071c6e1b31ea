"""OAuth2 token requests (RFC 6749): password (§4.3) and client credentials (§4.4) grants, errors (§5.2)."""

from __future__ import annotations

import base64
import logging
from typing import Any

import httpx
import pytest
from token_lifecycle import ClientCredentials, Credentials, LoginCall, LoginError, TokenLifecycle, TokenPlacement

from ._oauth_support import API, CLIENT_ID, CLIENT_SECRET, PASSWORD, TOKEN_URL, USER, FakeOAuth, basic_pair
from ._support import FakeClock


def lifecycle(login: LoginCall, clock: FakeClock | None = None, **given: Any) -> TokenLifecycle:
    return TokenLifecycle(
        base_url=API,
        login=login,
        placement=TokenPlacement(),
        lifetime=600.0,
        clock=clock or FakeClock(),
        logger_name="tests.lifecycle.auth",
        **given,
    )


def get(auth: TokenLifecycle, oauth: FakeOAuth, path: str = "/items") -> httpx.Response:
    with httpx.Client(auth=auth, transport=oauth.transport(), event_hooks=auth.event_hooks()) as client:
        return client.get(f"{API}{path}")


def test_the_password_grant_posts_a_form_with_scopes_and_authenticates_the_client_by_basic() -> None:
    oauth = FakeOAuth()
    auth = lifecycle(
        LoginCall.oauth2_password(TOKEN_URL, scopes=("read", "write")),
        credentials=Credentials(USER, PASSWORD),
        client=ClientCredentials(CLIENT_ID, CLIENT_SECRET),
    )
    assert get(auth, oauth).status_code == 200
    (form,) = oauth.token_requests()
    assert form == {"grant_type": "password", "username": USER, "password": PASSWORD, "scope": "read write"}
    token_request = oauth.requests[0]
    # §2.3.1: the id and secret are form-urlencoded before base64 (the id holds a ':').
    raw = base64.b64decode(token_request.headers["Authorization"][6:]).decode()
    assert raw == "app%3Aone:CanarySECRET%2F2%2B%3D"
    assert basic_pair(token_request.headers["Authorization"]) == (CLIENT_ID, CLIENT_SECRET)


def test_the_client_authenticates_in_the_body_when_configured() -> None:
    oauth = FakeOAuth(client_auth="body")
    auth = lifecycle(
        LoginCall.oauth2_password(TOKEN_URL, client_in="form"),
        credentials=Credentials(USER, PASSWORD),
        client=ClientCredentials(CLIENT_ID, CLIENT_SECRET),
    )
    assert get(auth, oauth).status_code == 200
    (form,) = oauth.token_requests()
    assert (form["client_id"], form["client_secret"]) == (CLIENT_ID, CLIENT_SECRET)
    assert "Authorization" not in oauth.requests[0].headers


def test_a_public_client_sends_no_client_authentication() -> None:
    oauth = FakeOAuth(client_auth=None)
    auth = lifecycle(LoginCall.oauth2_password(TOKEN_URL), credentials=Credentials(USER, PASSWORD))
    assert get(auth, oauth).status_code == 200
    assert "Authorization" not in oauth.requests[0].headers


@pytest.mark.parametrize("client_in", ["basic", "form"])
def test_the_client_credentials_grant(client_in: str) -> None:
    oauth = FakeOAuth(client_auth="body" if client_in == "form" else "basic")
    auth = lifecycle(
        LoginCall.oauth2_client_credentials(TOKEN_URL, scopes=("reports",), client_in=client_in),  # type: ignore[arg-type]
        credentials=ClientCredentials(CLIENT_ID, CLIENT_SECRET),
    )
    response = get(auth, oauth)
    assert response.status_code == 200
    assert response.request.headers["Authorization"] == "Bearer at-1"
    (form,) = oauth.token_requests()
    assert form["grant_type"] == "client_credentials"
    assert form["scope"] == "reports"
    assert ("client_secret" in form) == (client_in == "form")


def test_expires_in_sets_the_lifetime() -> None:
    oauth, clock = FakeOAuth(expires_in=120, issue_refresh_tokens=False), FakeClock()
    auth = lifecycle(
        LoginCall.oauth2_client_credentials(TOKEN_URL), clock, credentials=ClientCredentials(CLIENT_ID, CLIENT_SECRET)
    )
    get(auth, oauth)
    clock.advance(119)  # inside the mandatory window of a 120 s token (its last quarter)
    get(auth, oauth)
    assert auth.stats.logins == 2
    assert auth.stats.proactive_refreshes == 1


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        ((400, {"error": "invalid_grant", "error_description": "bad password"}), "invalid_grant"),
        ((401, {"error": "invalid_client"}), "invalid_client"),
        ((400, {"error": "invalid_scope", "error_description": "x\r\nFAKE LOG LINE" + "y" * 500}), "invalid_scope"),
    ],
)
def test_an_error_answer_names_its_error_code_never_the_secrets(
    answer: tuple[int, dict[str, Any]], code: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    oauth = FakeOAuth(token_error=answer)
    auth = lifecycle(
        LoginCall.oauth2_password(TOKEN_URL),
        credentials=Credentials(USER, PASSWORD),
        client=ClientCredentials(CLIENT_ID, CLIENT_SECRET),
    )
    with pytest.raises(LoginError) as raised:
        get(auth, oauth)
    error = raised.value
    assert error.error_code == code
    assert error.status_code == answer[0]
    assert f"HTTP {answer[0]}" in str(error)
    assert code in str(error)
    assert "\n" not in str(error)
    assert len(str(error)) < 400
    for secret in (PASSWORD, CLIENT_SECRET, "CanaryPW", "CanarySECRET"):
        assert secret not in str(error)
        assert secret not in caplog.text


def test_an_error_answer_that_quotes_the_password_is_redacted() -> None:
    oauth = FakeOAuth(token_error=(400, {"error": "invalid_grant", "error_description": f"wrong: {PASSWORD}"}))
    auth = lifecycle(LoginCall.oauth2_password(TOKEN_URL), credentials=Credentials(USER, PASSWORD))
    with pytest.raises(LoginError) as raised:
        get(auth, oauth)
    assert "CanaryPW" not in str(raised.value)


def test_a_non_oauth2_login_error_does_not_read_an_error_code() -> None:
    oauth = FakeOAuth(token_error=(400, {"error": "invalid_grant"}))
    call = LoginCall(
        method="POST",
        path=TOKEN_URL,
        username_in="form",
        username_name="username",
        password_in="form",
        password_name="password",
        token_from="json",
        token_pointer="/access_token",
    )
    with pytest.raises(LoginError) as raised:
        get(lifecycle(call, credentials=Credentials(USER, PASSWORD)), oauth)
    assert raised.value.error_code is None


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"username_in": "basic"}, "both"),
        ({"username_in": "basic", "password_in": "basic", "method": "GET"}, "POST"),
        ({"token_from": "header"}, "token_name"),
        ({"token_from": "cookie"}, "token_name"),
        ({"refresh_token_pointer": "/refresh_token", "token_from": "body"}, "JSON"),
        ({"path": "ftp://x/token"}, "absolute http"),
        ({"client_in": "query"}, "client_in"),
    ],
)
def test_a_login_call_that_cannot_work_is_refused(arguments: dict[str, Any], message: str) -> None:
    fields: dict[str, Any] = {
        "method": "POST",
        "path": "/token",
        "username_in": "form",
        "username_name": "u",
        "password_in": "form",
        "password_name": "p",
        "token_from": "body",
    }
    with pytest.raises(ValueError, match=message):
        LoginCall(**{**fields, **arguments})


def test_the_convenience_constructors_describe_the_standard_grants() -> None:
    password = LoginCall.oauth2_password(TOKEN_URL, scopes=("a", "b"))
    machine = LoginCall.oauth2_client_credentials(TOKEN_URL)
    assert password.constants == (("grant_type", "password"), ("scope", "a b"))
    assert machine.constants == (("grant_type", "client_credentials"),)
    assert (machine.username_in, machine.password_in) == ("basic", "basic")
    for call in (password, machine):
        assert call.oauth2
        assert call.token_pointer == "/access_token"
        assert (call.expires_in_pointer, call.refresh_token_pointer) == ("/expires_in", "/refresh_token")
