"""Refresh tokens (RFC 6749 §6): used before a login, a refused one falls back to one login, never shown."""

from __future__ import annotations

import io
import logging

import httpx
import pytest
from token_lifecycle import (
    ClientCredentials,
    Credentials,
    LoginCall,
    LoginError,
    MemoryTokenStore,
    TokenLifecycle,
    TokenPlacement,
)

from ._oauth_support import API, CLIENT_ID, CLIENT_SECRET, PASSWORD, TOKEN_URL, USER, FakeOAuth
from ._support import FakeClock

LIFETIME = 3600


def lifecycle(clock: FakeClock, store: MemoryTokenStore | None = None) -> TokenLifecycle:
    return TokenLifecycle(
        base_url=API,
        login=LoginCall.oauth2_password(TOKEN_URL),
        credentials=Credentials(USER, PASSWORD),
        client=ClientCredentials(CLIENT_ID, CLIENT_SECRET),
        placement=TokenPlacement(),
        lifetime=600.0,
        clock=clock,
        store=store,
        logger_name="tests.lifecycle.auth",
    )


def get(auth: TokenLifecycle, oauth: FakeOAuth) -> httpx.Response:
    with httpx.Client(auth=auth, transport=oauth.transport(), event_hooks=auth.event_hooks()) as client:
        return client.get(f"{API}/items")


@pytest.mark.parametrize(("advance", "proactive"), [(LIFETIME - 800, 1), (LIFETIME - 100, 1)])
def test_an_advisory_or_mandatory_refresh_uses_the_refresh_token(advance: float, proactive: int) -> None:
    oauth, clock = FakeOAuth(expires_in=LIFETIME), FakeClock()
    auth = lifecycle(clock)
    get(auth, oauth)
    clock.advance(advance)
    response = get(auth, oauth)
    assert response.request.headers["Authorization"] == "Bearer at-2"
    first, second = oauth.token_requests()
    assert first["grant_type"] == "password"
    assert second == {"grant_type": "refresh_token", "refresh_token": "rt-1"}
    # The same client authentication; the user's password does not travel again.
    assert oauth.requests[2].headers["Authorization"] == oauth.requests[0].headers["Authorization"]
    stats = auth.stats
    assert (stats.logins, stats.token_refreshes, stats.proactive_refreshes) == (1, 1, proactive)


def test_a_401_refreshes_with_the_refresh_token_and_replays() -> None:
    oauth, clock = FakeOAuth(), FakeClock()
    auth = lifecycle(clock)
    get(auth, oauth)
    oauth.valid.clear()  # the service revoked the access token
    response = get(auth, oauth)
    assert response.status_code == 200
    assert [form["grant_type"] for form in oauth.token_requests()] == ["password", "refresh_token"]
    assert (auth.stats.token_refreshes, auth.stats.replays) == (1, 1)


def test_the_newest_refresh_token_is_used_and_an_answer_without_one_keeps_the_last() -> None:
    oauth, clock = FakeOAuth(expires_in=LIFETIME), FakeClock()
    auth = lifecycle(clock)
    get(auth, oauth)
    clock.advance(LIFETIME - 100)
    get(auth, oauth)  # rotated: rt-2
    oauth.issue_refresh_tokens = False
    clock.advance(LIFETIME - 100)
    get(auth, oauth)  # no new refresh token: rt-2 stays
    clock.advance(LIFETIME - 100)
    get(auth, oauth)
    refreshes = [form["refresh_token"] for form in oauth.token_requests() if form["grant_type"] == "refresh_token"]
    assert refreshes == ["rt-1", "rt-2", "rt-2"]


def test_a_refused_refresh_token_falls_back_to_one_login() -> None:
    oauth, clock = FakeOAuth(expires_in=LIFETIME), FakeClock()
    auth = lifecycle(clock)
    get(auth, oauth)
    oauth.refresh_tokens.clear()  # revoked
    clock.advance(LIFETIME - 100)
    response = get(auth, oauth)
    assert response.status_code == 200
    assert [form["grant_type"] for form in oauth.token_requests()] == ["password", "refresh_token", "password"]
    stats = auth.stats
    assert (stats.logins, stats.token_refreshes, stats.failed_token_refreshes, stats.failed_logins) == (2, 0, 1, 0)


def test_a_refused_refresh_then_a_refused_login_raises_the_login_error() -> None:
    oauth, clock = FakeOAuth(expires_in=LIFETIME), FakeClock()
    auth = lifecycle(clock)
    get(auth, oauth)
    clock.advance(LIFETIME - 100)
    oauth.token_error = (400, {"error": "invalid_grant"})
    with pytest.raises(LoginError, match="invalid_grant"):
        get(auth, oauth)
    assert [form["grant_type"] for form in oauth.token_requests()] == ["password", "refresh_token", "password"]


def test_invalidate_forgets_the_refresh_token_too() -> None:
    oauth, clock = FakeOAuth(), FakeClock()
    auth = lifecycle(clock)
    get(auth, oauth)
    auth.invalidate()
    get(auth, oauth)
    assert [form["grant_type"] for form in oauth.token_requests()] == ["password", "password"]


def test_the_refresh_token_stays_in_memory_and_out_of_logs_and_reprs() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    levels = {name: logging.getLogger(name).level for name in ("", "httpx", "tests.lifecycle.auth")}
    for name in levels:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        oauth, clock, store = FakeOAuth(expires_in=LIFETIME), FakeClock(), MemoryTokenStore()
        auth = lifecycle(clock, store)
        get(auth, oauth)
        logging.getLogger("tests.lifecycle.auth").info("echo rt-1 %s", "rt-1")
        clock.advance(LIFETIME - 100)
        get(auth, oauth)
    finally:
        root.removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    stored = store.load()
    assert stored is not None
    assert "rt-" not in repr(stored)
    assert stored.token == "at-2"
    assert "rt-1" not in stream.getvalue()
    assert "echo ***" in stream.getvalue()
    assert "rt-" not in repr(auth)


@pytest.mark.parametrize("client_in", ["basic", "form"])
def test_a_client_credentials_refresh_authenticates_the_client_where_its_grant_does(client_in: str) -> None:
    oauth, clock = FakeOAuth(expires_in=LIFETIME, client_auth="basic" if client_in == "basic" else "body"), FakeClock()
    auth = TokenLifecycle(
        base_url=API,
        login=LoginCall.oauth2_client_credentials(TOKEN_URL, client_in=client_in),  # type: ignore[arg-type]
        credentials=ClientCredentials(CLIENT_ID, CLIENT_SECRET),
        placement=TokenPlacement(),
        lifetime=600.0,
        clock=clock,
        logger_name="tests.lifecycle.auth",
    )
    get(auth, oauth)
    clock.advance(LIFETIME - 100)
    assert get(auth, oauth).status_code == 200
    refresh = oauth.token_requests()[1]
    assert refresh["grant_type"] == "refresh_token"
    assert ("client_secret" in refresh) == (client_in == "form")
    assert auth.stats.token_refreshes == 1
