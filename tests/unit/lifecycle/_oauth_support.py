"""A fake OAuth2 identity provider and API behind one httpx.MockTransport, for the security-scheme tests.

The identity provider (``IDP``, another origin than the API unless told otherwise) implements the
token endpoint of RFC 6749: password (§4.3), client credentials (§4.4) and refresh token (§6) grants,
client authentication by HTTP Basic (form-urlencoded, §2.3.1) or in the body, and §5.2 error answers.
The API accepts the access tokens it issued, in the ``Authorization: Bearer`` header.
"""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

import httpx

API = "https://api.example/v1"
IDP = "https://idp.example"
TOKEN_URL = f"{IDP}/oauth/token"
USER = "alice"
PASSWORD = "CanaryPW-1 &+é"
CLIENT_ID = "app:one"
CLIENT_SECRET = "CanarySECRET/2+="


def basic_pair(header: str | None) -> tuple[str, str] | None:
    """The (id, secret) of an ``Authorization: Basic`` value, form-urlencoded values decoded (§2.3.1)."""
    if header is None or not header.startswith("Basic "):
        return None
    user, _, secret = base64.b64decode(header[6:]).decode().partition(":")
    return unquote_plus(user), unquote_plus(secret)


@dataclass
class FakeOAuth:
    """Token endpoint and API; every request is recorded in ``requests`` (in arrival order)."""

    token_url: str = TOKEN_URL
    expires_in: int | None = 3600
    issue_refresh_tokens: bool = True
    #: The client authentication the token endpoint demands: "basic", "body", or None (public client).
    client_auth: str | None = "basic"
    requests: list[httpx.Request] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)
    refresh_tokens: set[str] = field(default_factory=set)
    valid: set[str] = field(default_factory=set)
    #: The error answer of the next token requests, e.g. (400, {"error": "invalid_grant"}).
    token_error: tuple[int, dict[str, Any]] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def token_requests(self) -> list[dict[str, str]]:
        """The form bodies of the token requests received."""
        return [dict(parse_qsl(r.content.decode())) for r in self.requests if str(r.url) == self.token_url]

    def api_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if str(r.url) != self.token_url]

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
            if str(request.url).split("?")[0] == self.token_url:
                return self._token(request)
            return self._api(request)

    def _client_ok(self, request: httpx.Request, form: dict[str, str]) -> bool:
        if self.client_auth == "basic":
            return basic_pair(request.headers.get("Authorization")) == (CLIENT_ID, CLIENT_SECRET)
        if self.client_auth == "body":
            return (form.get("client_id"), form.get("client_secret")) == (CLIENT_ID, CLIENT_SECRET)
        return True

    def _token(self, request: httpx.Request) -> httpx.Response:
        assert request.method == "POST"
        assert request.headers.get("Content-Type") == "application/x-www-form-urlencoded"
        form = dict(parse_qsl(request.content.decode()))
        if self.token_error is not None:
            status, body = self.token_error
            return httpx.Response(status, json=body)
        grant = form.get("grant_type")
        if grant == "client_credentials":
            if not self._client_ok(request, form):
                return httpx.Response(401, json={"error": "invalid_client"})
        elif grant == "password":
            if not self._client_ok(request, form):
                return httpx.Response(401, json={"error": "invalid_client"})
            if (form.get("username"), form.get("password")) != (USER, PASSWORD):
                return httpx.Response(400, json={"error": "invalid_grant", "error_description": "bad password"})
        elif grant == "refresh_token":
            if not self._client_ok(request, form):
                return httpx.Response(401, json={"error": "invalid_client"})
            if form.get("refresh_token") not in self.refresh_tokens:
                return httpx.Response(400, json={"error": "invalid_grant"})
        else:
            return httpx.Response(400, json={"error": "unsupported_grant_type"})
        token = f"at-{len(self.issued) + 1}"
        self.issued.append(token)
        self.valid.add(token)
        answer: dict[str, Any] = {"access_token": token, "token_type": "Bearer"}
        if self.expires_in is not None:
            answer["expires_in"] = self.expires_in
        if self.issue_refresh_tokens:
            refresh = f"rt-{len(self.issued)}"
            self.refresh_tokens.add(refresh)
            answer["refresh_token"] = refresh
        return httpx.Response(200, json=answer)

    def _api(self, request: httpx.Request) -> httpx.Response:
        header = request.headers.get("Authorization", "")
        if (header.startswith("Bearer ") and header[7:] in self.valid) or request.url.params.get(
            "api_key"
        ) in self.valid:
            return httpx.Response(200, json={"token": header[7:]})
        return httpx.Response(401, json={"detail": "invalid token"})
