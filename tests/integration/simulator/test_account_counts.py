"""Per customer account, the stats count logins, 503s answered and 2xx answered: what a fleet is judged by."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._support import DEMO, DEMO2, OTHER, SPEC_ARG, VIEWER, Simulator, auth, running

LIMIT = 4
WINDOW = 60


@pytest.fixture(scope="module")
def limited_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    """A simulator allowing LIMIT requests per account in any WINDOW seconds."""
    log = tmp_path_factory.mktemp("accounts") / "stderr.log"
    with running(SPEC_ARG, "--control", "--rate-limit", f"{LIMIT}/{WINDOW}", log=log) as simulator:
        yield simulator


@pytest.fixture
def limited(limited_process: Simulator) -> Simulator:
    """The rate-limited simulator, reset, its clock frozen so that no window slides during a test."""
    limited_process.control("POST", "reset")
    limited_process.control("POST", "clock/freeze", frozen="true")
    return limited_process


def test_each_account_counts_its_logins_busy_and_ok_answers(limited: Simulator) -> None:
    """Two users of one account share its counts; the other account's are apart; 401s and 403s count in neither."""
    demo, colleague, outsider = limited.login(DEMO), limited.login(DEMO2), limited.login(OTHER)
    limited.login(DEMO)
    with limited.client() as client:
        statuses = [client.get("/sites", headers=auth(demo if i % 2 else colleague)).status_code for i in range(6)]
        assert statuses == [200] * LIMIT + [503, 503]
        assert client.get("/sites", headers=auth(outsider)).status_code == 200
        assert client.get("/sites", headers=auth("not-a-token")).status_code == 401
    accounts = limited.control("GET", "stats")["accounts"]
    assert accounts == {
        "1001": {"logins": 3, "busy": 2, "ok": LIMIT},
        "2002": {"logins": 1, "busy": 0, "ok": 1},
    }


def test_a_refused_permission_is_neither_busy_nor_ok(limited: Simulator) -> None:
    """A 403 for a missing permission is admitted by the limit but counted neither as a 503 nor as a success."""
    viewer = limited.login(VIEWER)
    with limited.client() as client:
        assert client.get("/sites", headers=auth(viewer)).status_code == 403
        assert client.get("/tests", headers=auth(viewer)).status_code == 200
    stats = limited.control("GET", "stats")
    assert stats["forbidden"] == 1
    assert stats["accounts"]["1001"] == {"logins": 1, "busy": 0, "ok": 1}


def test_reset_forgets_the_account_counts(limited: Simulator) -> None:
    """After a reset no account is listed: the counts start again from zero."""
    token = limited.login(DEMO)
    with limited.client() as client:
        assert client.get("/sites", headers=auth(token)).status_code == 200
    assert limited.control("GET", "stats")["accounts"] == {"1001": {"logins": 1, "busy": 0, "ok": 1}}
    limited.control("POST", "reset")
    assert limited.control("GET", "stats")["accounts"] == {}
