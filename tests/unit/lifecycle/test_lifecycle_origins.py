"""Secrets stay with the service: followed redirects to other origins, and exceptions of user event hooks.

httpx drops ``Authorization`` when it follows a redirect to another origin and keeps every other
header, so a token in a custom header (``Authentication``) would follow it. `TokenLifecycle.event_hooks`
puts `redirect_guard` in front of the client's own hooks and strips secrets from what those raise.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

import httpx
import pytest
from token_lifecycle import InsecureTransportError, LoginError, TokenLifecycle

from ._support import BASE_URL, HEADER, PASSWORD, FakeService, make_lifecycle, query_login

ELSEWHERE = "https://elsewhere.example"
SERVICE_HOST = httpx.URL(BASE_URL).host


class Redirecting:
    """The fake service, which answers a redirect on chosen paths, and a foreign origin that records what reaches it."""

    def __init__(self, service: FakeService) -> None:
        self.service = service
        self.redirects: dict[str, tuple[int, str]] = {}
        self.foreign: list[httpx.Request] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.host != SERVICE_HOST:
            request.read()
            self.foreign.append(request)
            return httpx.Response(200, json={"where": "elsewhere"})
        redirect = self.redirects.get(request.url.path)
        if redirect is not None:
            status, location = redirect
            return httpx.Response(status, headers={"Location": location})
        return self.service.handle(request)

    async def handle_async(self, request: httpx.Request) -> httpx.Response:
        return self.handle(request)


def _client(lifecycle: TokenLifecycle, routes: Redirecting, **hooks: list[Any]) -> httpx.Client:
    return httpx.Client(
        auth=lifecycle,
        transport=httpx.MockTransport(routes.handle),
        follow_redirects=True,
        event_hooks=lifecycle.event_hooks(hooks),
    )


def test_a_redirect_to_another_origin_loses_the_token_header(caplog: pytest.LogCaptureFixture) -> None:
    """The service redirects a call elsewhere: the foreign origin receives the request without the token."""
    routes = Redirecting(FakeService())
    routes.redirects["/v1/items"] = (302, f"{ELSEWHERE}/landing")
    lifecycle = make_lifecycle()
    with caplog.at_level(logging.WARNING, logger="tests.lifecycle.auth"), _client(lifecycle, routes) as client:
        response = client.get(f"{BASE_URL}/items")
    assert response.json() == {"where": "elsewhere"}
    (foreign,) = routes.foreign
    assert HEADER not in foreign.headers
    issued = routes.service.issued[0]
    assert all(issued not in value for value in foreign.headers.values())
    assert "removed the Authentication header from a request to https://elsewhere.example/landing" in caplog.text
    assert issued not in caplog.text


def test_a_redirect_within_the_service_keeps_the_token() -> None:
    """A redirect to another path of the same origin is still the service: the token goes along."""
    routes = Redirecting(FakeService())
    routes.redirects["/v1/old"] = (301, f"{BASE_URL}/items")
    lifecycle = make_lifecycle()
    with _client(lifecycle, routes) as client:
        response = client.get(f"{BASE_URL}/old")
    assert response.status_code == 200
    assert routes.service.seen == [("/v1/items", f"bearer {routes.service.issued[0]}")]


def test_a_redirect_that_downgrades_to_http_on_the_same_host_loses_the_token() -> None:
    """http:// on the service's host is another origin: the token never travels in clear text.

    The plain-http page answers 401 without a token; a 401 of another origin says nothing of the
    token (issue 13): the caller gets that answer, the token is kept, and no second login happens.
    """
    routes = Redirecting(FakeService())
    routes.redirects["/v1/items"] = (302, f"http://{SERVICE_HOST}/v1/plain")
    lifecycle = make_lifecycle()
    with _client(lifecycle, routes) as client:
        assert client.get(f"{BASE_URL}/items").status_code == 401
    assert routes.service.seen == [("/v1/plain", None)]
    assert lifecycle.stats.logins == 1
    assert lifecycle.stats.invalidations == 0


def test_a_login_redirected_elsewhere_with_the_password_in_its_body_is_refused() -> None:
    """A 307 re-sends the body: a form login redirected to another origin never leaves with the password."""
    service = FakeService()
    routes = Redirecting(service)
    routes.redirects["/v1/login"] = (307, f"{ELSEWHERE}/collect")
    lifecycle = make_lifecycle(login=query_login(method="POST", username_in="form", password_in="form"))
    with _client(lifecycle, routes) as client, pytest.raises(InsecureTransportError) as caught:
        client.get(f"{BASE_URL}/items")
    assert routes.foreign == []
    assert caught.value.url == f"{ELSEWHERE}/collect"
    text = "".join(traceback.format_exception(caught.value))
    assert "another origin than the service" in text
    assert PASSWORD not in text


def test_a_login_redirected_elsewhere_loses_a_password_header() -> None:
    """A password the login sends in a header is removed like the token, and the login is not followed.

    Its answer would not be the service's token (issue 13): `LoginError`, nothing reaches the other origin.
    """
    routes = Redirecting(FakeService())
    routes.redirects["/v1/login"] = (307, f"{ELSEWHERE}/collect")
    login = query_login(username_in="header", username_name="X-User", password_in="header", password_name="X-Pass")
    lifecycle = make_lifecycle(login=login)
    with _client(lifecycle, routes) as client, pytest.raises(LoginError, match="another origin"):
        client.get(f"{BASE_URL}/items")
    assert routes.foreign == []
    assert lifecycle.stats.failed_logins == 1


def test_a_secret_the_guard_cannot_remove_refuses_a_request_to_another_origin() -> None:
    """A request elsewhere that carries the password in its URL is refused, not sent."""
    routes = Redirecting(FakeService())
    lifecycle = make_lifecycle()
    with _client(lifecycle, routes) as client, pytest.raises(InsecureTransportError):
        client.get(f"{ELSEWHERE}/share", params={"p": PASSWORD})
    assert routes.foreign == []


def test_requests_to_other_origins_without_secrets_pass_untouched() -> None:
    """The guard only acts on secrets: the user's own headers to another API stay."""
    routes = Redirecting(FakeService())
    lifecycle = make_lifecycle()
    with _client(lifecycle, routes) as client:
        client.get(f"{ELSEWHERE}/other-api", headers={HEADER: "bearer their-own-token"})
    (foreign,) = routes.foreign
    assert foreign.headers[HEADER] == "bearer their-own-token"


