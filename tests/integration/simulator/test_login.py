"""Rule 1: every login issues a new, unique, unguessable token; wrong credentials get 401 at login."""

from __future__ import annotations

import re

import pytest

from ._support import DEMO, DEMO2, Simulator, auth


def test_every_login_issues_a_new_unique_token(sim: Simulator) -> None:
    """Twenty logins with the same credentials give twenty different random tokens, each of them usable."""
    tokens = [sim.login(DEMO) for _ in range(20)]
    assert len(set(tokens)) == 20
    for token in tokens:
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", token)
        assert "demo" not in token
    with sim.client() as client:
        assert all(client.get("/sites", headers=auth(token)).status_code == 200 for token in tokens)


def test_login_answers_the_token_as_the_whole_text_body(sim: Simulator) -> None:
    """The spec says the whole body is the token (text/plain): no quotes, no JSON, no newline."""
    with sim.client() as client:
        response = client.get("/login", params={"user": DEMO2[0], "password": DEMO2[1]})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == response.text.strip()
    assert '"' not in response.text


@pytest.mark.parametrize(
    ("user", "password"),
    [("demo", "wrong-password"), ("demo", "DEMO-PASSWORD"), ("nobody", "demo-password"), ("demo", "demo2-password")],
    ids=["wrong-password", "password-is-case-sensitive", "unknown-user", "another-users-password"],
)
def test_wrong_credentials_answer_401_at_login(sim: Simulator, user: str, password: str) -> None:
    """A wrong user name or password is refused at login with 401 and the spec's error shape."""
    with sim.client() as client:
        response = client.get("/login", params={"user": user, "password": password})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    assert "invalid user name or password" in response.json()["message"]
    assert sim.control("GET", "stats")["logins"] == {"total": 0, "failed": 1, "by_account": {}, "by_user": {}}


def test_login_without_a_credential_answers_400(sim: Simulator) -> None:
    """A login request missing its required password parameter is an invalid request, not a failed login."""
    with sim.client() as client:
        response = client.get("/login", params={"user": "demo"})
    assert response.status_code == 400
    assert response.json()["message"] == "Missing required query parameter 'password'."
