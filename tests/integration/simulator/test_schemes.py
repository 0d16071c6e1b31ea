"""Every security scheme without an extension, served over sockets: the OAuth2 token endpoint's RFC 6749
behaviour (password, client credentials, refresh with rotation, client authentication, scopes) and each
static scheme's acceptance and rejection (apiKey in a header, query or cookie; http bearer; http basic;
AND and OR of schemes), and an identity provider on another port that sees only what it should.

The documents and fixtures are the ones the generated-client tests use (tests/integration/clients/schemes).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from ruamel.yaml import YAML

from tests.conftest import write_spec

from ._support import ROOT, Simulator, running

SCHEMES = ROOT / "tests" / "integration" / "clients" / "schemes"


def _serve(name: str, tmp: pytest.TempPathFactory, *args: str) -> Iterator[Simulator]:
    folder = tmp.mktemp(name)
    with running(SCHEMES / f"{name}.yaml", "--control", *args, log=folder / "stderr.log") as simulator:
        yield simulator


@pytest.fixture(scope="module")
def password_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    yield from _serve("password", tmp_path_factory)


@pytest.fixture(scope="module")
def clients_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    yield from _serve("client-credentials", tmp_path_factory)


@pytest.fixture(scope="module")
def static_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    yield from _serve("static", tmp_path_factory)


@pytest.fixture(scope="module")
def idp_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    yield from _serve("idp", tmp_path_factory, "--token-port", "0")


def _reset(simulator: Simulator) -> Simulator:
    simulator.control("POST", "reset")
    simulator.control("POST", "clock/freeze", frozen="true")
    return simulator


@pytest.fixture
def pw(password_process: Simulator) -> Simulator:
    return _reset(password_process)


@pytest.fixture
def cc(clients_process: Simulator) -> Simulator:
    return _reset(clients_process)


@pytest.fixture
def static(static_process: Simulator) -> Simulator:
    return _reset(static_process)


@pytest.fixture
def idp(idp_process: Simulator) -> Simulator:
    return _reset(idp_process)


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_request(sim: Simulator, form: dict[str, str], **kwargs: Any) -> httpx.Response:
    with sim.client() as client:
        return client.post("/oauth/token", data=form, **kwargs)


def password_grant(sim: Simulator, user: str = "demo", password: str = "demo-password", **form: str) -> dict[str, Any]:
    response = token_request(sim, {"grant_type": "password", "username": user, "password": password, **form})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def get(sim: Simulator, path: str, **kwargs: Any) -> httpx.Response:
    with sim.client() as client:
        return client.get(path, **kwargs)


# --- OAuth2 password grant (RFC 6749 §4.3, §5) ---------------------------------------------------------


def test_password_grant_answers_rfc_token_json_that_opens_the_api(pw: Simulator) -> None:
    """§5.1: access_token, token_type, expires_in, refresh_token, scope; no-store; the token works as Bearer."""
    response = token_request(pw, {"grant_type": "password", "username": "demo", "password": "demo-password"})
    assert response.status_code == 200
    assert (response.headers["cache-control"], response.headers["pragma"]) == ("no-store", "no-cache")
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 3600, "read write")
    assert body["refresh_token"] != body["access_token"]
    assert get(pw, "/items", headers=bearer(body["access_token"])).json() == [
        {"id": 1, "name": "Widget"},
        {"id": 2, "name": "Gadget"},
    ]
    stats = pw.control("GET", "stats")
    assert stats["logins"]["by_user"] == {"demo": 1}
    assert stats["grants"]["by_type"] == {"password": 1}


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"username": "demo", "password": "demo-password"}, 400, "invalid_request"),
        ({"grant_type": "password", "username": "demo"}, 400, "invalid_request"),
        ({"grant_type": "password", "username": "demo", "password": "wrong"}, 400, "invalid_grant"),
        ({"grant_type": "password", "username": "nobody", "password": "demo-password"}, 400, "invalid_grant"),
        ({"grant_type": "client_credentials"}, 400, "unsupported_grant_type"),
        ({"grant_type": "authorization_code", "code": "x"}, 400, "unsupported_grant_type"),
        ({"grant_type": "refresh_token", "refresh_token": "made-up"}, 400, "invalid_grant"),
    ],
    ids=[
        "no-grant-type",
        "no-password",
        "wrong-password",
        "unknown-user",
        "grant-not-offered",
        "unknown-grant",
        "unknown-refresh-token",
    ],
)
def test_token_errors_follow_rfc_6749_section_5_2(pw: Simulator, form: dict[str, str], status: int, error: str) -> None:
    """Each mistake answers its §5.2 error code as JSON, never cached, and issues nothing."""
    response = token_request(pw, form)
    assert (response.status_code, response.json()["error"]) == (status, error)
    assert response.json()["error_description"]
    assert response.headers["cache-control"] == "no-store"
    assert pw.control("GET", "stats")["logins"]["total"] == 0


def test_a_wrong_password_counts_as_a_failed_login_and_a_rejection(pw: Simulator) -> None:
    token_request(pw, {"grant_type": "password", "username": "demo", "password": "wrong"})
    stats = pw.control("GET", "stats")
    assert (stats["logins"]["failed"], stats["rejections"]["by_scheme"]) == (1, {"oauth": 1})


def test_the_token_request_must_be_a_form_with_each_parameter_once(pw: Simulator) -> None:
    """§3.2: form-encoded POST; a repeated parameter is invalid_request."""
    with pw.client() as client:
        as_json = client.post("/oauth/token", json={"grant_type": "password", "username": "demo", "password": "x"})
        twice = client.post(
            "/oauth/token",
            content="grant_type=password&username=demo&username=demo&password=demo-password",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert (as_json.status_code, as_json.json()["error"]) == (400, "invalid_request")
    assert (twice.status_code, twice.json()["error"]) == (400, "invalid_request")


def test_scopes_are_granted_within_what_the_user_may_have(pw: Simulator) -> None:
    """§3.3: no scope asked: all the user may have; more than that: narrowed; an unknown scope: invalid_scope."""
    assert password_grant(pw, "reader", "reader-password")["scope"] == "read"
    assert password_grant(pw, scope="read")["scope"] == "read"
    assert password_grant(pw, "reader", "reader-password", scope="read write")["scope"] == "read"
    for scope in ("read admin", "write"):
        response = token_request(
            pw, {"grant_type": "password", "username": "reader", "password": "reader-password", "scope": scope}
        )
        assert (response.status_code, response.json()["error"]) == (400, "invalid_scope")


def test_an_operation_needing_a_scope_the_token_lacks_answers_403_insufficient_scope(pw: Simulator) -> None:
    """RFC 6750 §3.1: a valid token without the operation's scope is 403 insufficient_scope, not 401."""
    token = password_grant(pw, scope="read")["access_token"]
    with pw.client() as client:
        listed = client.get("/items", headers=bearer(token))
        created = client.post("/items", json={"id": 3, "name": "Gizmo"}, headers=bearer(token))
    assert listed.status_code == 200
    assert created.status_code == 403
    assert 'error="insufficient_scope"' in created.headers["www-authenticate"]
    assert 'scope="write"' in created.headers["www-authenticate"]
    assert "write" in created.json()["message"]


