"""SecurityAuth: each request uses the first requirement the client can meet; static schemes as placed."""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from token_lifecycle import (
    SECURITY_EXTENSION,
    AuthError,
    ClientCredentials,
    Credentials,
    LoginCall,
    MemoryTokenStore,
    MissingCredentialsError,
    SecurityAuth,
    SecurityScheme,
    TokenPlacement,
    TokenRejectedError,
)

from ._oauth_support import API, CLIENT_ID, CLIENT_SECRET, PASSWORD, TOKEN_URL, USER, FakeOAuth
from ._support import FakeClock

SCHEMES: dict[str, SecurityScheme] = {
    "oauth": SecurityScheme(kind="login", placement=TokenPlacement(), login=LoginCall.oauth2_password(TOKEN_URL)),
    "machine": SecurityScheme(
        kind="client_credentials", placement=TokenPlacement(), login=LoginCall.oauth2_client_credentials(TOKEN_URL)
    ),
    "header_key": SecurityScheme(kind="token", placement=TokenPlacement("header", "X-API-Key", "{token}")),
    "query_key": SecurityScheme(kind="token", placement=TokenPlacement("query", "api_key", "{token}")),
    "cookie_key": SecurityScheme(kind="token", placement=TokenPlacement("cookie", "sid", "{token}")),
    "bearer": SecurityScheme(kind="token", placement=TokenPlacement()),
    "basic": SecurityScheme(kind="basic", placement=TokenPlacement("header", "Authorization", "Basic {token}")),
}


def build(default: tuple[tuple[str, ...], ...] = (("oauth",),), **given: Any) -> SecurityAuth:
    return SecurityAuth.build(
        schemes=SCHEMES, default=default, base_url=API, clock=FakeClock(), logger_name="tests.lifecycle.auth", **given
    )


