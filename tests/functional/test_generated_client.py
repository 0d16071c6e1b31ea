"""The generated Synthetic Classic client looks after its session: behind httpx.MockTransport, on a fake clock.

These drive the whole generated package (endpoint functions, AuthenticatedClient, the embedded
runtime) rather than the runtime alone; the runtime's own unit tests are in tests/unit/lifecycle.
"""

from __future__ import annotations

import logging
import threading
import traceback
from typing import Any

import httpx
import pytest
from synthetic_classic_client import (
    AuthenticatedClient,
    Credentials,
    InsecureTransportError,
    LoginError,
    RetryPolicy,
    ServiceLimitError,
    TokenRejectedError,
)
from synthetic_classic_client.api.tests import list_tests
from synthetic_classic_client.models import Error, MonitorList, TestType

BASE = "https://sc.example/publicapi/rest/v1.0"
HOUR = 3600.0
MONITORS = {"Monitors": [{"Monitor": {"monitorID": "42", "tname": "Home page", "testType": "BACKBONE"}}]}


class Clock:
    """Monotonic seconds that move only when told."""

    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


class Service:
    """A fake Synthetic Classic: unique tokens from GET /login, 401 for anything else without a valid one."""

    def __init__(self, password: str = "demo-password") -> None:
        self.password = password
        self.lock = threading.Lock()
        self.logins = 0
        self.valid: set[str] = set()
        self.requests: list[httpx.Request] = []
        self.status: dict[str, list[int]] = {}
        """Statuses to answer on a path, consumed one per request, before any token check."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
            path = request.url.path.removeprefix("/publicapi/rest/v1.0")
            queued = self.status.get(path)
            if queued:
                return httpx.Response(queued.pop(0), json={"message": "forced"}, headers={"Retry-After": "1"})
            if path == "/login":
                if request.url.params.get("password") != self.password:
                    return httpx.Response(401, json={"message": "bad credentials"})
                self.logins += 1
                token = f"token-{self.logins}-canary"
                self.valid.add(token)
                return httpx.Response(200, text=token)
            header = request.headers.get("Authentication", "")
            if not header.startswith("bearer ") or header[7:] not in self.valid:
                return httpx.Response(401, json={"message": "authentication required"})
            return httpx.Response(200, json=MONITORS)

    def api_headers(self) -> list[dict[str, str]]:
        return [dict(r.headers) for r in self.requests if not r.url.path.endswith("/login")]


def _client(service: Service, clock: Clock | None = None, **kwargs: Any) -> AuthenticatedClient:
    return AuthenticatedClient(
        base_url=BASE,
        credentials=kwargs.pop("credentials", Credentials(username="demo", password="demo-password")),
        clock=clock or Clock(),
        retry=RetryPolicy().no_sleep(),
        httpx_args={"transport": httpx.MockTransport(service)},
        **kwargs,
    )


def test_first_protected_call_logs_in_through_the_spec_login() -> None:
    """The first call logs in with GET /login?user=&password= and sends exactly 'Authentication: bearer <token>'."""
    service = Service()
    with _client(service) as client:
        result = list_tests.sync(client=client, test_type=TestType.BACKBONE)
    assert isinstance(result, MonitorList)
    assert result.monitors[0].monitor.tname == "Home page"
    login, call = service.requests
    assert (login.method, login.url.path) == ("GET", "/publicapi/rest/v1.0/login")
    assert dict(login.url.params) == {"user": "demo", "password": "demo-password"}
    assert "authentication" not in login.headers
    assert call.headers["Authentication"] == "bearer token-1-canary"
    assert "authorization" not in call.headers
    assert call.url.params["testType"] == "BACKBONE"
    assert client.lifecycle.stats.logins == 1


def test_token_is_refreshed_ahead_of_the_18_hour_expiry() -> None:
    """Crossing into the advisory window (18 h - 15 min) refreshes before any 401; within it no extra login."""
    service, clock = Service(), Clock()
    client = _client(service, clock)
    list_tests.sync(client=client)
    clock.now += 17 * HOUR
    list_tests.sync(client=client)
    assert service.logins == 1, "17 h in, the token is still used"
    clock.now += 50 * 60
    list_tests.sync(client=client)
    assert service.logins == 2
    assert client.lifecycle.stats.proactive_refreshes == 1
    assert [h["authentication"] for h in service.api_headers()][-1] == "bearer token-2-canary"
    assert client.lifecycle.stats.invalidations == 0


def test_revoked_token_is_replaced_and_the_request_replayed_once() -> None:
    """A 401 on a protected call logs in once and replays the call; the caller sees only the success."""
    service = Service()
    client = _client(service)
    list_tests.sync(client=client)
    service.valid.clear()
    result = list_tests.sync(client=client)
    assert isinstance(result, MonitorList)
    stats = client.lifecycle.stats
    assert (service.logins, stats.invalidations, stats.replays) == (2, 1, 1)


def test_second_rejection_raises_token_rejected() -> None:
    """When the fresh token is rejected too, TokenRejectedError is raised instead of looping."""
    service = Service()
    client = _client(service)
    service.status["/tests"] = [401, 401]
    with pytest.raises(TokenRejectedError):
        list_tests.sync(client=client)
    assert service.logins == 2


def test_forbidden_is_a_typed_result_without_login_again() -> None:
    """A 403 is parsed into the spec's Error model and does not trigger another login."""
    service = Service()
    client = _client(service)
    list_tests.sync(client=client)
    service.status["/tests"] = [403]
    result = list_tests.sync(client=client)
    assert isinstance(result, Error)
    assert service.logins == 1