def test_tokens_expire_by_the_simulator_clock_and_a_refresh_token_rotates(pw: Simulator) -> None:
    """§6: after expiry the refresh token gets a new pair; the old refresh token is then spent."""
    first = password_grant(pw)
    pw.control("POST", "clock/advance", seconds=3600)
    expired = get(pw, "/items", headers=bearer(first["access_token"]))
    assert expired.status_code == 401
    assert "expired" in expired.json()["message"]
    refreshed = token_request(pw, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert refreshed.status_code == 200
    second = refreshed.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["scope"] == "read write"
    assert get(pw, "/items", headers=bearer(second["access_token"])).status_code == 200
    again = token_request(pw, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
    stats = pw.control("GET", "stats")
    assert (stats["logins"]["total"], stats["refreshes"]) == (1, {"total": 1, "failed": 1, "by_user": {"demo": 1}})


def test_a_refresh_may_narrow_the_scope_but_never_widen_it(pw: Simulator) -> None:
    narrow = password_grant(pw, scope="read")
    wider = token_request(
        pw, {"grant_type": "refresh_token", "refresh_token": narrow["refresh_token"], "scope": "read write"}
    )
    assert (wider.status_code, wider.json()["error"]) == (400, "invalid_scope")
    full = password_grant(pw)
    narrowed = token_request(
        pw, {"grant_type": "refresh_token", "refresh_token": full["refresh_token"], "scope": "read"}
    )
    assert narrowed.json()["scope"] == "read"


def test_revoked_refresh_tokens_are_refused(pw: Simulator) -> None:
    """The control API revokes a user's refresh tokens, so a client's fallback to a full login can be tested."""
    grant = password_grant(pw)
    assert pw.control("POST", "tokens/revoke", user="demo", refresh="true") == {"user": "demo", "revoked": 1}
    response = token_request(pw, {"grant_type": "refresh_token", "refresh_token": grant["refresh_token"]})
    assert response.json()["error"] == "invalid_grant"
    assert get(pw, "/items", headers=bearer(grant["access_token"])).status_code == 200


def test_a_client_authenticated_password_grant_binds_its_refresh_token_to_the_client(pw: Simulator) -> None:
    """§2.3.1 and §6: Basic client authentication; the refresh then needs the same client."""
    form = {"grant_type": "password", "username": "demo", "password": "demo-password"}
    granted = token_request(pw, form, headers=basic("web-app", "web-app-secret")).json()
    refresh = {"grant_type": "refresh_token", "refresh_token": granted["refresh_token"]}
    anonymous = token_request(pw, refresh)
    assert (anonymous.status_code, anonymous.json()["error"]) == (400, "invalid_grant")
    in_body = token_request(pw, {**refresh, "client_id": "web-app", "client_secret": "web-app-secret"})
    assert in_body.status_code == 200
    contexts = pw.control("GET", "contexts")["contexts"]
    assert [(c["user"], c["client"], c["scheme"]) for c in contexts] == [("demo", "web-app", "oauth")] * 2


def test_client_authentication_failures_are_invalid_client(pw: Simulator) -> None:
    """A wrong client is 401 invalid_client (with a Basic challenge when Basic was tried); both ways at once is
    invalid_request."""
    form = {"grant_type": "password", "username": "demo", "password": "demo-password"}
    wrong = token_request(pw, form, headers=basic("web-app", "wrong"))
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    assert wrong.headers["www-authenticate"].startswith("Basic ")
    in_body = token_request(pw, {**form, "client_id": "web-app", "client_secret": "wrong"})
    assert (in_body.status_code, in_body.json()["error"]) == (401, "invalid_client")
    both = token_request(
        pw,
        {**form, "client_id": "web-app", "client_secret": "web-app-secret"},
        headers=basic("web-app", "web-app-secret"),
    )
    assert (both.status_code, both.json()["error"]) == (400, "invalid_request")


def test_a_public_client_may_name_itself_a_registered_one_must_authenticate(pw: Simulator) -> None:
    """§2.3: ``client_id`` without a secret is a public client; a registered client id without its secret is not."""
    form = {"grant_type": "password", "username": "demo", "password": "demo-password"}
    assert token_request(pw, {**form, "client_id": "mobile-app"}).status_code == 200
    registered = token_request(pw, {**form, "client_id": "web-app"})
    assert (registered.status_code, registered.json()["error"]) == (401, "invalid_client")


def test_x_token_lifecycle_field_names_on_an_oauth2_scheme_are_honoured(tmp_path: Path) -> None:
    """An oauth2 password flow whose extension names the token operation and its own form fields."""
    document = YAML(typ="safe", pure=True).load((SCHEMES / "password.yaml").read_text(encoding="utf-8"))
    document["paths"]["/oauth/token"] = {
        "post": {
            "operationId": "issueToken",
            "security": [],
            "requestBody": {
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": {
                            "type": "object",
                            "properties": {"login": {"type": "string"}, "secret": {"type": "string"}},
                        }
                    }
                }
            },
            "responses": {"200": {"description": "A token."}},
        }
    }
    document["components"]["securitySchemes"]["oauth"]["x-token-lifecycle"] = {
        "login": {"operationId": "issueToken", "username": "login", "password": "secret"}
    }
    spec = write_spec(tmp_path / "renamed.yaml", document)
    fixtures = SCHEMES / "fixtures" / "password.yaml"
    with running(spec, "--fixtures", fixtures, log=tmp_path / "stderr.log") as sim:
        renamed = token_request(sim, {"grant_type": "password", "login": "demo", "secret": "demo-password"})
        standard = token_request(sim, {"grant_type": "password", "username": "demo", "password": "demo-password"})
    assert renamed.status_code == 200, renamed.text
    assert (standard.status_code, standard.json()["error"]) == (400, "invalid_request")