class Recorder:
    """An API that records each request and answers ``status``."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[httpx.Request] = []

    def transport(self) -> httpx.MockTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            return httpx.Response(self.status, json={})

        return httpx.MockTransport(handle)


def call(auth: SecurityAuth, transport: httpx.BaseTransport, requirements: object = None, url: str = "/items") -> None:
    extensions: Mapping[str, Any] = {} if requirements is None else {SECURITY_EXTENSION: requirements}
    with httpx.Client(base_url=API, auth=auth, transport=transport, event_hooks=auth.event_hooks()) as client:
        client.get(url, extensions=dict(extensions))


@pytest.mark.parametrize(
    ("scheme", "where"),
    [
        ("header_key", lambda r: r.headers.get("X-API-Key")),
        ("query_key", lambda r: r.url.params.get("api_key")),
        ("cookie_key", lambda r: r.headers.get("Cookie")),
        ("bearer", lambda r: r.headers.get("Authorization")),
    ],
)
def test_a_token_scheme_sends_the_token_where_the_scheme_says(scheme: str, where: Any) -> None:
    api = Recorder()
    call(build(default=((scheme,),), token="k-1"), api.transport())
    assert where(api.requests[0]) in ("k-1", "sid=k-1", "Bearer k-1")


def test_a_rejected_static_token_raises_token_rejected_without_a_login() -> None:
    api = Recorder(status=401)
    with pytest.raises(TokenRejectedError, match="static token"):
        call(build(default=(("header_key",),), token="k-1"), api.transport())
    assert len(api.requests) == 1


def test_basic_sends_the_pair_in_base64() -> None:
    api = Recorder()
    call(build(default=(("basic",),), credentials=Credentials(USER, PASSWORD)), api.transport())
    expected = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert api.requests[0].headers["Authorization"] == f"Basic {expected}"


def test_a_rejected_basic_pair_names_the_user_never_the_password(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    api = Recorder(status=401)
    encoded = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    with pytest.raises(TokenRejectedError) as raised:
        call(build(default=(("basic",),), credentials=Credentials(USER, PASSWORD)), api.transport())
    message = str(raised.value)
    assert "HTTP Basic credentials of 'alice'" in message
    for secret in (PASSWORD, encoded):
        assert secret not in message
        assert secret not in caplog.text
    assert len(api.requests) == 1


def test_the_first_requirement_the_client_can_meet_is_used() -> None:
    api = Recorder()
    auth = build(default=(("oauth",),), tokens={"query_key": "q-1"})
    call(auth, api.transport(), requirements=(("oauth",), ("query_key",)))
    assert api.requests[0].url.params["api_key"] == "q-1"
    assert "Authorization" not in api.requests[0].headers


def test_an_and_requirement_sends_every_scheme_of_it() -> None:
    api = Recorder()
    auth = build(tokens={"header_key": "h-1", "query_key": "q-1"})
    call(auth, api.transport(), requirements=(("header_key", "query_key"),))
    assert api.requests[0].headers["X-API-Key"] == "h-1"
    assert api.requests[0].url.params["api_key"] == "q-1"


def test_an_empty_requirement_is_used_only_when_no_other_can_be_met() -> None:
    api = Recorder()
    auth = build(tokens={"header_key": "h-1"})
    call(auth, api.transport(), requirements=((), ("header_key",)))
    call(auth, api.transport(), requirements=((), ("query_key",)))
    assert api.requests[0].headers.get("X-API-Key") == "h-1"
    assert "X-API-Key" not in api.requests[1].headers
    assert "api_key" not in api.requests[1].url.params


def test_an_operation_without_security_gets_no_credential() -> None:
    api = Recorder()
    call(build(token="k-1"), api.transport(), requirements=())
    assert "Authorization" not in api.requests[0].headers


def test_requirements_that_cannot_be_met_raise_before_anything_is_sent() -> None:
    api = Recorder()
    auth = build(tokens={"header_key": "h-1"})
    with pytest.raises(MissingCredentialsError) as raised:
        call(auth, api.transport(), requirements=(("oauth",), ("machine",)))
    assert api.requests == []
    assert raised.value.schemes == ("oauth", "machine")
    assert "credentials=Credentials(username, password)" in str(raised.value)
    assert "credentials=ClientCredentials(client_id, client_secret)" in str(raised.value)


def test_a_request_without_the_extension_uses_the_default_requirements() -> None:
    api = Recorder()
    call(build(default=(("header_key",), ("query_key",)), tokens={"query_key": "q-1"}), api.transport())
    assert api.requests[0].url.params["api_key"] == "q-1"


def test_a_request_to_another_origin_gets_nothing_and_raises_nothing() -> None:
    api = Recorder()
    call(build(default=(("oauth",),)), api.transport(), url="https://elsewhere.example/x")
    assert api.requests[0].url.host == "elsewhere.example"
    assert "Authorization" not in api.requests[0].headers


def test_two_logins_in_one_requirement_are_not_used() -> None:
    """The generator drops such a requirement with a warning; the runtime never drives two logins."""
    api = Recorder()
    auth = build(credentials=Credentials(USER, PASSWORD), tokens={"machine": "m-1", "header_key": "h-1"})
    call(auth, api.transport(), requirements=(("oauth", "machine"), ("header_key",)))
    assert api.requests[0].headers["X-API-Key"] == "h-1"


def test_the_decision_is_taken_once_per_requirements_tuple() -> None:
    auth = build(tokens={"header_key": "h-1"})
    api = Recorder()
    for _ in range(3):
        call(auth, api.transport(), requirements=(("header_key",),))
    assert len(auth._plans) == 1


def test_credentials_feed_login_and_basic_schemes_client_credentials_the_client_scheme() -> None:
    by_user = build(credentials=Credentials(USER, PASSWORD))
    by_client = build(credentials=ClientCredentials(CLIENT_ID, CLIENT_SECRET))
    assert sorted(by_user.lifecycles) == ["basic", "oauth"]
    assert sorted(by_client.lifecycles) == ["machine"]
    assert by_user.primary is by_user.lifecycles["oauth"]
    assert by_client.primary is by_client.lifecycles["machine"]


def test_tokens_naming_an_unknown_scheme_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown security schemes \\['nope'\\]"):
        build(tokens={"nope": "x"})


def test_a_login_scheme_drives_the_flow_and_static_schemes_ride_along() -> None:
    oauth = FakeOAuth()
    auth = build(
        credentials=Credentials(USER, PASSWORD),
        oauth2_client=ClientCredentials(CLIENT_ID, CLIENT_SECRET),
        tokens={"header_key": "h-1"},
    )
    call(auth, oauth.transport(), requirements=(("oauth", "header_key"),))
    (api_request,) = oauth.api_requests()
    assert api_request.headers["Authorization"] == "Bearer at-1"
    assert api_request.headers["X-API-Key"] == "h-1"
    assert auth.lifecycles["oauth"].stats.logins == 1


@pytest.mark.anyio
async def test_the_async_flow_makes_the_same_choices() -> None:
    oauth = FakeOAuth(valid={"q-1"})
    auth = build(
        credentials=Credentials(USER, PASSWORD),
        oauth2_client=ClientCredentials(CLIENT_ID, CLIENT_SECRET),
        tokens={"query_key": "q-1"},
    )
    async with httpx.AsyncClient(
        base_url=API, auth=auth, transport=oauth.transport(), event_hooks=auth.async_event_hooks()
    ) as client:
        first = await client.get("/a")
        second = await client.get("/b", extensions={SECURITY_EXTENSION: (("query_key",),)})
        with pytest.raises(MissingCredentialsError):
            await client.get("/c", extensions={SECURITY_EXTENSION: (("machine",),)})
    assert first.status_code == 200
    assert first.request.headers["Authorization"] == "Bearer at-1"
    assert second.request.url.params["api_key"] == "q-1"
    assert len(oauth.requests) == 3  # the token request, /a and /b


def test_requirements_given_as_lists_mean_the_same() -> None:
    api = Recorder()
    auth = build(tokens={"query_key": "q-1"})
    call(auth, api.transport(), requirements=[["oauth"], ["query_key"]])
    assert api.requests[0].url.params["api_key"] == "q-1"


def test_no_repr_shows_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    client = ClientCredentials(CLIENT_ID, CLIENT_SECRET)
    auth = build(credentials=Credentials(USER, PASSWORD), oauth2_client=client, tokens={"header_key": "h-SECRET"})
    texts = [repr(client), str(client), repr(auth), *(repr(lifecycle) for lifecycle in auth.lifecycles.values())]
    assert "client_secret='***'" in repr(client)
    for text in texts:
        for secret in (CLIENT_SECRET, PASSWORD, "h-SECRET"):
            assert secret not in text
    monkeypatch.setenv("APP_ID", CLIENT_ID)
    monkeypatch.setenv("APP_SECRET", CLIENT_SECRET)
    assert ClientCredentials.from_env("APP_ID", "APP_SECRET") == client
    monkeypatch.delenv("APP_SECRET")
    with pytest.raises(AuthError, match="APP_SECRET") as raised:
        ClientCredentials.from_env("APP_ID", "APP_SECRET")
    assert CLIENT_ID not in str(raised.value)


def test_token_never_serves_a_login_scheme_when_a_scheme_takes_a_token_as_is() -> None:
    """An API key must not travel as an OAuth2 access token: with both kinds, token= is the key."""
    api = Recorder()
    auth = SecurityAuth.build(
        schemes={"oauth": SCHEMES["oauth"], "header_key": SCHEMES["header_key"]},
        default=(("oauth",), ("header_key",)),
        base_url=API,
        token="key-1",
        clock=FakeClock(),
    )
    assert sorted(auth.lifecycles) == ["header_key"]
    call(auth, api.transport())
    assert api.requests[0].headers["X-API-Key"] == "key-1"
    assert "Authorization" not in api.requests[0].headers


def test_token_is_a_static_token_of_the_login_schemes_of_an_api_without_token_schemes() -> None:
    api = Recorder()
    auth = SecurityAuth.build(
        schemes={"oauth": SCHEMES["oauth"]}, default=(("oauth",),), base_url=API, token="at-0", clock=FakeClock()
    )
    call(auth, api.transport())
    assert api.requests[0].headers["Authorization"] == "Bearer at-0"


def test_the_token_store_serves_the_first_usable_login_scheme() -> None:
    store = MemoryTokenStore()
    auth = build(
        default=(("header_key",), ("oauth",)),
        credentials=Credentials(USER, PASSWORD),
        oauth2_client=ClientCredentials(CLIENT_ID, CLIENT_SECRET),
        tokens={"header_key": "h-1"},
        store=store,
    )
    assert auth.primary is auth.lifecycles["header_key"]
    call(auth, FakeOAuth().transport(), requirements=(("oauth",),))
    saved = store.load()
    assert saved is not None
    assert saved.token == "at-1"


def test_threads_meeting_a_login_scheme_log_in_once() -> None:
    oauth = FakeOAuth()
    auth = build(credentials=Credentials(USER, PASSWORD), oauth2_client=ClientCredentials(CLIENT_ID, CLIENT_SECRET))
    with (
        httpx.Client(base_url=API, auth=auth, transport=oauth.transport(), event_hooks=auth.event_hooks()) as client,
        ThreadPoolExecutor(max_workers=8) as pool,
    ):
        statuses = list(pool.map(lambda _: client.get("/items").status_code, range(16)))
    assert statuses == [200] * 16
    assert len(oauth.token_requests()) == 1


def test_a_raise_for_status_hook_does_not_stop_the_recovery_from_a_401() -> None:
    oauth = FakeOAuth()
    auth = build(
        credentials=Credentials(USER, PASSWORD),
        oauth2_client=ClientCredentials(CLIENT_ID, CLIENT_SECRET),
        tokens={"header_key": "h-1"},
    )
    hooks = auth.event_hooks({"response": [lambda response: response.raise_for_status()]})
    with httpx.Client(base_url=API, auth=auth, transport=oauth.transport(), event_hooks=hooks) as client:
        client.get("/items", extensions={SECURITY_EXTENSION: (("oauth", "header_key"),)})
        oauth.valid.clear()  # revoked: the next call is answered 401 once, then replayed
        response = client.get("/items", extensions={SECURITY_EXTENSION: (("oauth", "header_key"),)})
    assert response.status_code == 200
    assert response.request.headers["X-API-Key"] == "h-1"
    assert auth.lifecycles["oauth"].stats.replays == 1


@pytest.mark.anyio
async def test_the_async_flow_refreshes_with_the_refresh_token() -> None:
    oauth, clock = FakeOAuth(expires_in=3600), FakeClock()
    auth = SecurityAuth.build(
        schemes={"oauth": SCHEMES["oauth"]},
        default=(("oauth",),),
        base_url=API,
        credentials=Credentials(USER, PASSWORD),
        oauth2_client=ClientCredentials(CLIENT_ID, CLIENT_SECRET),
        clock=clock,
    )
    async with httpx.AsyncClient(base_url=API, auth=auth, transport=oauth.transport()) as client:
        await client.get("/items")
        clock.advance(3500)
        response = await client.get("/items")
    assert response.request.headers["Authorization"] == "Bearer at-2"
    assert [form["grant_type"] for form in oauth.token_requests()] == ["password", "refresh_token"]
