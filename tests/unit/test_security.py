"""resolve_security: each scheme kind inferred from OpenAPI alone, per-operation requirements, overrides."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from generator._problems import Problem, Severity
from generator._security import (
    CredentialField,
    LoginOperation,
    Placement,
    SchemeSpec,
    SecurityModel,
    TokenSource,
    resolve_security,
)
from tests.conftest import minimal_spec

_OK = {"200": {"description": "ok"}}


def _document(
    schemes: dict[str, Any], security: list[dict[str, list[str]]] | None = None, **ops: Any
) -> dict[str, Any]:
    """A document with ``schemes``, the default ``security`` and operations ``/name`` (GET) of ``ops``."""
    paths = {f"/{name}": {"get": {"operationId": name, "responses": _OK, **op}} for name, op in ops.items()}
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": "https://api.example/v1"}],
        "paths": paths or {"/x": {"get": {"responses": _OK}}},
        "components": {"securitySchemes": schemes},
    }
    if security is not None:
        document["security"] = security
    return document


def _model(document: dict[str, Any]) -> SecurityModel:
    model = resolve_security(document, "doc.yaml")
    assert isinstance(model, SecurityModel), model
    return model


def _problems(document: dict[str, Any]) -> list[Problem]:
    problems = resolve_security(document, "doc.yaml")
    assert isinstance(problems, list), problems
    return problems


def _only(document: dict[str, Any]) -> SchemeSpec:
    (spec,) = _model(document).schemes
    return spec


BEARER = {"type": "http", "scheme": "bearer"}
BASIC = {"type": "http", "scheme": "basic"}


@pytest.mark.parametrize(
    ("scheme", "placement"),
    [
        ({"type": "apiKey", "in": "header", "name": "X-API-Key"}, Placement("header", "X-API-Key", "{token}")),
        ({"type": "apiKey", "in": "query", "name": "api_key"}, Placement("query", "api_key", "{token}")),
        ({"type": "apiKey", "in": "cookie", "name": "sid"}, Placement("cookie", "sid", "{token}")),
        (BEARER, Placement("header", "Authorization", "Bearer {token}")),
        ({"type": "http", "scheme": "Bearer"}, Placement("header", "Authorization", "Bearer {token}")),
        (
            {"type": "openIdConnect", "openIdConnectUrl": "https://idp/.well-known"},
            Placement("header", "Authorization", "Bearer {token}"),
        ),
        (
            {"type": "oauth2", "flows": {"implicit": {"authorizationUrl": "https://idp/a", "scopes": {}}}},
            Placement("header", "Authorization", "Bearer {token}"),
        ),
        (
            {
                "type": "oauth2",
                "flows": {"authorizationCode": {"authorizationUrl": "/a", "tokenUrl": "/t", "scopes": {}}},
            },
            Placement("header", "Authorization", "Bearer {token}"),
        ),
    ],
)
def test_token_schemes_send_the_token_where_the_scheme_says(scheme: dict[str, Any], placement: Placement) -> None:
    """apiKey, bearer, token-only oauth2 flows and openIdConnect are kind token: no login, no lifecycle."""
    spec = _only(_document({"s": scheme}, [{"s": []}], a={}))
    assert (spec.kind, spec.placement, spec.login, spec.token) == ("token", placement, None, None)


def test_other_http_schemes_send_a_given_token_with_a_warning() -> None:
    """An http scheme other than bearer or basic sends '<scheme> <token>', and says it runs no exchange."""
    model = _model(_document({"s": {"type": "http", "scheme": "Digest"}}, [{"s": []}], a={}))
    (spec,) = model.schemes
    assert (spec.kind, spec.placement.template) == ("token", "Digest {token}")
    (warning,) = model.warnings
    assert warning.pointer == "/components/securitySchemes/s/scheme"
    assert "does not run the scheme's own exchange" in warning.message


def test_http_basic_is_kind_basic() -> None:
    """http basic takes a user name and password and sends them as HTTP Basic."""
    spec = _only(_document({"b": BASIC}, [{"b": []}], a={}))
    assert (spec.kind, spec.placement) == ("basic", Placement("header", "Authorization", "Basic {token}"))


def test_password_flow_is_inferred_per_rfc_6749() -> None:
    """A password flow logs in at tokenUrl with form fields, the union of scopes, and OAuth 2.0 defaults."""
    scheme = {"type": "oauth2", "flows": {"password": {"tokenUrl": "https://idp.example/token", "scopes": {}}}}
    document = _document(
        {"o": scheme}, None, a={"security": [{"o": ["read"]}]}, b={"security": [{"o": ["write", "read"]}]}
    )
    spec = _only(document)
    assert spec == SchemeSpec(
        name="o",
        kind="login",
        placement=Placement("header", "Authorization", "Bearer {token}"),
        login=LoginOperation(
            None,
            "POST",
            "https://idp.example/token",
            CredentialField("form", "username"),
            CredentialField("form", "password"),
            (("grant_type", "password"), ("scope", "read write")),
        ),
        token=TokenSource("json", "/access_token", None),
        expires_in_pointer="/expires_in",
        refresh_token_pointer="/refresh_token",
        lifetime_seconds=3600.0,
        invalid_on=(401,),
        scopes=("read", "write"),
        oauth2=True,
    )


def test_client_credentials_flow_authenticates_the_client_by_basic() -> None:
    """clientCredentials: grant_type client_credentials, client id and secret by HTTP Basic (RFC 6749 §2.3.1)."""
    scheme = {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "/oauth/token", "scopes": {}}}}
    spec = _only(_document({"c": scheme}, [{"c": []}], a={}))
    assert spec.kind == "client_credentials"
    assert spec.login is not None
    assert (spec.login.username, spec.login.password) == (
        CredentialField("basic", "client_id"),
        CredentialField("basic", "client_secret"),
    )
    assert spec.login.constants == (("grant_type", "client_credentials"),)
    assert spec.login.url == "https://api.example/oauth/token"


def test_client_authentication_in_the_body_when_configured() -> None:
    """x-token-lifecycle clientAuthentication: body sends client_id and client_secret as form fields."""
    scheme = {
        "type": "oauth2",
        "flows": {"clientCredentials": {"tokenUrl": "/v1/token", "scopes": {}}},
        "x-token-lifecycle": {"clientAuthentication": "body"},
    }
    spec = _only(_document({"c": scheme}, [{"c": []}], a={}))
    assert spec.login is not None
    assert spec.login.username == CredentialField("form", "client_id")
    assert spec.login.url == "/token", "a token URL under the server URL follows the client's base URL"


@pytest.mark.parametrize(
    ("server", "token_url", "expected"),
    [
        ("https://api.example/v1", "/v1/oauth/token", "/oauth/token"),
        ("https://api.example/v1", "https://api.example/v1/token", "/token"),
        ("https://api.example/v1", "/oauth/token", "https://api.example/oauth/token"),
        ("https://api.example/v1/", "token", "/token"),
        ("https://api.example", "https://idp.example/token", "https://idp.example/token"),
        ("/", "/token", "/token"),
    ],
)
def test_token_url_resolves_against_the_first_server(server: str, token_url: str, expected: str) -> None:
    """Relative tokenUrls resolve per RFC 3986; those under the server URL stay relative to the base URL."""
    scheme = {"type": "oauth2", "flows": {"password": {"tokenUrl": token_url, "scopes": {}}}}
    document = _document({"o": scheme}, [{"o": []}], a={})
    document["servers"] = [{"url": server}]
    spec = _only(document)
    assert spec.login is not None
    assert spec.login.url == expected


def test_token_url_outside_a_relative_server_url_is_a_warning() -> None:
    """A path the client cannot express relative to its base URL is kept, with a warning naming token_url=."""
    scheme = {"type": "oauth2", "flows": {"password": {"tokenUrl": "/auth/token", "scopes": {}}}}
    document = _document({"o": scheme}, [{"o": []}], a={})
    document["servers"] = [{"url": "/api/v2"}]
    model = _model(document)
    login = model.scheme("o").login
    assert login is not None
    assert login.url == "/auth/token"
    (warning,) = model.warnings
    assert warning.pointer == "/components/securitySchemes/o/flows/password/tokenUrl"
    assert "token_url=" in warning.message


def test_password_is_preferred_over_client_credentials_and_token_flows() -> None:
    """A scheme with several flows uses password, then clientCredentials, then the token flows."""
    flows = {
        "implicit": {"authorizationUrl": "/a", "scopes": {}},
        "clientCredentials": {"tokenUrl": "/cc", "scopes": {}},
        "password": {"tokenUrl": "/pw", "scopes": {}},
    }
    assert _only(_document({"o": {"type": "oauth2", "flows": flows}}, [{"o": []}], a={})).kind == "login"
    del flows["password"]
    assert _only(_document({"o": {"type": "oauth2", "flows": flows}}, [{"o": []}], a={})).kind == "client_credentials"


def test_each_operation_keeps_its_own_requirements() -> None:
    """An operation requiring the OAuth2 scheme never gets the API key of the document-wide default."""
    schemes = {
        "key": {"type": "apiKey", "in": "header", "name": "X-Key"},
        "oauth": {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "/t", "scopes": {}}}},
        "unused": BEARER,
    }
    document = _document(
        schemes,
        [{"key": []}],
        a={},
        b={"security": [{"oauth": ["x"]}]},
        c={"security": []},
        d={"security": [{}, {"key": []}]},
        e={"security": [{"key": [], "oauth": []}]},
    )
    model = _model(document)
    assert [spec.name for spec in model.schemes] == ["key", "oauth"], "a scheme no operation uses is not generated"
    assert model.requirements("/a", "GET") == (("key",),)
    assert model.requirements("/b", "get") == (("oauth",),)
    assert model.requirements("/c", "get") == ()
    assert model.requirements("/d", "get") == ((), ("key",))
    assert model.requirements("/e", "get") == (("key", "oauth"),)
    assert model.default == (("key",),)
    assert model.scheme("oauth").scopes == ("x",)
    assert [spec.name for spec in model.login_schemes] == ["oauth"]


def test_two_logins_at_once_are_dropped_with_a_warning() -> None:
    """AND of two login schemes is not supported: that requirement goes, with a warning naming it."""
    password = {"type": "oauth2", "flows": {"password": {"tokenUrl": "/t", "scopes": {}}}}
    document = _document(
        {"p": password, "q": copy.deepcopy(password), "k": BEARER},
        None,
        a={"security": [{"p": [], "q": []}, {"k": []}]},
    )
    model = _model(document)
    assert model.requirements("/a", "get") == (("k",),)
    (warning,) = model.warnings
    assert warning.severity is Severity.WARNING
    assert warning.pointer == "/paths/~1a/get/security/0"


def test_an_operation_left_without_a_requirement_sends_no_credentials_with_a_warning() -> None:
    """When every requirement of an operation is dropped, it is still generated; a warning names it."""
    password = {"type": "oauth2", "flows": {"password": {"tokenUrl": "/t", "scopes": {}}}}
    document = _document({"p": password, "q": copy.deepcopy(password)}, None, a={"security": [{"p": [], "q": []}]})
    model = _model(document)
    assert model.requirements("/a", "get") == ()
    assert model.schemes == ()
    assert [w.pointer for w in model.warnings] == ["/paths/~1a/get/security/0", "/paths/~1a/get/security"]
    assert "sends the operation no credentials" in model.warnings[1].message


def test_mutual_tls_is_met_by_the_connection() -> None:
    """mutualTLS carries no credential in the request: a warning, and the requirement counts as met."""
    model = _model(_document({"m": {"type": "mutualTLS"}}, [{"m": []}], a={}))
    assert model.schemes == ()
    assert model.requirements("/a", "get") == ((),)
    assert [w.pointer for w in model.warnings] == ["/components/securitySchemes/m"]


def test_synthetic_classic_extension_is_unchanged() -> None:
    """The minimal spec's x-token-lifecycle resolves as it always has."""
    spec = _only(minimal_spec())
    assert spec.kind == "login"
    assert spec.placement == Placement("header", "Authentication", "bearer {token}")
    assert spec.login == LoginOperation(
        "login", "GET", "/login", CredentialField("query", "user"), CredentialField("query", "password"), ()
    )
    assert (spec.token, spec.lifetime_seconds, spec.expires_in_pointer, spec.oauth2) == (
        TokenSource("body", None, None),
        64800.0,
        None,
        False,
    )