# --- OAuth2 client credentials grant (RFC 6749 §4.4) -----------------------------------------------------


@pytest.mark.parametrize("how", ["basic", "body"])
def test_client_credentials_grant_by_basic_or_in_the_body(cc: Simulator, how: str) -> None:
    """§4.4: the client authenticates either way; no refresh token (§4.4.3); the token opens the API."""
    form = {"grant_type": "client_credentials"}
    if how == "basic":
        response = token_request(cc, form, headers=basic("backend", "backend-secret"))
    else:
        response = token_request(cc, {**form, "client_id": "backend", "client_secret": "backend-secret"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "refresh_token" not in body
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 3600, "read write")
    assert get(cc, "/items", headers=bearer(body["access_token"])).status_code == 200
    stats = cc.control("GET", "stats")
    assert (stats["grants"]["by_client"], stats["logins"]["by_user"]) == ({"backend": 1}, {})
    assert stats["logins"]["by_account"] == {"1001": 1}


def test_client_credentials_need_a_valid_client(cc: Simulator) -> None:
    missing = token_request(cc, {"grant_type": "client_credentials"})
    wrong = token_request(cc, {"grant_type": "client_credentials"}, headers=basic("backend", "nope"))
    password = token_request(cc, {"grant_type": "password", "username": "demo", "password": "demo-password"})
    assert (missing.status_code, missing.json()["error"]) == (401, "invalid_client")
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    assert (password.status_code, password.json()["error"]) == (400, "unsupported_grant_type")


def test_a_client_gets_only_its_scopes_and_permissions(cc: Simulator) -> None:
    """``reporting`` may have the read scope only and list items only."""
    refused = token_request(
        cc, {"grant_type": "client_credentials", "scope": "write"}, headers=basic("reporting", "reporting-secret")
    )
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_scope")
    token = token_request(
        cc, {"grant_type": "client_credentials"}, headers=basic("reporting", "reporting-secret")
    ).json()
    assert token["scope"] == "read"
    with cc.client() as client:
        listed = client.get("/items", headers=bearer(token["access_token"]))
        created = client.post("/items", json={"id": 3, "name": "Gizmo"}, headers=bearer(token["access_token"]))
    assert (listed.status_code, created.status_code) == (200, 403)
    assert cc.control("GET", "stats")["requests"]["by_account"] == {"2002": 2}


# --- Static credentials: apiKey header / query / cookie, bearer, basic ------------------------------------


GOOD: dict[str, dict[str, Any]] = {
    "/header/items": {"headers": {"X-API-Key": "static-key"}},
    "/query/items": {"params": {"api_key": "static-key"}},
    "/cookie/items": {"headers": {"Cookie": "session_key=static-key"}},
    "/bearer/items": {"headers": bearer("static-key")},
    "/basic/items": {"headers": basic("demo", "demo-password")},
}
BAD: dict[str, dict[str, Any]] = {
    "/header/items": {"headers": {"X-API-Key": "wrong-key"}},
    "/query/items": {"params": {"api_key": "wrong-key"}},
    "/cookie/items": {"headers": {"Cookie": "session_key=wrong-key"}},
    "/bearer/items": {"headers": bearer("wrong-key")},
    "/basic/items": {"headers": basic("demo", "wrong-password")},
}
CHALLENGE = {
    "/header/items": "X-API-Key",
    "/query/items": "api_key",
    "/cookie/items": "session_key",
    "/bearer/items": "Bearer",
    "/basic/items": "Basic",
}


@pytest.mark.parametrize("path", list(GOOD))
def test_each_static_scheme_accepts_its_credential_where_the_scheme_puts_it(static: Simulator, path: str) -> None:
    assert get(static, path, **GOOD[path]).json() == [{"id": 1, "name": "Widget"}]


@pytest.mark.parametrize("path", list(GOOD))
def test_each_static_scheme_refuses_a_wrong_or_missing_credential_with_401(static: Simulator, path: str) -> None:
    wrong, missing = get(static, path, **BAD[path]), get(static, path)
    for response in (wrong, missing):
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == f'{CHALLENGE[path]} realm="simulator"'
    stats = static.control("GET", "stats")
    assert sum(stats["rejections"]["by_scheme"].values()) == 2


def test_a_credential_in_another_place_is_not_accepted(static: Simulator) -> None:
    """The header key in the query, a bearer token without its word, a key scoped to another scheme: 401."""
    assert get(static, "/header/items", params={"X-API-Key": "static-key"}).status_code == 401
    assert get(static, "/bearer/items", headers={"Authorization": "static-key"}).status_code == 401
    assert get(static, "/query/items", params={"api_key": "query-only-key"}).status_code == 200
    assert get(static, "/header/items", headers={"X-API-Key": "query-only-key"}).status_code == 401


def test_and_or_and_optional_requirements(static: Simulator) -> None:
    """{basic, keyHeader} needs both; [bearer] OR [basic] takes either; [keyHeader] OR {} admits anyone."""
    both = {**basic("demo", "demo-password"), "X-API-Key": "static-key"}
    assert get(static, "/both/items", headers=both).status_code == 200
    assert get(static, "/both/items", headers=basic("demo", "demo-password")).status_code == 401
    assert get(static, "/either/items", headers=bearer("static-key")).status_code == 200
    assert get(static, "/either/items", headers=basic("demo", "demo-password")).status_code == 200
    neither = get(static, "/either/items")
    assert neither.headers["www-authenticate"] == 'Bearer realm="simulator", Basic realm="simulator"'
    assert get(static, "/optional/items").status_code == 200


def test_static_tokens_act_for_their_user(static: Simulator) -> None:
    """The viewer's key is counted against the viewer's account and limited to the viewer's permissions."""
    assert get(static, "/header/items", headers={"X-API-Key": "viewer-key"}).status_code == 200
    assert get(static, "/query/items", params={"api_key": "viewer-key"}).status_code == 403
    assert static.control("GET", "stats")["requests"]["by_account"] == {"1001": 2}


# --- An identity provider on another origin ---------------------------------------------------------------


def test_the_token_port_serves_the_token_endpoint_only_and_origins_are_recorded(idp: Simulator) -> None:
    """The password goes to the identity provider's port, the token to the API's; the control API sees which."""
    assert idp.token_url is not None
    assert idp.token_url.endswith("/oauth2/token")
    with httpx.Client(timeout=10.0) as client:
        granted = client.post(
            idp.token_url, data={"grant_type": "password", "username": "demo", "password": "demo-password"}
        )
        other = client.get(idp.token_url.replace("/oauth2/token", "/items"))
    assert granted.status_code == 200, granted.text
    assert other.status_code == 404
    token = granted.json()["access_token"]
    assert get(idp, "/items", headers=bearer(token)).status_code == 200
    origins = idp.control("GET", "stats")["origins"]
    assert origins["idp"] == {"requests": 1, "credentials": 1, "access_tokens": 0, "refresh_tokens": 0}
    assert origins["api"] == {"requests": 1, "credentials": 0, "access_tokens": 1, "refresh_tokens": 0}


def test_a_leaked_credential_is_seen_on_the_origin_it_reached(idp: Simulator) -> None:
    """A client that sent the password to the API, or the token to the identity provider, is caught."""
    assert idp.token_url is not None
    with httpx.Client(timeout=10.0) as client:
        token = client.post(
            idp.token_url, data={"grant_type": "password", "username": "demo", "password": "demo-password"}
        ).json()
        client.post(
            idp.token_url,
            data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
            headers=bearer(token["access_token"]),
        )
    get(idp, "/items", params={"password": "demo-password"}, headers=bearer(token["access_token"]))
    origins = idp.control("GET", "stats")["origins"]
    assert (origins["idp"]["access_tokens"], origins["idp"]["refresh_tokens"]) == (1, 1)
    assert origins["api"]["credentials"] == 1


# --- x-token-lifecycle: the token in a response header or a cookie -------------------------------------


@pytest.fixture(scope="module")
def header_login(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    yield from _serve("header-login", tmp_path_factory)


@pytest.fixture(scope="module")
def cookie_login(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    yield from _serve("cookie-login", tmp_path_factory)


def test_a_login_may_answer_the_token_in_a_header_sent_back_with_a_value_template(header_login: Simulator) -> None:
    """``token: {from: header}`` and ``value: 'Token token={token}'`` (default fixtures: demo / demo-password)."""
    sim = _reset(header_login)
    with sim.client() as client:
        login = client.post("/session", json={"login": "demo", "secret": "demo-password"})
        assert login.status_code == 204
        token = login.headers["x-auth-token"]
        assert client.get("/items", headers={"Authorization": f"Token token={token}"}).status_code == 200
        wrong_word = client.get("/items", headers={"Authorization": f"Bearer {token}"})
        assert wrong_word.status_code == 401
        assert wrong_word.headers["www-authenticate"] == 'Token realm="simulator"'
        assert "must read 'Token token=<token>'" in wrong_word.json()["message"]
        refused = client.post("/session", json={"login": "demo", "secret": "wrong"})
    assert refused.status_code == 401
    assert "x-auth-token" not in refused.headers
    sim.control("POST", "clock/advance", seconds=1800)
    with sim.client() as client:
        assert client.get("/items", headers={"Authorization": f"Token token={token}"}).status_code == 401


def test_a_login_may_set_the_token_as_a_cookie_sent_back_as_that_cookie(cookie_login: Simulator) -> None:
    sim = _reset(cookie_login)
    with sim.client() as client:
        login = client.post("/session", data={"login": "demo", "secret": "demo-password"})
        assert login.status_code == 204
        assert "HttpOnly" in login.headers["set-cookie"]
        token = login.cookies["sid"]
    with sim.client() as fresh:
        assert fresh.get("/items", headers={"Cookie": f"sid={token}"}).status_code == 200
        assert fresh.get("/items").status_code == 401
        assert fresh.get("/items", headers={"Cookie": "sid=forged"}).status_code == 401
