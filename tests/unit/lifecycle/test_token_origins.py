"""A token URL on another origin (an identity provider): credentials go there only, the token to the API only."""

from __future__ import annotations

import dataclasses

import httpx
import pytest
from token_lifecycle import (
    ClientCredentials,
    Credentials,
    InsecureTransportError,
    LoginCall,
    LoginError,
    SecurityAuth,
    SecurityScheme,
    TokenLifecycle,
    TokenPlacement,
)

from ._oauth_support import API, CLIENT_ID, CLIENT_SECRET, IDP, PASSWORD, TOKEN_URL, USER, FakeOAuth
from ._support import FakeClock


def lifecycle(login: LoginCall, base_url: str = API, **given: object) -> TokenLifecycle:
    return TokenLifecycle(
        base_url=base_url,
        login=login,
        credentials=Credentials(USER, PASSWORD),
        client=ClientCredentials(CLIENT_ID, CLIENT_SECRET),
        placement=TokenPlacement(),
        lifetime=600.0,
        clock=FakeClock(),
        logger_name="tests.lifecycle.auth",
        **given,  # type: ignore[arg-type]
    )


def test_credentials_go_to_the_token_url_and_the_token_to_the_api_only() -> None:
    oauth = FakeOAuth()
    auth = lifecycle(LoginCall.oauth2_password(TOKEN_URL))
    with httpx.Client(auth=auth, transport=oauth.transport(), event_hooks=auth.event_hooks()) as client:
        assert client.get(f"{API}/items").status_code == 200
        client.get(f"{IDP}/userinfo")  # a call of the user's own to the identity provider
    token_request, api_request, idp_call = oauth.requests
    assert token_request.url.host == "idp.example"
    assert "Bearer" not in token_request.headers.get("Authorization", "")
    assert api_request.headers["Authorization"] == "Bearer at-1"
    assert PASSWORD not in str(api_request.url)
    assert not api_request.content
    assert "Authorization" not in idp_call.headers


def test_a_login_answer_from_another_origin_than_the_token_url_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "idp.example":
            return httpx.Response(302, headers={"Location": "https://evil.example/token"})
        return httpx.Response(200, json={"access_token": "forged", "expires_in": 60})

    auth = lifecycle(LoginCall.oauth2_password(TOKEN_URL))
    with (
        httpx.Client(
            auth=auth, transport=httpx.MockTransport(handler), event_hooks=auth.event_hooks(), follow_redirects=True
        ) as client,
        pytest.raises((LoginError, InsecureTransportError)),
    ):
        client.get(f"{API}/items")
    assert auth.token_fingerprint is None


def test_the_api_answering_the_login_is_not_trusted_either() -> None:
    """The token URL is the only origin whose answer is a token: a redirect to the API is refused too."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "idp.example":
            return httpx.Response(307, headers={"Location": f"{API}/token"})
        return httpx.Response(200, json={"access_token": "forged"})

    auth = lifecycle(LoginCall.oauth2_password(TOKEN_URL))
    with (
        httpx.Client(
            auth=auth, transport=httpx.MockTransport(handler), event_hooks=auth.event_hooks(), follow_redirects=True
        ) as client,
        pytest.raises(LoginError, match="another origin"),
    ):
        client.get(f"{API}/items")


@pytest.mark.parametrize(
    ("base_url", "token_url"),
    [("https://api.example/v1", "http://idp.example/token"), ("http://api.example/v1", "https://idp.example/token")],
)
def test_plain_http_is_refused_for_either_origin(base_url: str, token_url: str) -> None:
    oauth = FakeOAuth(token_url=token_url)
    auth = lifecycle(LoginCall.oauth2_password(token_url), base_url=base_url)
    with (
        httpx.Client(auth=auth, transport=oauth.transport(), event_hooks=auth.event_hooks()) as client,
        pytest.raises(InsecureTransportError),
    ):
        client.get(f"{base_url}/items")
    assert all(request.url.scheme == "https" for request in oauth.requests)


def test_loopback_over_plain_http_is_allowed_for_both() -> None:
    oauth = FakeOAuth(token_url="http://127.0.0.1:9000/token")
    auth = lifecycle(LoginCall.oauth2_password(oauth.token_url), base_url="http://localhost:8000/v1")
    with httpx.Client(auth=auth, transport=oauth.transport(), event_hooks=auth.event_hooks()) as client:
        assert client.get("http://localhost:8000/v1/items").status_code == 200


def test_token_url_replaces_the_documents_token_url() -> None:
    staging = FakeOAuth(token_url="https://staging-idp.example/token")
    scheme = SecurityScheme(kind="login", placement=TokenPlacement(), login=LoginCall.oauth2_password(TOKEN_URL))
    auth = SecurityAuth.build(
        schemes={"oauth": scheme},
        default=(("oauth",),),
        base_url=API,
        credentials=Credentials(USER, PASSWORD),
        oauth2_client=ClientCredentials(CLIENT_ID, CLIENT_SECRET),
        token_url=staging.token_url,
        clock=FakeClock(),
        logger_name="tests.lifecycle.auth",
    )
    with httpx.Client(auth=auth, transport=staging.transport(), event_hooks=auth.event_hooks()) as client:
        assert client.get(f"{API}/items").status_code == 200
    assert staging.requests[0].url.host == "staging-idp.example"


def test_a_relative_token_url_is_joined_to_the_base_url() -> None:
    oauth = FakeOAuth(token_url=f"{API}/oauth/token")
    auth = lifecycle(dataclasses.replace(LoginCall.oauth2_password(TOKEN_URL), path="/oauth/token"))
    with httpx.Client(auth=auth, transport=oauth.transport(), event_hooks=auth.event_hooks()) as client:
        assert client.get(f"{API}/items").status_code == 200
    assert str(oauth.requests[0].url) == f"{API}/oauth/token"
