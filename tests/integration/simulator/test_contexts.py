"""Rule 3: the server keeps a user context per token; two logins of one user are two independent contexts."""

from __future__ import annotations

from ._support import DEMO, VIEWER, Simulator, auth


def test_two_logins_of_one_user_are_two_independent_contexts(sim: Simulator) -> None:
    """Each token remembers its own last query; revoking nothing, the two contexts never mix."""
    desktop, tablet = sim.login(DEMO), sim.login(DEMO)
    with sim.client() as client:
        assert client.get("/tests", params={"testName": "DC0%", "status": "ALL"}, headers=auth(desktop)).is_success
        assert client.get("/tests", params={"testType": "MOBILE"}, headers=auth(tablet)).is_success
        assert client.get("/sites", headers=auth(tablet)).is_success
    contexts = sim.control("GET", "contexts")["contexts"]
    assert len(contexts) == 2
    first, second = contexts
    assert first["token"] != second["token"]
    assert first["last_query"] == {"testName": ["DC0%"], "status": ["ALL"]}
    assert first["requests"] == 1
    assert second["last_query"] == {}
    assert second["requests"] == 2
    for context in contexts:
        assert context["user"] == "demo"
        assert context["account"] == "1001"
        assert context["permissions"] == ["*"]
        assert context["state"] == "active"


def test_a_context_holds_user_permissions_and_account(sim: Simulator) -> None:
    """The context of a token names its user, the user's permissions and customer account."""
    sim.login(VIEWER)
    (context,) = sim.control("GET", "contexts")["contexts"]
    assert context["user"] == "viewer"
    assert context["permissions"] == ["listTests"]
    assert context["account"] == "1001"
    assert 0 < context["expires_in"] <= 18 * 3600
