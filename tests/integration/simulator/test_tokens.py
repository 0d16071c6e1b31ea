"""Rule 2: a token is valid for the spec's lifetime; anything but a live token in the right header gets 401."""

from __future__ import annotations

import pytest

from ._support import DEMO, DEMO2, Simulator, auth

EIGHTEEN_HOURS = 18 * 3600


def test_a_live_token_opens_protected_operations(sim: Simulator) -> None:
    """``Authentication: bearer <token>`` from a login gets 200 and the fixture body."""
    token = sim.login()
    with sim.client() as client:
        response = client.get("/tests", headers=auth(token))
    assert response.status_code == 200
    monitors = response.json()["Monitors"]
    assert [m["Monitor"]["monitorID"] for m in monitors] == ["21714841", "21714856", "21730112", "21702277"]


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "no Authentication header was sent"),
        ({"Authentication": "bearer 9f0c4a57-5d0b-4b43-a1a3-8a1c7d9b7e01"}, "the bearer token is unknown"),
        ({"Authorization": "bearer {token}"}, "no Authentication header was sent"),
        ({"Authentication": "{token}"}, "the Authentication header must read 'bearer <token>'"),
        ({"Authentication": "token {token}"}, "the Authentication header must read 'bearer <token>'"),
        ({"Authentication": "bearer"}, "the Authentication header must read 'bearer <token>'"),
    ],
    ids=["missing", "unknown", "authorization-header", "no-scheme-word", "other-scheme-word", "scheme-word-only"],
)
def test_requests_without_a_usable_token_answer_401(sim: Simulator, headers: dict[str, str], reason: str) -> None:
    """A missing or unknown token, the wrong header, or a missing scheme word all answer 401 saying why."""
    token = sim.login()
    sent = {name: value.format(token=token) for name, value in headers.items()}
    with sim.client() as client:
        response = client.get("/tests", headers=sent)
    assert response.status_code == 401
    assert reason in response.json()["message"]
    assert response.headers["www-authenticate"].startswith("bearer")


def test_the_scheme_word_is_case_insensitive(sim: Simulator) -> None:
    """``Bearer`` and ``BEARER`` are the same scheme word as ``bearer`` (RFC 7235 auth-schemes)."""
    token = sim.login()
    with sim.client() as client:
        assert client.get("/sites", headers=auth(token, "Bearer")).status_code == 200
        assert client.get("/sites", headers=auth(token, "BEARER")).status_code == 200


def test_a_token_expires_after_the_specs_lifetime(sim: Simulator) -> None:
    """A token works one minute before its 18 hours are over and answers 401 once they are."""
    token = sim.login()
    with sim.client() as client:
        sim.control("POST", "clock/advance", seconds=EIGHTEEN_HOURS - 60)
        assert client.get("/sites", headers=auth(token)).status_code == 200
        sim.control("POST", "clock/advance", seconds=60)
        response = client.get("/sites", headers=auth(token))
    assert response.status_code == 401
    assert "the bearer token is expired" in response.json()["message"]
    fresh = sim.login()
    with sim.client() as client:
        assert client.get("/sites", headers=auth(fresh)).status_code == 200


def test_a_revoked_token_answers_401(sim: Simulator) -> None:
    """Revoking a user's tokens ends every one of them, and only theirs."""
    first, second, colleague = sim.login(DEMO), sim.login(DEMO), sim.login(DEMO2)
    assert sim.control("POST", "tokens/revoke", user="demo") == {"user": "demo", "revoked": 2}
    with sim.client() as client:
        for token in (first, second):
            response = client.get("/sites", headers=auth(token))
            assert response.status_code == 401
            assert "the bearer token is revoked" in response.json()["message"]
        assert client.get("/sites", headers=auth(colleague)).status_code == 200
