"""Rule 8: the simulator serves any spec from the spec and its x-token-lifecycle, knowing no API by name.

Two inline specs prove it: an OAuth 2.0 password-grant style API (form login, JSON token with
``expires_in``, ``Authorization: Bearer``, OpenAPI 3.1) and a JSON-login API (token nested in a
JSON body, bare token in ``X-Session``, OpenAPI 3.0, no fixtures file so the default user).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.conftest import write_spec

from ._specs import NOTES_SPEC, OAUTH_FIXTURES, OAUTH_SPEC
from ._support import ROOT, Simulator, running

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


@pytest.fixture(scope="module")
def oauth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    """The OAuth-style spec served with its own fixtures and a 30-minute token lifetime."""
    folder = tmp_path_factory.mktemp("oauth")
    spec = write_spec(folder / "inventory.yaml", OAUTH_SPEC)
    fixtures = folder / "people.yaml"
    fixtures.write_text(OAUTH_FIXTURES, encoding="utf-8")
    with running(spec, "--control", "--fixtures", fixtures, "--token-lifetime", "PT30M", log=folder / "log") as sim:
        yield sim


@pytest.fixture
def inventory(oauth: Simulator) -> Simulator:
    """The OAuth-style simulator, reset."""
    oauth.control("POST", "reset")
    return oauth


def _token(sim: Simulator, username: str, password: str) -> dict[str, str]:
    with sim.client() as client:
        response = client.post(
            "/oauth/token", data={"grant_type": "password", "username": username, "password": password}
        )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_form_login_answers_the_json_token_with_expires_in(inventory: Simulator) -> None:
    """A password-grant form login answers the example's JSON with a new token and the lifetime in seconds."""
    with inventory.client() as client:
        response = client.post(
            "/oauth/token", data={"grant_type": "password", "username": "bob", "password": "bob-secret"}
        )
    assert response.status_code == 200
    body = response.json()
    assert UUID.fullmatch(body["access_token"])
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 1800


def test_form_login_refusals_use_the_specs_error_shape(inventory: Simulator) -> None:
    """An oauth2 scheme's token endpoint answers RFC 6749 §5.2 errors (400 with ``{error, error_description}``),
    also when ``x-token-lifecycle`` names the operation."""
    with inventory.client() as client:
        wrong = client.post("/oauth/token", data={"grant_type": "password", "username": "bob", "password": "x"})
        grant = client.post(
            "/oauth/token", data={"grant_type": "client_credentials", "username": "bob", "password": "bob-secret"}
        )
        missing = client.post("/oauth/token", data={"grant_type": "password", "username": "bob"})
    assert wrong.status_code == 400
    assert wrong.json() == {"error": "invalid_grant", "error_description": "Invalid user name or password."}
    assert grant.status_code == 400
    assert grant.json()["error"] == "unsupported_grant_type"
    assert missing.status_code == 400
    assert missing.json() == {"error": "invalid_request", "error_description": "Missing 'password'."}


def test_authorization_bearer_tokens_open_the_api(inventory: Simulator) -> None:
    """The token goes in ``Authorization: Bearer``; bodies come from fixtures, else are built from the schema."""
    headers = _token(inventory, "bob", "bob-secret")
    with inventory.client() as client:
        assert client.get("/items", params={"limit": 5, "tags": ["a", "b"]}, headers=headers).json() == [
            {"id": 1, "name": "Widget", "price": 2.5},
            {"id": 2, "name": "Gadget"},
        ]
        assert client.get("/items/7", headers=headers).json() == {"id": 1, "name": "x"}
        assert client.get("/items", headers={"Authentication": headers["Authorization"]}).status_code == 401


def test_parameters_and_json_bodies_are_validated_from_the_spec(inventory: Simulator) -> None:
    """Query, header, path parameters and JSON bodies are checked against their schemas, with $ref."""
    headers = _token(inventory, "bob", "bob-secret")
    with inventory.client() as client:
        cases = {
            "Invalid value '0' for query parameter 'limit': 0 is less than the minimum of 1.": client.get(
                "/items", params={"limit": 0}, headers=headers
            ),
            "Invalid value 'two' for header parameter 'X-Page': 'two' is not of type 'integer'.": client.get(
                "/items", headers={**headers, "X-Page": "two"}
            ),
            "Invalid value 'seven' for path parameter 'item-id': 'seven' is not of type 'integer'.": client.get(
                "/items/seven", headers=headers
            ),
            "Malformed JSON body: Expecting property name enclosed in double quotes at line 1, column 2.": client.put(
                "/items/1", content="{oops", headers={**headers, "Content-Type": "application/json"}
            ),
            "Invalid request body (application/json) at /id: 0 is less than the minimum of 1.": client.put(
                "/items/1", json={"id": 0, "name": "n"}, headers=headers
            ),
        }
        assert client.put("/items/1", json={"id": 1, "name": "n"}, headers=headers).status_code == 200
    for message, response in cases.items():
        assert response.status_code == 400
        assert response.json() == {"message": message}


def test_permissions_and_lifetime_override_apply_to_any_spec(inventory: Simulator) -> None:
    """alice may read but not update (403); a token dies after the --token-lifetime of 30 minutes."""
    alice = _token(inventory, "alice", "alice-secret")
    with inventory.client() as client:
        assert client.put("/items/1", json={"id": 1, "name": "n"}, headers=alice).status_code == 403
        inventory.control("POST", "clock/advance", seconds=1799)
        assert client.get("/items/1", headers=alice).status_code == 200
        inventory.control("POST", "clock/advance", seconds=1)
        assert client.get("/items/1", headers=alice).status_code == 401


@pytest.fixture(scope="module")
def notes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    """The JSON-login OpenAPI 3.0 spec, with no fixtures file beside it."""
    folder = tmp_path_factory.mktemp("notes")
    spec = write_spec(folder / "notes.yaml", NOTES_SPEC)
    with running(spec, log=folder / "log") as sim:
        yield sim


def test_json_login_with_a_nested_token_and_a_bare_header(notes: Simulator) -> None:
    """A JSON login answers the token at its pointer; the header carries it without a scheme word."""
    with notes.client() as client:
        response = client.post("/session", json={"login": "demo", "secret": "demo-password"})
        assert response.status_code == 201
        token = response.json()["session"]["token"]
        assert UUID.fullmatch(token)
        assert client.get("/notes", headers={"X-Session": token}).json() == ["first note"]
        assert client.get("/notes", headers={"X-Session": f"bearer {token}"}).status_code == 401
        assert client.get("/notes").status_code == 401


def test_default_user_and_public_operations_without_fixtures(notes: Simulator) -> None:
    """Without a fixtures file only demo / demo-password logs in; operations without security need no token."""
    with notes.client() as client:
        assert client.post("/session", json={"login": "other", "secret": "other-password"}).status_code == 401
        assert client.post("/session", content="{", headers={"Content-Type": "application/json"}).status_code == 400
        health = client.get("/health")
    assert (health.status_code, health.text, health.headers["content-type"]) == (200, "ok", "text/plain; charset=utf-8")


def test_the_simulator_source_names_no_particular_api() -> None:
    """No module of simulator/ mentions Synthetic Classic: everything comes from the spec."""
    for module in (ROOT / "simulator").glob("*.py"):
        text = module.read_text(encoding="utf-8").lower()
        assert "synthetic" not in text, module
        assert "testresults" not in text, module