def test_extension_takes_the_token_from_a_header_and_a_value_template() -> None:
    """token.from header + value 'Token token={token}' on an apiKey scheme in a query works."""
    spec = minimal_spec()
    scheme = spec["components"]["securitySchemes"]["tok"]
    scheme.update({"in": "query", "name": "auth"})
    ext = scheme["x-token-lifecycle"]
    del ext["scheme"]
    ext.update(token={"from": "header", "name": "X-Token"}, value="Token token={token}")
    resolved = _only(spec)
    assert resolved.placement == Placement("query", "auth", "Token token={token}")
    assert resolved.token == TokenSource("header", None, "X-Token")


def test_extension_overrides_an_oauth2_password_flow() -> None:
    """On an oauth2 scheme the extension keeps the inferred login and overrides what it names."""
    scheme = {
        "type": "oauth2",
        "flows": {"password": {"tokenUrl": "https://idp/t", "scopes": {}}},
        "x-token-lifecycle": {"value": "bearer {token}", "lifetime": "PT5M", "expiresIn": None},
    }
    spec = _only(_document({"o": scheme}, [{"o": []}], a={}))
    assert spec.placement.template == "bearer {token}"
    assert (spec.lifetime_seconds, spec.expires_in_pointer, spec.oauth2) == (300.0, None, True)
    assert spec.login is not None
    assert spec.login.url == "https://idp/t"


