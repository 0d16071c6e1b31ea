"""Logins under concurrency, counted by the simulator: threads and tasks meeting an expired token, a 401 storm.

Time travel goes through the simulator's control API and the client's injected clock; the
simulator's own login counter is the figure (target: exactly 1 per event). With a wrong password
the figure is login attempts, refused ones included: the callers waiting on one refused login share
its `LoginError` (before issue 13 each sent its own: 64 and 256 attempts).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from typing import Any

import httpx

from benchmarks._common import ROOT, simulator, table

LIFETIME = 18 * 3600.0


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _control(url: str, path: str, **params: Any) -> Any:
    return httpx.post(f"{url}/_control/{path}", params=params).json()


def _logins(url: str) -> int:
    stats: dict[str, Any] = httpx.get(f"{url}/_control/stats").json()
    return int(stats["logins"]["total"])


def _attempts(url: str) -> int:
    """Login attempts, failed ones included (the simulator counts a refused login as failed, not total)."""
    stats: dict[str, Any] = httpx.get(f"{url}/_control/stats").json()
    return int(stats["logins"]["total"]) + int(stats["logins"]["failed"])


def _threads(client: Any, call: Any, count: int, *, expected: tuple[type[Exception], ...] = ()) -> None:
    barrier = threading.Barrier(count)

    def run() -> None:
        barrier.wait()
        with contextlib.suppress(*expected):  # a refused login is what the wrong-password rows measure
            call(client=client)

    workers = [threading.Thread(target=run) for _ in range(count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def report() -> str:
    """The markdown section."""
    sys.path.insert(0, str(ROOT / "generated" / "synthetic_classic_client"))
    from synthetic_classic_client import AuthenticatedClient, Credentials, LoginError, RetryPolicy
    from synthetic_classic_client.api.tests import list_tests

    rows: list[list[object]] = []
    with simulator("spec/synthetic-classic.yaml", "--rate-limit", "100000000/60") as url:
        _control(url, "clock/freeze", frozen="true")
        credentials = Credentials(username="demo", password="demo-password")
        wrong = Credentials(username="demo", password="wrong-password")

        def client(clock: _Clock, credentials: Credentials = credentials) -> AuthenticatedClient:
            return AuthenticatedClient(
                base_url=url, credentials=credentials, clock=clock, retry=RetryPolicy().no_sleep()
            )

        clock = _Clock()
        with client(clock) as sync_client:
            list_tests.sync(client=sync_client)
            before = _logins(url)
            _control(url, "clock/advance", seconds=LIFETIME + 60)
            clock.now += LIFETIME + 60
            _threads(sync_client, list_tests.sync, 64)
            rows.append(["64 threads, one sync client, token expired", _logins(url) - before])
            before = _logins(url)
            _control(url, "tokens/revoke", user="demo")
            _threads(sync_client, list_tests.sync, 64)
            rows.append(["401 storm: 64 threads after a server-side revocation", _logins(url) - before])
        with client(_Clock(), wrong) as failing_client:
            before = _attempts(url)
            _threads(failing_client, list_tests.sync, 64, expected=(LoginError,))
            rows.append(["64 threads, wrong password: login attempts", _attempts(url) - before])

        async def tasks() -> None:
            aclock = _Clock()
            async with client(aclock) as async_client:
                await list_tests.asyncio(client=async_client)
                before = _logins(url)
                _control(url, "clock/advance", seconds=LIFETIME + 60)
                aclock.now += LIFETIME + 60
                await asyncio.gather(*(list_tests.asyncio(client=async_client) for _ in range(256)))
                rows.append(["256 tasks, one async client, token expired", _logins(url) - before])
                before = _logins(url)
                _control(url, "tokens/revoke", user="demo")
                await asyncio.gather(*(list_tests.asyncio(client=async_client) for _ in range(256)))
                rows.append(["401 storm: 256 tasks after a server-side revocation", _logins(url) - before])
            async with client(_Clock(), wrong) as failing_client:
                before = _attempts(url)
                results = await asyncio.gather(
                    *(list_tests.asyncio(client=failing_client) for _ in range(256)), return_exceptions=True
                )
                assert all(isinstance(result, LoginError) for result in results)
                rows.append(["256 tasks, wrong password: login attempts", _attempts(url) - before])

        asyncio.run(tasks())
    return "\n".join(
        [
            "## 2. Logins under concurrency",
            "",
            "Counted by the simulator's `/_control/stats`; the expiry is reached through the control API and "
            "the client's injected clock. Target: 1.",
            "",
            table(["event", "logins"], rows),
        ]
    )


if __name__ == "__main__":
    print(report())
