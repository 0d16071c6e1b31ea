"""The auth flow driven by hand: every request it yields, what it does with each response, and its steps."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from typing import Any

import httpx
import pytest
from token_lifecycle import Credentials, MemoryTokenStore, StoredToken, TokenLifecycle, TokenRejectedError
from token_lifecycle._flow import Discard, Hold, Load, Read, Save, Send, auth_steps

from ._support import BASE_URL, PASSWORD, USERNAME, FakeClock, make_lifecycle, query_login

Flow = Generator[httpx.Request, httpx.Response, None]


def _login_reply(request: httpx.Request, token: str) -> httpx.Response:
    return httpx.Response(200, text=token, request=request)


def _finish(flow: Flow, request: httpx.Request, status: int = 200) -> None:
    with pytest.raises(StopIteration):
        flow.send(httpx.Response(status, request=request))


def test_first_request_yields_the_login_request_then_the_request_with_the_token() -> None:
    """The first request first yields a GET login with the credentials in the query and no token header."""
    auth = make_lifecycle()
    flow = auth.sync_auth_flow(httpx.Request("GET", f"{BASE_URL}/items?page=2"))

    login = next(flow)
    assert login.method == "GET"
    assert login.url.copy_with(query=None) == httpx.URL(f"{BASE_URL}/login")
    assert dict(login.url.params) == {"user": USERNAME, "password": PASSWORD}
    assert "Authentication" not in login.headers
    assert "Authorization" not in login.headers

    request = flow.send(_login_reply(login, "tok-1"))
    assert request.url == httpx.URL(f"{BASE_URL}/items?page=2")
    assert request.headers["Authentication"] == "bearer tok-1"
    assert "Authorization" not in request.headers
    _finish(flow, request)
    assert auth.stats.logins == 1


@pytest.mark.anyio
async def test_async_first_request_yields_the_login_request_then_the_request_with_the_token() -> None:
    """The async flow yields the same login request and then injects ``Authentication: bearer <token>``."""
    auth = make_lifecycle()
    flow = auth.async_auth_flow(httpx.Request("GET", f"{BASE_URL}/items"))

    login = await flow.__anext__()
    assert dict(login.url.params) == {"user": USERNAME, "password": PASSWORD}
    assert "Authentication" not in login.headers

    request = await flow.asend(_login_reply(login, "tok-1"))
    assert request.headers["Authentication"] == "bearer tok-1"
    assert "Authorization" not in request.headers
    with pytest.raises(StopAsyncIteration):
        await flow.asend(httpx.Response(200, request=request))
    assert auth.stats.logins == 1


def _form(request: httpx.Request) -> dict[str, str]:
    return dict(httpx.QueryParams(request.content.decode()))


def _form_fields(r: httpx.Request) -> bool:
    return (
        r.headers["Content-Type"] == "application/x-www-form-urlencoded"
        and _form(r) == {"user": USERNAME, "password": PASSWORD, "grant_type": "password"}
        and not r.url.query
    )


def _json_fields(r: httpx.Request) -> bool:
    body: object = json.loads(r.content)
    return r.headers["Content-Type"] == "application/json" and body == {
        "user": USERNAME,
        "password": PASSWORD,
        "scope": "api",
    }


def _header_fields(r: httpx.Request) -> bool:
    return r.headers["X-User"] == USERNAME and r.headers["X-Pass"] == PASSWORD and not r.content


def _cookie_fields(r: httpx.Request) -> bool:
    return r.headers["Cookie"] == f"user={USERNAME}; password={PASSWORD}"


def _query_and_form_fields(r: httpx.Request) -> bool:
    return dict(r.url.params) == {"user": USERNAME, "v": "2"} and _form(r) == {"password": PASSWORD}


@pytest.mark.parametrize(
    ("overrides", "check"),
    [
        pytest.param(
            {
                "method": "POST",
                "username_in": "form",
                "password_in": "form",
                "constants": (("grant_type", "password"),),
            },
            _form_fields,
            id="form",
        ),
        pytest.param(
            {"method": "POST", "username_in": "json", "password_in": "json", "constants": (("scope", "api"),)},
            _json_fields,
            id="json",
        ),
        pytest.param(
            {"username_in": "header", "username_name": "X-User", "password_in": "header", "password_name": "X-Pass"},
            _header_fields,
            id="header",
        ),
        pytest.param({"username_in": "cookie", "password_in": "cookie"}, _cookie_fields, id="cookie"),
        pytest.param(
            {"username_in": "query", "password_in": "form", "method": "POST", "constants": (("v", "2"),)},
            _query_and_form_fields,
            id="query-and-form",
        ),
    ],
)
def test_login_request_puts_each_field_where_the_login_call_says(
    overrides: dict[str, Any], check: Callable[[httpx.Request], bool]
) -> None:
    """Credentials and constants land in the query, form, JSON body, headers or cookie as described."""
    auth = make_lifecycle(login=query_login(**overrides))
    login = next(auth.sync_auth_flow(httpx.Request("GET", f"{BASE_URL}/items")))
    assert login.method == overrides.get("method", "GET")
    assert login.url.path == "/v1/login"
    assert check(login)


def test_login_request_inherits_the_timeout_and_user_agent_of_the_request() -> None:
    """The login request keeps the client's timeouts (else it could hang forever) and User-Agent."""
    timeout = {"connect": 1.0, "read": 2.0, "write": 3.0, "pool": 4.0}
    request = httpx.Request(
        "GET", f"{BASE_URL}/items", headers={"User-Agent": "ua/1", "X-Other": "no"}, extensions={"timeout": timeout}
    )
    login = next(make_lifecycle().sync_auth_flow(request))
    assert login.extensions["timeout"] == timeout
    assert login.headers["User-Agent"] == "ua/1"
    assert "X-Other" not in login.headers


