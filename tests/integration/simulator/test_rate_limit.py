"""Rule 6: service limits count per customer account, across tokens and users; over the limit is 503."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

import pytest

from ._support import DEMO, DEMO2, OTHER, SPEC_ARG, Simulator, auth, running

LIMIT = 40
WINDOW = 60


@pytest.fixture(scope="module")
def limited_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    """A simulator allowing LIMIT requests per account in any WINDOW seconds."""
    log = tmp_path_factory.mktemp("limited") / "stderr.log"
    with running(SPEC_ARG, "--control", "--rate-limit", f"{LIMIT}/{WINDOW}", log=log) as simulator:
        yield simulator


@pytest.fixture
def limited(limited_process: Simulator) -> Simulator:
    """The rate-limited simulator, reset, with its clock frozen so that no window slides by itself."""
    limited_process.control("POST", "reset")
    limited_process.control("POST", "clock/freeze", frozen="true")
    return limited_process


def test_over_the_account_limit_answers_503_with_retry_after(limited: Simulator) -> None:
    """The request after LIMIT answers 503 with Retry-After, for every user of the account, until the window moves."""
    demo, colleague, outsider = limited.login(DEMO), limited.login(DEMO2), limited.login(OTHER)
    with limited.client() as client:
        for index in range(LIMIT):
            token = demo if index % 2 else colleague
            assert client.get("/sites", headers=auth(token)).status_code == 200, index
        busy = client.get("/sites", headers=auth(demo))
        assert busy.status_code == 503
        assert busy.headers["retry-after"] == str(WINDOW)
        assert busy.json()["message"].startswith("Server busy: the service limit of account 1001")
        assert client.get("/tests", headers=auth(colleague)).status_code == 503
        assert client.get("/sites", headers=auth(outsider)).status_code == 200
        limited.control("POST", "clock/advance", seconds=WINDOW - 10)
        later = client.get("/sites", headers=auth(demo))
        assert later.status_code == 503
        assert later.headers["retry-after"] == "10"
        limited.control("POST", "clock/advance", seconds=10)
        assert client.get("/sites", headers=auth(demo)).status_code == 200
    assert limited.control("GET", "stats")["busy"] == 3


def test_concurrent_clients_never_lose_an_update(limited: Simulator) -> None:
    """Eight threads with four tokens of two users send 160 requests at once: exactly 160 - LIMIT get 503."""
    tokens = [limited.login(DEMO), limited.login(DEMO), limited.login(DEMO2), limited.login(DEMO2)]
    threads, per_thread = 8, 20
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def hammer(index: int) -> None:
        seen: Counter[int] = Counter()
        with limited.client() as client:
            start.wait()
            for _ in range(per_thread):
                seen[client.get("/sites", headers=auth(tokens[index % len(tokens)])).status_code] += 1
        with lock:
            statuses.update(seen)

    workers = [threading.Thread(target=hammer, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    total = threads * per_thread
    assert statuses == {200: LIMIT, 503: total - LIMIT}
    stats = limited.control("GET", "stats")
    assert stats["busy"] == total - LIMIT
    assert stats["requests"]["by_account"] == {"1001": total}