def test_wrong_password_raises_login_error_without_the_password() -> None:
    """A refused login raises LoginError naming the user and status, never the password."""
    service = Service(password="the-right-one")
    client = _client(service, credentials=Credentials(username="demo", password="wrong-canary-pw"))
    with pytest.raises(LoginError) as caught:
        list_tests.sync(client=client)
    text = "".join(traceback.format_exception(caught.value)) + repr(caught.value) + repr(client)
    assert "demo" in str(caught.value)
    assert "401" in str(caught.value)
    assert "wrong-canary-pw" not in text


def test_service_limit_is_retried_then_raised() -> None:
    """503 answers are retried by the transport layer; when they persist, ServiceLimitError is raised."""
    service = Service()
    client = _client(service)
    service.status["/tests"] = [503, 503]
    assert isinstance(list_tests.sync(client=client), MonitorList)
    service.status["/tests"] = [503] * 10
    with pytest.raises(ServiceLimitError):
        list_tests.sync(client=client)


def test_static_token_is_sent_and_never_refreshed() -> None:
    """A client built with token= sends it and never calls the login operation."""
    service = Service()
    service.valid.add("held-token")
    client = AuthenticatedClient(
        base_url=BASE, token="held-token", httpx_args={"transport": httpx.MockTransport(service)}
    )
    assert isinstance(list_tests.sync(client=client), MonitorList)
    assert service.logins == 0
    assert service.api_headers()[0]["authentication"] == "bearer held-token"


def test_credentials_are_refused_over_plain_http_to_a_remote_host() -> None:
    """Credentials are never sent over http:// to a non-loopback host."""
    service = Service()
    client = AuthenticatedClient(
        base_url="http://sc.example/publicapi/rest/v1.0",
        credentials=Credentials(username="demo", password="demo-password"),
        httpx_args={"transport": httpx.MockTransport(service)},
    )
    with pytest.raises(InsecureTransportError):
        list_tests.sync(client=client)
    assert service.requests == []


def test_repr_of_client_and_credentials_hides_secrets() -> None:
    """repr() of the client and of Credentials shows no password and no token."""
    service = Service()
    client = _client(service, credentials=Credentials(username="demo", password="demo-password"))
    list_tests.sync(client=client)
    text = repr(client) + repr(client.credentials) + repr(client.lifecycle)
    assert "demo-password" not in text
    assert "token-1-canary" not in text


def test_no_secret_reaches_any_log(caplog: pytest.LogCaptureFixture) -> None:
    """Login, refresh, recovery, a failed login and 503 exhaustion log at DEBUG without password or token."""
    caplog.set_level(logging.DEBUG)
    service, clock = Service(), Clock()
    client = _client(service, clock)
    list_tests.sync(client=client)
    clock.now += 18 * HOUR - 60
    list_tests.sync(client=client)
    service.valid.clear()
    list_tests.sync(client=client)
    service.status["/tests"] = [503] * 10
    with pytest.raises(ServiceLimitError):
        list_tests.sync(client=client)
    bad = _client(Service(password="other"), clock)
    with pytest.raises(LoginError):
        list_tests.sync(client=bad)
    logged = caplog.text
    assert "HTTP Request" in logged, "httpx's own request lines are captured"
    assert "synthetic_classic_client.auth" in {r.name for r in caplog.records}
    assert "demo-password" not in logged
    assert "-canary" not in logged


@pytest.mark.anyio
async def test_async_client_logs_in_once_and_recovers() -> None:
    """The asyncio endpoint functions share the lifecycle: lazy login, then 401 recovery with one login."""
    service = Service()
    client = _client(service)
    async with client as session:
        first = await list_tests.asyncio(client=session)
        service.valid.clear()
        second = await list_tests.asyncio(client=session)
    assert isinstance(first, MonitorList)
    assert isinstance(second, MonitorList)
    assert (service.logins, client.lifecycle.stats.replays) == (2, 1)


