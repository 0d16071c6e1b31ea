"""An OAuth 2.0 token endpoint (RFC 6749) for the oauth2 schemes of any document.

Served at the path of each oauth2 ``password`` / ``clientCredentials`` flow's ``tokenUrl``, on
the API's port and, with ``--token-port``, on a second port that stands for an identity provider
on another origin. What it does, section by section:

- §3.2: ``POST`` with an ``application/x-www-form-urlencoded`` body; a parameter sent twice is
  ``invalid_request``.
- §2.3.1: client authentication by HTTP Basic (``client_id:client_secret``, each form-encoded) or
  by ``client_id`` / ``client_secret`` in the body, never both (``invalid_request``); a wrong
  client is ``401 invalid_client`` (with a ``Basic`` challenge when Basic was used).
- §4.3 ``password``: ``username`` and ``password`` (or the form fields ``x-token-lifecycle`` names)
  of a fixtures user (wrong: ``invalid_grant``); a client may authenticate too, and then the token
  is bound to it; a public client may name itself by ``client_id`` alone (§2.3), unless that id is
  a registered client, which must authenticate.
- §4.4 ``client_credentials``: the client must authenticate; no refresh token (§4.4.3).
- §6 ``refresh_token``: a refresh token is redeemed once (rotation: the answer carries a new
  one); one issued to a client needs that client's authentication; a narrower ``scope`` may be
  asked for, never a wider one (``invalid_scope``).
- §3.3: ``scope`` is space-delimited; a scope the document does not know is ``invalid_scope``;
  of the others, those the principal may be granted (the fixtures' ``scopes``) are granted, the
  rest left out (``invalid_scope`` when nothing is left); without ``scope`` every allowed scope
  is granted; the answer always says which.
- §5.1 / §5.2: JSON answers with ``Cache-Control: no-store``; errors as ``error`` and
  ``error_description``. An unknown ``grant_type`` is ``unsupported_grant_type``.

Tokens live ``--token-lifetime`` or the scheme's lifetime, by the simulator's clock, so a test
moves time with the control API instead of sleeping.
"""

from __future__ import annotations

import copy
import json
from typing import cast
from urllib.parse import parse_qsl

from starlette.responses import Response

from generator._security import SchemeSpec

from ._api import Api, TokenEndpoint
from ._auth import basic_credentials
from ._fixtures import Fixtures, User
from ._requests import Incoming
from ._responses import set_pointer
from ._schemas import NO_EXAMPLE
from ._state import SimulatorState

__all__ = ["FORM", "TokenService"]

FORM = "application/x-www-form-urlencoded"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class _Error(Exception):
    """An RFC 6749 §5.2 error answer."""

    def __init__(self, code: str, description: str, status: int = 400, *, basic: bool = False) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.status = status
        self.basic = basic


