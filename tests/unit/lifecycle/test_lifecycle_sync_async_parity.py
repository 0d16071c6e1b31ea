"""The sync and the async flow make the same decisions: each scenario runs through both clients and
must see the same requests on the wire, the same results and the same counters.

Both flows drive one sequence of steps (``_flow.auth_steps``); these tests keep it that way.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from token_lifecycle import LOGIN_FAILURE_BACKOFF_SECONDS, LifecycleStats, TokenLifecycle

from ._support import BASE_URL, HEADER, LIFETIME, FakeClock, make_lifecycle

Action = tuple[Any, ...]
"""("get", url) sends a request; ("advance", seconds) moves the clock; ("set", name, value) changes the service."""


class ScriptedService:
    """Issue tok-1, tok-2, ... on login; accept the tokens it has not revoked; 403 and 401 on demand."""

    def __init__(self) -> None:
        self.issued = 0
        self.valid: set[str] = set()
        self.login_fails = False
        self.seen: list[tuple[str, str, str | None]] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((request.method, str(request.url.copy_with(query=None)), request.headers.get(HEADER)))
        if request.url.path == "/v1/login":
            if self.login_fails:
                return httpx.Response(401, text="no")
            self.issued += 1
            token = f"tok-{self.issued}"
            self.valid.add(token)
            return httpx.Response(200, text=token)
        if request.url.host != "api.example":
            return httpx.Response(200, text="elsewhere")
        token = (request.headers.get(HEADER) or "").removeprefix("bearer ")
        if request.url.path == "/v1/forbidden":
            return httpx.Response(403)
        if request.url.path == "/v1/always-401" or token not in self.valid:
            return httpx.Response(401)
        return httpx.Response(200, text="ok")

    def apply(self, name: str, value: object) -> None:
        if name == "revoke":
            self.valid.clear()
        elif name == "login_fails":
            self.login_fails = bool(value)


Outcome = tuple[list[tuple[str, str, str | None]], list[str], LifecycleStats]


def _setup() -> tuple[ScriptedService, FakeClock, TokenLifecycle]:
    clock = FakeClock()
    return ScriptedService(), clock, make_lifecycle(clock)


def _run_sync(script: list[Action]) -> Outcome:
    service, clock, lifecycle = _setup()
    results: list[str] = []
    with httpx.Client(transport=httpx.MockTransport(service.handle), auth=lifecycle) as client:
        for action in script:
            if action[0] == "get":
                try:
                    results.append(str(client.get(action[1]).status_code))
                except Exception as exc:  # noqa: BLE001 - the outcome is compared, whatever it is
                    results.append(type(exc).__name__)
            elif action[0] == "advance":
                clock.advance(action[1])
            else:
                service.apply(action[1], action[2])
    return service.seen, results, lifecycle.stats


def _run_async(script: list[Action]) -> Outcome:
    service, clock, lifecycle = _setup()
    results: list[str] = []

    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(service.handle), auth=lifecycle) as client:
            for action in script:
                if action[0] == "get":
                    try:
                        results.append(str((await client.get(action[1])).status_code))
                    except Exception as exc:  # noqa: BLE001 - the outcome is compared, whatever it is
                        results.append(type(exc).__name__)
                elif action[0] == "advance":
                    clock.advance(action[1])
                else:
                    service.apply(action[1], action[2])

    asyncio.run(main())
    return service.seen, results, lifecycle.stats


ITEMS = f"{BASE_URL}/items"
ADVISORY = LIFETIME - 600  # inside the 900 s advisory window, outside the 300 s mandatory one
MANDATORY = LIFETIME - 100

SCENARIOS: dict[str, tuple[list[Action], list[str], LifecycleStats]] = {
    "fresh-login": ([("get", ITEMS)], ["200"], LifecycleStats(logins=1)),
    "reuse": ([("get", ITEMS), ("get", ITEMS), ("get", ITEMS)], ["200"] * 3, LifecycleStats(logins=1)),
    "advisory-refresh": (
        [("get", ITEMS), ("advance", ADVISORY), ("get", ITEMS), ("get", ITEMS)],
        ["200"] * 3,
        LifecycleStats(logins=2, proactive_refreshes=1),
    ),
    "mandatory-refresh": (
        [("get", ITEMS), ("advance", MANDATORY), ("get", ITEMS)],
        ["200"] * 2,
        LifecycleStats(logins=2, proactive_refreshes=1),
    ),
    "expired": (
        [("get", ITEMS), ("advance", LIFETIME + 1), ("get", ITEMS)],
        ["200"] * 2,
        LifecycleStats(logins=2, proactive_refreshes=1),
    ),
    "401-relogin-replay": (
        [("get", ITEMS), ("set", "revoke", True), ("get", ITEMS), ("get", ITEMS)],
        ["200"] * 3,
        LifecycleStats(logins=2, invalidations=1, replays=1),
    ),
    "login-failure": (
        [
            ("set", "login_fails", True),
            ("get", ITEMS),
            ("set", "login_fails", False),
            ("advance", LOGIN_FAILURE_BACKOFF_SECONDS),  # no new login before the back-off has passed
            ("get", ITEMS),
        ],
        ["LoginError", "200"],
        LifecycleStats(logins=1, failed_logins=1),
    ),
    "advisory-failure-keeps-token": (
        [("get", ITEMS), ("set", "login_fails", True), ("advance", ADVISORY), ("get", ITEMS)],
        ["200", "200"],
        LifecycleStats(logins=1, failed_logins=1),
    ),
    "403-not-retried": (
        [("get", ITEMS), ("get", f"{BASE_URL}/forbidden")],
        ["200", "403"],
        LifecycleStats(logins=1),
    ),
    "second-401-raises": (
        [("get", f"{BASE_URL}/always-401")],
        ["TokenRejectedError"],
        LifecycleStats(logins=2, invalidations=1, replays=1),
    ),
    "other-origin-untouched": (
        [("get", "https://elsewhere.example/x"), ("get", ITEMS)],
        ["200", "200"],
        LifecycleStats(logins=1),
    ),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_sync_and_async_flows_agree(name: str) -> None:
    """Same requests on the wire (tokens included), same results, same counters, and the expected ones."""
    script, results, stats = SCENARIOS[name]
    sync, async_ = _run_sync(script), _run_async(script)
    assert sync == async_
    assert sync[1] == results
    assert sync[2] == stats


def test_the_requests_seen_are_the_expected_ones_for_a_replay() -> None:
    """401 → login → replay, spelled out once: the replay carries the fresh token."""
    seen, _, _ = _run_sync([("get", ITEMS), ("set", "revoke", True), ("get", ITEMS)])
    assert seen == [
        ("GET", f"{BASE_URL}/login", None),
        ("GET", ITEMS, "bearer tok-1"),
        ("GET", ITEMS, "bearer tok-1"),
        ("GET", f"{BASE_URL}/login", None),
        ("GET", ITEMS, "bearer tok-2"),
    ]