@pytest.mark.parametrize(
    ("extension", "pointer", "words"),
    [
        ({"value": "Token"}, "/value", "exactly once"),
        ({"value": "{token} {token}"}, "/value", "exactly once"),
        ({"value": "{x} {token}"}, "/value", "no brace"),
        ({"value": "a\r\nb {token}"}, "/value", "control character"),
        ({"value": "T {token}", "scheme": "Bearer"}, "/value", "not both"),
        ({"token": {"from": "json", "pointer": "/t"}}, "/token", "add 'login'"),
        ({"lifetime": "PT1H"}, "/lifetime", "add 'login'"),
        ({"token": {"from": "header", "name": "Bad Name"}}, "/token", "valid"),
        ({"clientAuthentication": "body"}, "/clientAuthentication", "clientCredentials flow only"),
        (
            {"login": {"operationId": "nope", "username": "u", "password": "p"}},
            "/login/operationId",
            "no operation has",
        ),
    ],
)
def test_bad_overrides_name_their_pointer(extension: dict[str, Any], pointer: str, words: str) -> None:
    """Each mistake is one error at the extension's pointer saying what to do."""
    document = _document({"s": dict(BEARER, **{"x-token-lifecycle": extension})}, [{"s": []}], a={})
    problems = _problems(document)
    assert any(
        p.pointer == "/components/securitySchemes/s/x-token-lifecycle" + pointer and words in p.message
        for p in problems
    ), problems