def test_64_threads_meeting_no_token_cause_one_login() -> None:
    """64 threads starting together on one sync client share a single login."""
    service = Service()
    client = _client(service)
    barrier = threading.Barrier(64)
    results: list[object] = []

    def call() -> None:
        barrier.wait()
        results.append(list_tests.sync(client=client))

    threads = [threading.Thread(target=call) for _ in range(64)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 64
    assert all(isinstance(result, MonitorList) for result in results)
    assert service.logins == 1


@pytest.mark.anyio
async def test_256_tasks_meeting_an_expired_token_cause_one_login() -> None:
    """256 asyncio tasks meeting an expired token on one async client share a single refresh."""
    import asyncio

    service, clock = Service(), Clock()
    client = _client(service, clock)
    async with client as session:
        await list_tests.asyncio(client=session)
        clock.now += 19 * HOUR
        results = await asyncio.gather(*(list_tests.asyncio(client=session) for _ in range(256)))
    assert all(isinstance(result, MonitorList) for result in results)
    assert service.logins == 2


def test_with_headers_cookies_and_timeout_copy_every_setting_and_share_the_lifecycle() -> None:
    """The with_* copies keep every other setting, send what they add, and share one token and one login."""
    service = Service()
    client = _client(service, headers={"X-Team": "ops"}, raise_on_unexpected_status=True)
    list_tests.sync(client=client)
    tagged = client.with_headers({"X-Run": "7"}).with_cookies({"session": "abc"})
    slow = tagged.with_timeout(httpx.Timeout(42.0))
    assert isinstance(slow, AuthenticatedClient)
    assert slow.lifecycle is client.lifecycle
    assert (slow.credentials, slow.retry, slow.raise_on_unexpected_status) == (
        client.credentials,
        client.retry,
        True,
    )
    list_tests.sync(client=slow)
    sent = service.api_headers()[-1]
    assert (sent["x-team"], sent["x-run"], sent["cookie"]) == ("ops", "7", "session=abc")
    assert sent["authentication"] == "bearer token-1-canary"
    assert slow.get_httpx_client().timeout == httpx.Timeout(42.0)
    assert client.get_httpx_client().timeout != httpx.Timeout(42.0)
    assert service.logins == 1


def test_with_headers_also_updates_the_httpx_client_already_built() -> None:
    """An httpx client that already exists sends the added header too (as in stock openapi-python-client)."""
    service = Service()
    client = _client(service)
    client.get_httpx_client()
    client.with_headers({"X-Run": "8"})
    list_tests.sync(client=client)
    assert service.api_headers()[-1]["x-run"] == "8"


def test_client_settings_are_its_own_copies() -> None:
    """Mutating the dict passed as headers after construction does not change what the client sends."""
    service = Service()
    headers = {"X-Team": "ops"}
    client = _client(service, headers=headers)
    headers["X-Team"] = "changed"
    list_tests.sync(client=client)
    assert service.api_headers()[-1]["x-team"] == "ops"


def test_clients_take_no_stray_attributes_and_show_only_safe_settings() -> None:
    """Clients have slots (a misspelt setting fails loudly); repr shows the base URL and redacted credentials."""
    client = _client(Service(), headers={"X-Api-Key": "header-secret"}, token="static-token-canary")
    with pytest.raises(AttributeError):
        client.raise_on_unexpected_stauts = True  # type: ignore[attr-defined]
    text = repr(client)
    assert text.startswith(f"AuthenticatedClient(base_url={BASE!r}, credentials=Credentials(")
    for secret in ("header-secret", "static-token-canary", "demo-password"):
        assert secret not in text


def test_the_token_does_not_follow_a_redirect_to_another_origin() -> None:
    """With follow_redirects, a call the service redirects elsewhere arrives there without the token."""
    service = Service()
    arrived: list[httpx.Request] = []

    def routes(request: httpx.Request) -> httpx.Response:
        if request.url.host == "elsewhere.example":
            arrived.append(request)
            return httpx.Response(200, json=MONITORS)
        if request.url.path.endswith("/tests"):
            service(request)  # logs the call (and checks its token) as the service would
            return httpx.Response(302, headers={"Location": "https://elsewhere.example/tests"})
        return service(request)

    client = AuthenticatedClient(
        base_url=BASE,
        credentials=Credentials(username="demo", password="demo-password"),
        clock=Clock(),
        follow_redirects=True,
        httpx_args={"transport": httpx.MockTransport(routes)},
    )
    assert isinstance(list_tests.sync(client=client), MonitorList)
    (foreign,) = arrived
    assert "authentication" not in foreign.headers
    assert service.api_headers()[-1]["authentication"] == "bearer token-1-canary"


def test_a_raise_for_status_hook_keeps_the_password_out_of_the_error() -> None:
    """httpx's raise-on-4xx hook in httpx_args runs on the failed login; its error hides the password."""

    def raise_on_4xx_5xx(response: httpx.Response) -> None:
        response.raise_for_status()

    client = AuthenticatedClient(
        base_url=BASE,
        credentials=Credentials(username="demo", password="demo-password"),
        clock=Clock(),
        httpx_args={
            "transport": httpx.MockTransport(Service(password="other")),
            "event_hooks": {"response": [raise_on_4xx_5xx]},
        },
    )
    with pytest.raises(httpx.HTTPStatusError) as caught:
        list_tests.sync(client=client)
    text = "".join(traceback.format_exception(caught.value))
    assert "/login?user=demo&password=***" in text
    assert "demo-password" not in text