def test_scheme_none_sends_the_bare_token_in_the_named_header() -> None:
    """With ``scheme=None`` the header value is the token alone, under the header name given."""
    auth = make_lifecycle(scheme=None, header_name="X-Api-Token")
    flow = auth.sync_auth_flow(httpx.Request("GET", f"{BASE_URL}/items"))
    request = flow.send(_login_reply(next(flow), "tok-1"))
    assert request.headers["X-Api-Token"] == "tok-1"
    assert "Authentication" not in request.headers


def test_a_401_invalidates_logs_in_once_and_replays_with_the_new_token() -> None:
    """A 401 makes the flow yield one login and then the same request again carrying the new token."""
    auth = make_lifecycle()
    flow = auth.sync_auth_flow(httpx.Request("POST", f"{BASE_URL}/items", json={"a": 1}))
    request = flow.send(_login_reply(next(flow), "tok-1"))

    relogin = flow.send(httpx.Response(401, request=request))
    assert relogin.url.path == "/v1/login"
    assert "Authentication" not in relogin.headers
    replay = flow.send(_login_reply(relogin, "tok-2"))
    assert replay is request
    assert replay.headers["Authentication"] == "bearer tok-2"
    assert json.loads(replay.content) == {"a": 1}
    _finish(flow, replay)
    stats = auth.stats
    assert (stats.logins, stats.invalidations, stats.replays) == (2, 1, 1)


