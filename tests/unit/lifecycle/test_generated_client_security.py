"""The generated AuthenticatedClient (Synthetic Classic's) over SecurityAuth: what it sends, shares and refuses."""

from __future__ import annotations

import httpx
import pytest
import synthetic_classic_client
from synthetic_classic_client import AuthenticatedClient, ClientCredentials, Credentials, MissingCredentialsError
from synthetic_classic_client.api.auth import login
from synthetic_classic_client.api.tests import list_tests
from synthetic_classic_client.client import DEFAULT_SECURITY, SECURITY_SCHEMES

BASE = "https://synthetic.example/publicapi/rest/v1.0"


class Api:
    """Synthetic Classic's login (GET /login answers the token) and a test list that needs the token."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def transport(self) -> httpx.MockTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            if request.url.path.endswith("/login"):
                return httpx.Response(200, text="tok-1")
            if request.headers.get("Authentication") != "bearer tok-1":
                return httpx.Response(401, json={"message": "no"})
            return httpx.Response(200, json={"Monitors": []})

        return httpx.MockTransport(handle)


def client_of(api: Api, **given: object) -> AuthenticatedClient:
    return AuthenticatedClient(BASE, httpx_args={"transport": api.transport()}, **given)  # type: ignore[arg-type]


def test_the_client_describes_its_one_login_scheme() -> None:
    assert DEFAULT_SECURITY == (("syntheticToken",),)
    assert SECURITY_SCHEMES["syntheticToken"].kind == "login"
    assert SECURITY_SCHEMES["syntheticToken"].placement.name == "Authentication"


def test_a_protected_call_logs_in_and_the_login_operation_goes_without_a_token() -> None:
    api = Api()
    client = client_of(api, credentials=Credentials("demo", "pw"))
    with client:
        assert list_tests.sync_detailed(client=client).status_code == 200
        login.sync_detailed(client=client, user="demo", password="pw")
    login_by_lifecycle, listed, login_by_user = api.requests
    assert listed.headers["Authentication"] == "bearer tok-1"
    assert "Authentication" not in login_by_lifecycle.headers
    assert "Authentication" not in login_by_user.headers  # its operation has no security
    assert client.lifecycle is client.security.primary
    assert client.lifecycle.stats.logins == 1


def test_copies_share_the_security_and_its_token() -> None:
    api = Api()
    client = client_of(api, credentials=Credentials("demo", "pw"))
    copy = client.with_headers({"X-Trace": "1"})
    assert copy.security is client.security
    with client, copy:
        list_tests.sync_detailed(client=client)
        list_tests.sync_detailed(client=copy)
    assert sum(request.url.path.endswith("/login") for request in api.requests) == 1


def test_without_credentials_a_protected_call_is_refused_before_anything_is_sent() -> None:
    api = Api()
    client = client_of(api)
    with client, pytest.raises(MissingCredentialsError) as raised:
        list_tests.sync_detailed(client=client)
    assert api.requests == []
    assert raised.value.schemes == ("syntheticToken",)
    assert "credentials=Credentials(username, password)" in str(raised.value)
    with pytest.raises(AttributeError, match="no credentials"):
        _ = client.lifecycle


def test_credentials_of_the_wrong_kind_are_not_used() -> None:
    api = Api()
    client = client_of(api, credentials=ClientCredentials("app", "secret-xyz"))
    with client, pytest.raises(MissingCredentialsError):
        list_tests.sync_detailed(client=client)
    assert "secret-xyz" not in repr(client)


def test_tokens_may_name_the_scheme() -> None:
    api = Api()
    client = client_of(api, tokens={"syntheticToken": "tok-1"})
    with client:
        assert list_tests.sync_detailed(client=client).status_code == 200
    assert [request.url.path for request in api.requests] == ["/publicapi/rest/v1.0/tests"]
    with pytest.raises(ValueError, match="unknown security schemes"):
        client_of(api, tokens={"oauth": "x"})


def test_the_package_exports_the_new_names() -> None:
    assert {"ClientCredentials", "MissingCredentialsError"} <= set(synthetic_classic_client.__all__)
