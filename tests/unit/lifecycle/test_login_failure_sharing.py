"""Issue 13, item 2, against a real loopback server: the back-off after a failed login, on an injected clock.

(The 64-thread and 256-task figures are measured against the simulator in
``tests/integration/clients/test_failed_login_sharing.py``.)
"""

from __future__ import annotations

import httpx
import pytest
from token_lifecycle import LOGIN_FAILURE_BACKOFF_SECONDS, Credentials, LoginError, TokenLifecycle

from tests.fault_server import FaultServer, Reply, Seen
from tests.unit.lifecycle._support import query_login

LOGIN = query_login(method="POST", username_in="form", password_in="form")
LIFETIME = 3600.0


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _Service:
    """Answers the login with ``login_status`` (a fresh token on 200) and every other request with 200."""

    def __init__(self) -> None:
        self.login_status = 200
        self.issued = 0

    def __call__(self, seen: Seen) -> Reply:
        if not seen.path.startswith("/login"):
            return Reply(200, b"ok")
        if self.login_status != 200:
            return Reply(self.login_status, b"no")
        self.issued += 1
        return Reply(200, f"tok-{self.issued}".encode())


def _lifecycle(url: str, clock: _Clock) -> TokenLifecycle:
    return TokenLifecycle(
        base_url=url,
        login=LOGIN,
        credentials=Credentials("alice", "s3cret-pw"),
        header_name="Authorization",
        scheme="Bearer",
        lifetime=LIFETIME,
        clock=clock,
        login_timeout=2.0,
    )


def test_new_callers_get_the_remembered_failure_until_the_back_off_has_passed() -> None:
    """Inside the back-off a call fails at once, with no login sent; after it, one new attempt."""
    service, clock = _Service(), _Clock()
    service.login_status = 401
    with FaultServer(service) as server, httpx.Client(auth=_lifecycle(server.url, clock), timeout=5.0) as client:
        with pytest.raises(LoginError, match="HTTP 401") as first:
            client.get(f"{server.url}/items")
        clock.now += LOGIN_FAILURE_BACKOFF_SECONDS - 0.5
        with pytest.raises(LoginError, match="HTTP 401") as second:
            client.get(f"{server.url}/items")
        assert second.value is not first.value
        assert str(second.value) == str(first.value)
        assert server.count("/login") == 1
        clock.now += 1.0
        service.login_status = 200
        assert client.get(f"{server.url}/items").request.headers["Authorization"] == "Bearer tok-1"
        assert server.count("/login") == 2


def test_invalidate_ends_the_back_off() -> None:
    """``invalidate()`` (e.g. once the account is unlocked) lets the next call log in at once."""
    service, clock = _Service(), _Clock()
    service.login_status = 403
    with FaultServer(service) as server:
        lifecycle = _lifecycle(server.url, clock)
        with httpx.Client(auth=lifecycle, timeout=5.0) as client:
            with pytest.raises(LoginError):
                client.get(f"{server.url}/items")
            service.login_status = 200
            with pytest.raises(LoginError):
                client.get(f"{server.url}/items")
            lifecycle.invalidate()
            assert client.get(f"{server.url}/items").status_code == 200
        assert server.count("/login") == 2


def test_a_failing_advisory_refresh_is_not_repeated_by_every_call() -> None:
    """In the advisory window a failed refresh keeps the token; no call retries it before the back-off ends."""
    service, clock = _Service(), _Clock()
    with FaultServer(service) as server, httpx.Client(auth=_lifecycle(server.url, clock), timeout=5.0) as client:
        client.get(f"{server.url}/items")
        clock.now += LIFETIME - 600  # inside the advisory window, outside the mandatory one
        service.login_status = 500
        for _ in range(5):
            assert client.get(f"{server.url}/items").request.headers["Authorization"] == "Bearer tok-1"
        assert server.count("/login") == 2  # the first login, then one failed refresh
        clock.now += LOGIN_FAILURE_BACKOFF_SECONDS
        service.login_status = 200
        assert client.get(f"{server.url}/items").request.headers["Authorization"] == "Bearer tok-2"
        assert server.count("/login") == 3