class TokenService:
    """Answers token requests for every token endpoint of one simulator."""

    def __init__(self, api: Api, fixtures: Fixtures, state: SimulatorState) -> None:
        self.api = api
        self.fixtures = fixtures
        self.state = state

    def answer(self, endpoint: TokenEndpoint, incoming: Incoming) -> Response:
        """The answer to one token request."""
        try:
            return self._grant(endpoint, incoming)
        except _Error as error:
            headers = dict(_NO_STORE)
            if error.basic:
                headers["WWW-Authenticate"] = 'Basic realm="simulator"'
            body = {"error": error.code, "error_description": error.description}
            return Response(json.dumps(body), error.status, headers=headers, media_type="application/json")

    def _grant(self, endpoint: TokenEndpoint, incoming: Incoming) -> Response:
        form = _form(incoming)
        client = self._client(incoming, form)
        grant_type = form.get("grant_type")
        if not grant_type:
            raise _Error("invalid_request", "Missing 'grant_type'.")
        if grant_type == "refresh_token":
            return self._refresh(endpoint, form, client)
        scheme = endpoint.scheme_for(grant_type)
        if scheme is None:
            offered = ", ".join(grant for grant, _ in endpoint.grants)
            raise _Error("unsupported_grant_type", f"This endpoint grants {offered}, not {grant_type!r}.")
        if grant_type == "client_credentials":
            if client is None:
                raise _Error("invalid_client", "The client_credentials grant needs client authentication.", 401)
            scopes = _scopes(form, endpoint.scopes_for(scheme), client)
            return self._issue(endpoint, scheme, client, scopes, None, grant_type)
        username, password = (_required(form, _field(scheme, role)) for role in ("username", "password"))
        user = self.fixtures.authenticate(username, password)
        if user is None:
            self.state.login_failed()
            self.state.reject(scheme.name)
            raise _Error("invalid_grant", "Invalid user name or password.")
        scopes = _scopes(form, endpoint.scopes_for(scheme), user, client)
        return self._issue(endpoint, scheme, user, scopes, client, grant_type)

    def _refresh(self, endpoint: TokenEndpoint, form: dict[str, str], client: User | None) -> Response:
        token = _required(form, "refresh_token")
        issuers = frozenset(scheme.name for scheme in endpoint.schemes if scheme.refresh_token_pointer is not None)
        grant = self.state.redeem_refresh(token, issuers, client.name if client is not None else None)
        if grant is None:
            raise _Error("invalid_grant", "The refresh token is unknown, already used, revoked, or not yours.")
        requested = form.get("scope")
        scopes = grant.scopes
        if requested is not None:
            asked = frozenset(requested.split())
            if not asked <= grant.scopes:
                wider = " ".join(sorted(asked - grant.scopes))
                raise _Error("invalid_scope", f"A refresh cannot widen the scope: {wider} was not granted.")
            scopes = asked
        scheme = next(scheme for scheme in endpoint.schemes if scheme.name == grant.issuer)
        client_user = self.fixtures.clients.get(grant.client) if grant.client is not None else None
        return self._issue(endpoint, scheme, grant.user, scopes, client_user, "refresh_token")

    def _client(self, incoming: Incoming, form: dict[str, str]) -> User | None:
        """The authenticated client, None when none tried (§2.3.1)."""
        header = incoming.headers.get("authorization")
        if "client_id" in form and "client_secret" not in form:
            # A public client names itself without a secret (§2.3, §3.2.1); a registered one must authenticate.
            if form["client_id"] in self.fixtures.clients:
                raise _Error("invalid_client", "This client must authenticate with its secret.", 401)
            return None
        in_body = "client_id" in form or "client_secret" in form
        if header is not None and in_body:
            raise _Error("invalid_request", "Authenticate the client one way only: HTTP Basic or the body.")
        if header is not None:
            pair = basic_credentials(header)
            if pair is None:
                raise _Error("invalid_client", "The Authorization header is not HTTP Basic.", 401, basic=True)
            client = self.fixtures.authenticate_client(*pair)
            if client is None:
                raise _Error("invalid_client", "Client authentication failed.", 401, basic=True)
            return client
        if not in_body:
            return None
        client = self.fixtures.authenticate_client(form.get("client_id", ""), form.get("client_secret", ""))
        if client is None:
            raise _Error("invalid_client", "Client authentication failed.", 401)
        return client

    def _issue(
        self,
        endpoint: TokenEndpoint,
        scheme: SchemeSpec,
        user: User,
        scopes: frozenset[str],
        client: User | None,
        grant: str,
    ) -> Response:
        lifetime = self.state.lifetime_of(scheme.lifetime_seconds)
        context = self.state.issue(
            user,
            lifetime,
            issuer=scheme.name,
            scopes=scopes,
            client=client.name if client is not None else None,
            grant=grant,
        )
        body = self._template(endpoint)
        set_pointer(body, _pointer(scheme), context.token)
        body.setdefault("token_type", "Bearer")
        set_pointer(
            body, scheme.expires_in_pointer or "/expires_in", int(lifetime) if lifetime.is_integer() else lifetime
        )
        if scopes:
            body["scope"] = " ".join(sorted(scopes))
        if scheme.refresh_token_pointer is not None and grant != "client_credentials":
            set_pointer(body, scheme.refresh_token_pointer, self.state.issue_refresh(context))
        return Response(json.dumps(body), 200, headers=_NO_STORE, media_type="application/json")

    def _template(self, endpoint: TokenEndpoint) -> dict[str, object]:
        """The documented example of the token answer, when the document describes the endpoint, else ``{}``."""
        operation = endpoint.operation
        success = operation.success if operation is not None else None
        media = success.preferred if success is not None else None
        example = self.api.example(media) if media is not None else NO_EXAMPLE
        return copy.deepcopy(cast(dict[str, object], example)) if isinstance(example, dict) else {}


def _field(scheme: SchemeSpec, role: str) -> str:
    """The form field of the password grant that carries the user name or password: RFC 6749's name, or
    the one ``x-token-lifecycle`` gives it on this oauth2 scheme."""
    login = scheme.login
    field = None if login is None else login.username if role == "username" else login.password
    return field.name if field is not None and field.location == "form" else role


def _pointer(scheme: SchemeSpec) -> str:
    token = scheme.token
    return token.pointer if token is not None and token.pointer else "/access_token"


def _form(incoming: Incoming) -> dict[str, str]:
    if incoming.content_type != FORM:
        raise _Error("invalid_request", f"Send the token request as {FORM}.")
    try:
        pairs = parse_qsl(incoming.body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(incoming.body))
    except (UnicodeDecodeError, ValueError):
        raise _Error("invalid_request", "The form body is malformed.") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise _Error("invalid_request", f"The parameter {name!r} is sent more than once.")
        form[name] = value
    return form


def _required(form: dict[str, str], name: str) -> str:
    value = form.get(name)
    if not value:
        raise _Error("invalid_request", f"Missing {name!r}.")
    return value


def _scopes(form: dict[str, str], known: frozenset[str], *principals: User | None) -> frozenset[str]:
    """The scopes granted: those asked for that every principal may have (all it may have when none are asked).

    A scope the document does not know is ``invalid_scope``; a known one the principal may not have is
    left out of the grant (§3.3: the server may ignore part of the request, and says so in ``scope``),
    unless that leaves nothing of what was asked.
    """
    allowed = known
    for principal in principals:
        if principal is not None:
            allowed = principal.allowed_scopes(allowed)
    requested = form.get("scope")
    if requested is None:
        return allowed
    asked = frozenset(requested.split())
    unknown = asked - known
    if unknown:
        raise _Error("invalid_scope", f"Unknown scope: {' '.join(sorted(unknown))}.")
    granted = asked & allowed
    if asked and not granted:
        raise _Error("invalid_scope", f"None of the scopes {' '.join(sorted(asked))} may be granted here.")
    return granted