class _Body(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body that records whether it was consumed."""

    def __init__(self) -> None:
        self.consumed = False

    def __iter__(self) -> Iterator[bytes]:
        self.consumed = True
        yield b"invalid token"

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.consumed = True
        yield b"invalid token"


def test_a_rejected_response_is_read_before_waiting_for_the_login() -> None:
    """The 401 body is consumed before the flow logs in, so its connection is free for the login."""
    auth = make_lifecycle()
    flow = auth.sync_auth_flow(httpx.Request("GET", f"{BASE_URL}/items"))
    request = flow.send(_login_reply(next(flow), "tok-1"))
    body = _Body()
    flow.send(httpx.Response(401, request=request, stream=body))
    assert body.consumed


@pytest.mark.anyio
async def test_async_a_rejected_response_is_read_before_waiting_for_the_login() -> None:
    """The async flow also consumes the 401 body before logging in."""
    auth = make_lifecycle()
    flow = auth.async_auth_flow(httpx.Request("GET", f"{BASE_URL}/items"))
    request = await flow.asend(_login_reply(await flow.__anext__(), "tok-1"))
    body = _Body()
    await flow.asend(httpx.Response(401, request=request, stream=body))
    assert body.consumed


@pytest.mark.anyio
async def test_async_a_401_invalidates_logs_in_once_and_replays_with_the_new_token() -> None:
    """The async flow answers a 401 with one login and one replay carrying the new token."""
    auth = make_lifecycle()
    flow = auth.async_auth_flow(httpx.Request("GET", f"{BASE_URL}/items"))
    request = await flow.asend(_login_reply(await flow.__anext__(), "tok-1"))
    relogin = await flow.asend(httpx.Response(401, request=request))
    assert relogin.url.path == "/v1/login"
    replay = await flow.asend(_login_reply(relogin, "tok-2"))
    assert replay.headers["Authentication"] == "bearer tok-2"
    with pytest.raises(StopAsyncIteration):
        await flow.asend(httpx.Response(200, request=replay))
    stats = auth.stats
    assert (stats.logins, stats.invalidations, stats.replays) == (2, 1, 1)


def test_a_second_401_on_the_replay_raises_token_rejected() -> None:
    """The replay is sent once: another invalid status raises TokenRejectedError instead of looping."""
    auth = make_lifecycle()
    flow = auth.sync_auth_flow(httpx.Request("GET", f"{BASE_URL}/items"))
    request = flow.send(_login_reply(next(flow), "tok-1"))
    relogin = flow.send(httpx.Response(401, request=request))
    replay = flow.send(_login_reply(relogin, "tok-2"))
    with pytest.raises(TokenRejectedError) as caught:
        flow.send(httpx.Response(401, request=replay))
    assert caught.value.status_code == 401
    assert auth.stats.logins == 2


def test_compare_and_invalidate_keeps_a_token_another_caller_already_replaced() -> None:
    """A late 401 for an old token reuses the token another caller obtained instead of logging in again."""
    auth = make_lifecycle()
    first = auth.sync_auth_flow(httpx.Request("GET", f"{BASE_URL}/a"))
    first_request = first.send(_login_reply(next(first), "tok-1"))
    second = auth.sync_auth_flow(httpx.Request("GET", f"{BASE_URL}/b"))
    second_request = next(second)
    assert second_request.headers["Authentication"] == "bearer tok-1"

    # The first caller meets the 401, invalidates tok-1 and logs in.
    relogin = first.send(httpx.Response(401, request=first_request))
    replay = first.send(_login_reply(relogin, "tok-2"))
    assert replay.headers["Authentication"] == "bearer tok-2"
    _finish(first, replay)

    # The second caller's 401 is for tok-1, which is no longer current: straight to the replay with tok-2.
    second_replay = second.send(httpx.Response(401, request=second_request))
    assert second_replay.url.path == "/v1/b"
    assert second_replay.headers["Authentication"] == "bearer tok-2"
    _finish(second, second_replay)
    stats = auth.stats
    assert (stats.logins, stats.invalidations, stats.replays) == (2, 1, 2)


@pytest.mark.anyio
async def test_async_compare_and_invalidate_keeps_a_token_another_caller_already_replaced() -> None:
    """The async flow also skips the login when the rejected token was already replaced."""
    auth = make_lifecycle()
    first: AsyncGenerator[httpx.Request, httpx.Response] = auth.async_auth_flow(httpx.Request("GET", f"{BASE_URL}/a"))
    first_request = await first.asend(_login_reply(await first.__anext__(), "tok-1"))
    second = auth.async_auth_flow(httpx.Request("GET", f"{BASE_URL}/b"))
    second_request = await second.__anext__()

    relogin = await first.asend(httpx.Response(401, request=first_request))
    replay = await first.asend(_login_reply(relogin, "tok-2"))
    with pytest.raises(StopAsyncIteration):
        await first.asend(httpx.Response(200, request=replay))

    second_replay = await second.asend(httpx.Response(401, request=second_request))
    assert second_replay.headers["Authentication"] == "bearer tok-2"
    assert (auth.stats.logins, auth.stats.invalidations) == (2, 1)


def test_static_token_is_sent_without_login_and_a_401_raises_token_rejected() -> None:
    """With a static token and no credentials the flow never logs in; a 401 raises TokenRejectedError."""
    auth = TokenLifecycle(
        base_url=BASE_URL, login=None, token="static-1", header_name="Authentication", scheme="bearer", lifetime=60.0
    )
    flow = auth.sync_auth_flow(httpx.Request("GET", f"{BASE_URL}/items"))
    request = next(flow)
    assert request.headers["Authentication"] == "bearer static-1"
    with pytest.raises(TokenRejectedError, match="static token tok:"):
        flow.send(httpx.Response(401, request=request))
    assert auth.stats.logins == 0


def test_static_token_with_credentials_logs_in_after_rejection() -> None:
    """A static token given with credentials is used first and replaced by a login once rejected."""
    auth = make_lifecycle(token="static-1")
    flow = auth.sync_auth_flow(httpx.Request("GET", f"{BASE_URL}/items"))
    request = next(flow)
    assert request.headers["Authentication"] == "bearer static-1"
    relogin = flow.send(httpx.Response(401, request=request))
    assert relogin.url.path == "/v1/login"
    replay = flow.send(_login_reply(relogin, "tok-1"))
    assert replay.headers["Authentication"] == "bearer tok-1"


def test_requests_to_another_origin_pass_without_the_token() -> None:
    """The token only goes to the base URL's origin; other hosts get the request untouched."""
    auth = make_lifecycle()
    flow = auth.sync_auth_flow(httpx.Request("GET", "https://cdn.example/file"))
    request = next(flow)
    assert "Authentication" not in request.headers
    _finish(flow, request, status=401)
    assert auth.stats.logins == 0


def test_a_status_outside_invalid_on_is_returned_without_login() -> None:
    """A 403 is the caller's business: the flow ends without invalidating or logging in."""
    auth = make_lifecycle(clock=FakeClock())
    flow = auth.sync_auth_flow(httpx.Request("GET", f"{BASE_URL}/items"))
    request = flow.send(_login_reply(next(flow), "tok-1"))
    _finish(flow, request, status=403)
    assert (auth.stats.logins, auth.stats.invalidations) == (1, 0)


def test_invalid_on_can_name_other_statuses() -> None:
    """Statuses listed in ``invalid_on`` (here 419) trigger the login-and-replay path."""
    auth = make_lifecycle(invalid_on=frozenset({401, 419}))
    flow = auth.sync_auth_flow(httpx.Request("GET", f"{BASE_URL}/items"))
    request = flow.send(_login_reply(next(flow), "tok-1"))
    relogin = flow.send(httpx.Response(419, request=request))
    assert relogin.url.path == "/v1/login"


def test_credentials_repr_hides_the_password() -> None:
    """``repr(Credentials)`` shows the user name and ``password='***'``."""
    assert repr(Credentials("alice", "pw")) == "Credentials(username='alice', password='***')"


def _walk(auth: TokenLifecycle, store: MemoryTokenStore, answers: dict[str, list[httpx.Response]]) -> list[str]:
    """Drive `auth_steps` by hand as a driver would; return each step, named, in order."""
    request = httpx.Request("GET", f"{BASE_URL}/items")
    steps = auth_steps(auth._keeper, request)  # pyright: ignore[reportPrivateUsage]  # the steps, not a driver
    seen: list[str] = []
    answer: object = None
    while True:
        try:
            step = steps.send(answer)
        except StopIteration:
            return seen
        answer = None
        if isinstance(step, Send):
            kind = "login" if step.request.url.path.endswith("/login") else "api"
            seen.append(f"Send {kind}")
            answer = answers[kind].pop(0)
        elif isinstance(step, Read):
            seen.append("Read")
            step.response.read()
        elif isinstance(step, Hold):
            seen.append(f"Hold {step.lock}")
            answer = True
        elif isinstance(step, Load):
            seen.append("LOAD")
            answer = store.load()
        elif isinstance(step, Save):
            seen.append(f"Save {step.token.token}")
            store.save(step.token)
        elif isinstance(step, Discard):
            seen.append(f"Discard {step.token}")
            store.discard(step.token)
        else:
            seen.append("RELEASE")


def _reply(status: int, text: str = "") -> httpx.Response:
    return httpx.Response(status, text=text, request=httpx.Request("GET", BASE_URL))


def test_the_steps_load_the_store_before_a_login_and_save_after_it() -> None:
    """Store I/O is a step of its own, under the store's lock: LOAD, then the login, then Save."""
    store = MemoryTokenStore()
    auth = make_lifecycle(store=store)
    seen = _walk(auth, store, {"login": [_reply(200, "tok-1")], "api": [_reply(200)]})
    assert seen == [
        "Hold flow",
        "Hold store",
        "LOAD",
        "Send login",
        "Read",
        "Save tok-1",
        "RELEASE",
        "RELEASE",
        "Send api",
    ]
    saved = store.load()
    assert saved is not None
    assert saved.subject == f"{USERNAME}@{BASE_URL}"


def test_the_steps_discard_a_rejected_stored_token_before_logging_in() -> None:
    """A stored token the service rejected is compare-and-invalidated (Discard) before the new login."""
    store = MemoryTokenStore()
    store.save(StoredToken(token="tok-0", expires_at_wall=time.time() + 3600, subject=f"{USERNAME}@{BASE_URL}"))
    auth = make_lifecycle(store=store)
    api = [_reply(401), _reply(200)]
    seen = _walk(auth, store, {"login": [_reply(200, "tok-1")], "api": api})
    assert seen == [
        "Hold flow",
        "Hold store",
        "LOAD",  # tok-0 adopted
        "RELEASE",
        "RELEASE",
        "Send api",  # 401
        "Read",
        "Hold flow",
        "Hold store",
        "LOAD",  # tok-0 again: the rejected one
        "Discard tok-0",
        "Send login",
        "Read",
        "Save tok-1",
        "RELEASE",
        "RELEASE",
        "Send api",  # the replay
    ]