def test_raise_for_status_in_a_user_hook_does_not_print_the_login_password() -> None:
    """httpx's documented raise-on-4xx hook fails on a rejected login; its message loses the password."""
    service = FakeService(password="the-right-one")

    def raise_on_4xx_5xx(response: httpx.Response) -> None:
        response.raise_for_status()

    routes = Redirecting(service)
    lifecycle = make_lifecycle()
    with (
        _client(lifecycle, routes, response=[raise_on_4xx_5xx]) as client,
        pytest.raises(httpx.HTTPStatusError) as caught,
    ):
        client.get(f"{BASE_URL}/items")
    assert caught.value.response.status_code == 401
    text = "".join(traceback.format_exception(caught.value))
    assert "for url 'https://api.example/v1/login?user=alice&password=***'" in text
    assert PASSWORD not in text


def test_user_hooks_see_every_request_and_response_after_the_guard() -> None:
    """User hooks run, in order, on the login and the call; they see the request after the guard."""
    seen: list[str] = []
    routes = Redirecting(FakeService())
    lifecycle = make_lifecycle()
    hooks = {
        "request": [lambda request: seen.append(f"request {request.url.path}")],
        "response": [lambda response: seen.append(f"response {response.status_code}")],
    }
    with _client(lifecycle, routes, **hooks) as client:
        client.get(f"{BASE_URL}/items")
    assert seen == ["request /v1/login", "response 200", "request /v1/items", "response 200"]


@pytest.mark.anyio
async def test_async_clients_get_the_same_guard_and_shield() -> None:
    """async_event_hooks: the redirect loses the token, and an async hook's exception loses the password."""
    routes = Redirecting(FakeService())
    routes.redirects["/v1/items"] = (302, f"{ELSEWHERE}/landing")
    lifecycle = make_lifecycle()

    async def leak(request: httpx.Request) -> None:
        if request.url.path == "/v1/login":
            raise RuntimeError(f"saw {request.url}")

    client = httpx.AsyncClient(
        auth=lifecycle,
        transport=httpx.MockTransport(routes.handle_async),
        follow_redirects=True,
        event_hooks=lifecycle.async_event_hooks({"request": [leak]}),
    )
    async with client:
        with pytest.raises(RuntimeError) as caught:
            await client.get(f"{BASE_URL}/items")
        assert PASSWORD not in str(caught.value)
        assert "password=***" in str(caught.value)
    quiet = httpx.AsyncClient(
        auth=lifecycle,
        transport=httpx.MockTransport(routes.handle_async),
        follow_redirects=True,
        event_hooks=lifecycle.async_event_hooks(),
    )
    async with quiet:
        response = await quiet.get(f"{BASE_URL}/items")
    assert response.json() == {"where": "elsewhere"}
    (foreign,) = routes.foreign
    assert HEADER not in foreign.headers


def test_a_lifecycle_with_a_static_token_guards_it_too() -> None:
    """A token given by the user (pinned, never issued here) is kept from other origins as well."""
    routes = Redirecting(FakeService())
    routes.service.valid.add("static-token-1")
    routes.redirects["/v1/items"] = (302, f"{ELSEWHERE}/landing")
    lifecycle = make_lifecycle(login=None, credentials=None, token="static-token-1")
    with _client(lifecycle, routes) as client:
        client.get(f"{BASE_URL}/items")
    (foreign,) = routes.foreign
    assert HEADER not in foreign.headers
