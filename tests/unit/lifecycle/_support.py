"""A fake clock, a fake token service behind httpx.MockTransport, and a lifecycle builder for the tests."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from token_lifecycle import Credentials, LoginCall, TokenLifecycle

BASE_URL = "https://api.example/v1"
LOGIN_PATH = "/v1/login"
USERNAME = "alice"
PASSWORD = "s3cret-pw"
LIFETIME = 18 * 3600.0
HEADER = "Authentication"


class FakeClock:
    """A monotonic clock that only moves when a test says so."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def query_login(**overrides: Any) -> LoginCall:
    """Return the Synthetic-Classic-like login: GET /login?user=..&password=.., the body is the token."""
    fields: dict[str, Any] = {
        "method": "GET",
        "path": "/login",
        "username_in": "query",
        "username_name": "user",
        "password_in": "query",
        "password_name": "password",
        "token_from": "body",
    }
    fields.update(overrides)
    return LoginCall(**fields)


def make_lifecycle(clock: FakeClock | None = None, **overrides: Any) -> TokenLifecycle:
    """Build a lifecycle for BASE_URL with the query login and alice's credentials unless overridden."""
    return TokenLifecycle(**lifecycle_arguments(clock, **overrides))


def lifecycle_arguments(clock: FakeClock | None = None, **overrides: Any) -> dict[str, Any]:
    """Return the keyword arguments `make_lifecycle` uses, for subclasses of TokenLifecycle."""
    arguments: dict[str, Any] = {
        "base_url": BASE_URL,
        "login": query_login(),
        "credentials": Credentials(USERNAME, PASSWORD),
        "header_name": HEADER,
        "scheme": "bearer",
        "lifetime": LIFETIME,
        "clock": clock if clock is not None else FakeClock(),
        "logger_name": "tests.lifecycle.auth",
    }
    arguments.update(overrides)
    return arguments


class FakeService:
    """Issue unique tokens on GET /v1/login and accept only valid ones elsewhere; thread-safe counters."""

    def __init__(
        self,
        *,
        username: str = USERNAME,
        password: str = PASSWORD,
        issue_prefix: str = "tok-",
        json_body: dict[str, Any] | None = None,
    ) -> None:
        self.username = username
        self.password = password
        self.issue_prefix = issue_prefix
        #: When set, login answers JSON: this dict plus ``access_token``.
        self.json_body = json_body
        self.lock = threading.Lock()
        self.logins = 0
        self.issued: list[str] = []
        self.valid: set[str] = set()
        #: (path, value of the Authentication header) of every non-login request, in arrival order.
        self.seen: list[tuple[str, str | None]] = []
        #: Forces the status of the next logins (None: normal behaviour).
        self.login_status: int | None = None
        #: Forces the status of an API path whatever the token.
        self.forced: dict[str, int] = {}
        #: Called inside the login handler before the token is issued (sync clients).
        self.login_gate: Callable[[], None] | None = None
        #: Awaited inside the login handler before the token is issued (async clients).
        self.async_login_gate: Callable[[], Awaitable[None]] | None = None

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def async_transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle_async)

    def revoke_all(self) -> None:
        with self.lock:
            self.valid.clear()

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == LOGIN_PATH:
            if self.login_gate is not None:
                self.login_gate()
            return self._login(request)
        return self._api(request)

    async def handle_async(self, request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0)  # let other tasks interleave, as a network would
        if request.url.path == LOGIN_PATH:
            if self.async_login_gate is not None:
                await self.async_login_gate()
            return self._login(request)
        return self._api(request)

    def _login(self, request: httpx.Request) -> httpx.Response:
        assert HEADER not in request.headers, "the login request must not carry the token header"
        with self.lock:
            if self.login_status is not None:
                return httpx.Response(self.login_status, text="no")
            user = request.url.params.get("user")
            password = request.url.params.get("password")
            if (user, password) != (self.username, self.password):
                return httpx.Response(401, text="bad credentials")
            self.logins += 1
            token = f"{self.issue_prefix}{self.logins}"
            self.issued.append(token)
            self.valid.add(token)
        if self.json_body is not None:
            return httpx.Response(200, json={**self.json_body, "access_token": token})
        return httpx.Response(200, text=token)

    def _api(self, request: httpx.Request) -> httpx.Response:
        header = request.headers.get(HEADER)
        with self.lock:
            self.seen.append((request.url.path, header))
            forced = self.forced.get(request.url.path)
            ok = header is not None and header.startswith("bearer ") and header[7:] in self.valid
        if forced is not None:
            return httpx.Response(forced, text="forced")
        if not ok:
            return httpx.Response(401, text="invalid token")
        return httpx.Response(200, json={"token": header[7:] if header else None})


def sent_token(response: httpx.Response) -> str:
    """Return the token the fake service saw on a successful API call."""
    body: object = response.json()
    assert isinstance(body, dict)
    token = cast("dict[str, object]", body).get("token")
    assert isinstance(token, str)
    return token


def gate() -> tuple[threading.Event, threading.Event, Callable[[], None]]:
    """Return (entered, release, hook): the hook signals ``entered`` and blocks until ``release``."""
    entered = threading.Event()
    release = threading.Event()

    def hook() -> None:
        entered.set()
        assert release.wait(timeout=10), "test never released the login"

    return entered, release, hook


class ConsumingTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Consume the request stream like a network transport (MockTransport reads it into memory instead)."""

    def __init__(self, service: FakeService) -> None:
        self.service = service

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        for _ in request.stream:
            pass
        return self.service.handle(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        async for _ in request.stream:
            pass
        return await self.service.handle_async(request)


def hold_async_logins(service: FakeService) -> tuple[asyncio.Event, asyncio.Event]:
    """Make the service's async logins wait: ``entered`` is set when one arrives, ``release`` lets it answer."""
    entered, release = asyncio.Event(), asyncio.Event()

    async def gate() -> None:
        entered.set()
        await release.wait()

    service.async_login_gate = gate
    return entered, release


def run_script_or_fail(script: str, hung: str) -> subprocess.CompletedProcess[str]:
    """Run ``script`` (which imports these helpers and the runtime) in a child process.

    For scripts that would hang on a regression (a deadlock): after 60 s the test fails with ``hung``
    instead of hanging the suite.
    """
    root = Path(__file__).resolve().parents[3]
    path = os.pathsep.join([str(root), str(root / "templates" / "runtime")])
    try:
        return subprocess.run(
            [sys.executable, "-c", script],
            cwd=root,
            env={**os.environ, "PYTHONPATH": path},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(hung)