def test_login_without_token_on_a_plain_scheme_says_what_is_required() -> None:
    """A login on a non-oauth2 scheme needs token and lifetime: no defaults exist for it."""
    spec = minimal_spec()
    del spec["components"]["securitySchemes"]["tok"]["x-token-lifecycle"]["token"]
    (problem,) = _problems(spec)
    assert problem.pointer == "/components/securitySchemes/tok/x-token-lifecycle"
    assert "'token' is a required property" in problem.message


@pytest.mark.parametrize(
    ("scheme", "pointer", "words"),
    [
        ({"type": "apiKey", "in": "header", "name": "X Key"}, "/name", "RFC 9110 token"),
        ({"type": "apiKey", "in": "body", "name": "k"}, "/in", "header, query or cookie"),
        ({"type": "apiKey", "in": "query", "name": "a&b"}, "/name", "not a usable query parameter name"),
        ({"type": "apiKey", "in": "cookie", "name": "a=b"}, "/name", "RFC 9110 token"),
        ({"type": "oauth2", "flows": {}}, "/flows", "needs a flow"),
        ({"type": "oauth2", "flows": {"password": {"scopes": {}}}}, "/flows/password/tokenUrl", "tokenUrl"),
        ({"type": "kerberos"}, "/type", "unknown security scheme type"),
    ],
)
def test_bad_schemes_name_their_pointer(scheme: dict[str, Any], pointer: str, words: str) -> None:
    """A scheme that cannot be used is an error at its own pointer."""
    (problem,) = _problems(_document({"s": scheme}, [{"s": []}], a={}))
    assert problem.pointer == "/components/securitySchemes/s" + pointer
    assert words in problem.message


def test_an_undefined_scheme_is_a_warning_at_the_requirement() -> None:
    """A requirement naming no defined scheme is ignored with one warning where it is written."""
    document = _document(
        {"s": BEARER}, [{"ghost": []}, {"s": []}], a={"security": [{"ghost": []}, {"s": []}]}, b={}, c={}
    )
    model = _model(document)
    assert model.requirements("/a", "get") == (("s",),)
    assert model.requirements("/b", "get") == (("s",),)
    assert model.default == (("s",),)
    assert [w.pointer for w in model.warnings] == ["/paths/~1a/get/security/0/ghost", "/security/0/ghost"]
    assert all("'ghost'" in w.message and w.severity is Severity.WARNING for w in model.warnings)


def test_login_operation_that_requires_credentials_is_refused() -> None:
    """The login operation of an x-token-lifecycle must be callable without credentials."""
    spec = minimal_spec()
    spec["paths"]["/login"]["get"].pop("security")
    (problem,) = _problems(spec)
    assert problem.pointer == "/paths/~1login/get/security"
    assert "itself requires a token" in problem.message


def test_two_login_operations_are_refused() -> None:
    """Only one scheme may log in through an operation of the document (its module redacts one LOGIN)."""
    spec = minimal_spec()
    schemes = spec["components"]["securitySchemes"]
    schemes["other"] = copy.deepcopy(schemes["tok"]) | {"name": "X-Other"}
    spec["security"] = [{"tok": []}, {"other": []}]
    (problem,) = _problems(spec)
    assert problem.pointer == "/components/securitySchemes/other/x-token-lifecycle/login"
    assert "only one security scheme" in problem.message


def test_oauth2_token_from_a_header_drops_the_json_defaults() -> None:
    """With the token in a response header, expires_in and refresh_token (JSON fields) are not read."""
    scheme = {
        "type": "oauth2",
        "flows": {"password": {"tokenUrl": "/t", "scopes": {}}},
        "x-token-lifecycle": {"token": {"from": "header", "name": "X-Token"}},
    }
    spec = _only(_document({"o": scheme}, [{"o": []}], a={}))
    assert (spec.token, spec.expires_in_pointer, spec.refresh_token_pointer) == (
        TokenSource("header", None, "X-Token"),
        None,
        None,
    )
