"""Fixtures: the customer accounts, users and response bodies a simulator serves.

A fixtures file is YAML (or JSON, by its ``.json`` suffix)::

    accounts:                     # optional: customer accounts by ID, each with an optional name
      "1001": {name: Demo Corp}
      "2002": {name: Other Corp}
    users:                        # required: at least one user, by user name
      demo:
        password: demo-password   # compared exactly (case-sensitive)
        account: "1001"           # an account ID (a YAML integer is read as its digits);
                                  # when `accounts` is given it must list this ID
        permissions: "*"          # "*" (the default): every operation; or a list of operation names
      viewer:
        password: viewer-password
        account: "1001"
        permissions: [listTests]
      reader:
        password: reader-password
        account: "1001"
        scopes: [read]            # OAuth2 scopes the user may be granted (default: every scope)
    clients:                      # optional: OAuth2 clients (client credentials grant, client authentication)
      reporting:                  # the client_id
        secret: reporting-secret  # the client_secret, compared exactly
        account: "1001"           # the account its requests count against
        scopes: [read]            # scopes it may be granted (default: every scope)
        permissions: "*"          # as for users
    tokens:                       # optional: static API keys and bearer tokens, each acting for a user or client
      demo-api-key: {user: demo}                           # accepted by every scheme of kind token
      reporting-key: {client: reporting, schemes: [apiKeyQuery]}   # only by these schemes
    responses:                    # optional: the body of the success response, by operation name
      listTests:
        Monitors: [...]

An operation's name is its ``operationId``, or ``METHOD /path`` (e.g. ``GET /things``) when it
has none. Every name under ``permissions`` and ``responses`` must be an operation of the
document, and every response body must satisfy the schema of that operation's success
response: mistakes are reported with the file and the JSON pointer, before the server starts.
Operations without a fixture answer the document's example of their success response (the
media type's ``example``, the first of its ``examples``, or the schema's ``example``), else a
small value built from the schema. The login operation's response is never a fixture: the
simulator makes a fresh token for every login.

Without ``--fixtures``, ``serve SPEC`` reads ``fixtures/<stem>.yaml`` in the folder of SPEC when
it exists (``spec/fixtures/shop.yaml`` for ``spec/shop.yaml``), else it uses
:data:`DEFAULT_FIXTURES`: one user ``demo`` / ``demo-password`` in account ``default`` with every
permission, one OAuth2 client ``demo-client`` / ``demo-client-secret`` in that account, and one
static token ``demo-token`` acting for ``demo``.

Users, clients and static tokens are all *principals* (:class:`User`): whoever a request acts for
is counted, rate-limited and permitted the same way, whichever scheme authenticated it.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import attrs

from generator._document import load_document
from generator._jsonish import as_list, as_mapping, schema_errors
from generator._pointer import join_pointer
from generator._problems import Problem

from ._api import Api

__all__ = [
    "DEFAULT_FIXTURES",
    "Fixtures",
    "StaticToken",
    "User",
    "default_fixtures_path",
    "load_fixtures",
    "resolve_fixtures",
]

_PERMISSIONS: Mapping[str, Any] = {
    "oneOf": [{"const": "*"}, {"type": "array", "items": {"type": "string", "minLength": 1}, "uniqueItems": True}]
}
_SCOPES: Mapping[str, Any] = {"type": "array", "items": {"type": "string", "pattern": "^[!#-\\[\\]-~]+$"}}
"""A scope is ``%x21 / %x23-5B / %x5D-7E`` (RFC 6749 §3.3)."""
_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["users"],
    "properties": {
        "accounts": {
            "type": "object",
            "propertyNames": {"minLength": 1},
            "additionalProperties": {
                "type": ["object", "null"],
                "additionalProperties": False,
                "properties": {"name": {"type": "string"}},
            },
        },
        "users": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"minLength": 1},
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "required": ["password", "account"],
                "properties": {
                    "password": {"type": "string", "minLength": 1},
                    "account": {"type": ["string", "integer"], "minLength": 1},
                    "permissions": _PERMISSIONS,
                    "scopes": _SCOPES,
                },
            },
        },
        "clients": {
            "type": "object",
            "propertyNames": {"minLength": 1, "pattern": "^[^:]*$"},
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "required": ["secret", "account"],
                "properties": {
                    "secret": {"type": "string", "minLength": 1},
                    "account": {"type": ["string", "integer"], "minLength": 1},
                    "permissions": _PERMISSIONS,
                    "scopes": _SCOPES,
                },
            },
        },
        "tokens": {
            "type": "object",
            "propertyNames": {"minLength": 1, "pattern": "^[!-~]+$"},
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "oneOf": [{"required": ["user"]}, {"required": ["client"]}],
                "properties": {
                    "user": {"type": "string"},
                    "client": {"type": "string"},
                    "schemes": {"type": "array", "items": {"type": "string"}, "uniqueItems": True, "minItems": 1},
                },
            },
        },
        "responses": {"type": "object"},
    },
}


@attrs.frozen
class User:
    """A principal: a user who logs in with a password, or an OAuth2 client with its secret."""

    name: str
    password: str = attrs.field(repr=False)
    """The user's password, or the client's secret."""
    account: str
    permissions: frozenset[str] | None
    """Operation names the principal may call; None for every operation."""
    scopes: frozenset[str] | None = None
    """OAuth2 scopes the principal may be granted; None for every scope."""
    client: bool = False
    """True for an OAuth2 client (``clients`` in the fixtures)."""

    def may(self, operation: str) -> bool:
        """True when the principal may call the operation named ``operation``."""
        return self.permissions is None or operation in self.permissions

    def allowed_scopes(self, offered: frozenset[str]) -> frozenset[str]:
        """The scopes of ``offered`` (every scope the document defines) this principal may be granted."""
        return offered if self.scopes is None else offered & self.scopes


@attrs.frozen
class StaticToken:
    """A static API key or bearer token of the fixtures: who it acts for, and which schemes accept it."""

    principal: User
    schemes: frozenset[str] | None
    """Names of the security schemes that accept it; None for every scheme of kind token."""

    def accepted_by(self, scheme: str) -> bool:
        """True when the scheme named ``scheme`` accepts this token."""
        return self.schemes is None or scheme in self.schemes


@attrs.frozen
class Fixtures:
    """The data of one simulator run."""

    source: str
    """The file it came from as the user named it, or ``built-in default``."""
    accounts: Mapping[str, str]
    """Account ID to account name."""
    users: Mapping[str, User]
    responses: Mapping[str, object]
    """Operation name to the body of its success response."""
    clients: Mapping[str, User] = attrs.field(factory=dict[str, User])
    """OAuth2 client_id to the client."""
    tokens: Mapping[str, StaticToken] = attrs.field(factory=dict[str, StaticToken], repr=False)
    """Static token to what it stands for."""

    def authenticate(self, username: str, password: str) -> User | None:
        """The user with these credentials, or None; compares passwords in constant time."""
        return _check(self.users.get(username), password)

    def authenticate_client(self, client_id: str, secret: str) -> User | None:
        """The OAuth2 client with this id and secret, or None; compares in constant time."""
        return _check(self.clients.get(client_id), secret)

    secrets: frozenset[str] = attrs.field(
        init=False, repr=False, eq=False, default=attrs.Factory(lambda self: _secrets(self), takes_self=True)
    )
    """Every password and client secret: what must never reach an origin that does not check it."""


def _secrets(fixtures: Fixtures) -> frozenset[str]:
    return frozenset(p.password for p in (*fixtures.users.values(), *fixtures.clients.values()))


def _check(principal: User | None, password: str) -> User | None:
    candidate = principal.password if principal is not None else "\x00" + password
    matches = hmac.compare_digest(candidate.encode("utf-8"), password.encode("utf-8"))
    return principal if principal is not None and matches else None


_DEMO = User("demo", "demo-password", "default", None)
DEFAULT_FIXTURES = Fixtures(
    source="built-in default",
    accounts={"default": "Default account"},
    users={"demo": _DEMO},
    responses={},
    clients={"demo-client": User("demo-client", "demo-client-secret", "default", None, client=True)},
    tokens={"demo-token": StaticToken(_DEMO, None)},
)
"""Used when neither ``--fixtures`` nor ``fixtures/<stem>.yaml`` next to the spec exists."""


def default_fixtures_path(spec: Path) -> Path:
    """Where ``serve SPEC`` looks for fixtures without ``--fixtures``: ``fixtures/<stem>.yaml`` beside SPEC."""
    return spec.parent / "fixtures" / f"{spec.stem}.yaml"


def resolve_fixtures(spec: Path, explicit: Path | None, api: Api) -> Fixtures | list[Problem]:
    """The fixtures of a run: ``explicit``, else the default file beside the spec, else the built-in default."""
    if explicit is not None:
        return load_fixtures(explicit, str(explicit), api)
    candidate = default_fixtures_path(spec)
    if candidate.is_file():
        return load_fixtures(candidate, candidate.as_posix(), api)
    return DEFAULT_FIXTURES


def load_fixtures(path: Path, display: str, api: Api) -> Fixtures | list[Problem]:
    """Read and check a fixtures file against the API it is for; problems name ``display`` and a pointer."""
    data = load_document(path, display)
    if isinstance(data, Problem):
        # The document loader words its "not a mapping" problem for OpenAPI documents.
        if data.pointer == "" and "'openapi'" in data.message:
            return [Problem(display, "", "a fixtures file must be a mapping with a 'users' field")]
        return [data]
    errors = schema_errors(_SCHEMA, data)
    if errors:
        keys = [str(key) for key in as_mapping(data.get("tokens"))]
        return [_schema_problem(display, list(e.absolute_path), e.message, keys) for e in errors]
    problems: list[Problem] = []
    accounts = {
        str(key): str(as_mapping(value).get("name", key)) for key, value in as_mapping(data.get("accounts")).items()
    }
    listed = "accounts" in data
    users = {
        str(name): _principal(
            display, join_pointer("/users", name), str(name), as_mapping(raw), api, accounts, listed, problems
        )
        for name, raw in as_mapping(data["users"]).items()
    }
    clients = {
        str(name): _principal(
            display, join_pointer("/clients", name), str(name), as_mapping(raw), api, accounts, listed, problems
        )
        for name, raw in as_mapping(data.get("clients")).items()
    }
    tokens = _tokens(display, as_mapping(data.get("tokens")), users, clients, api, problems)
    responses = {str(key): cast(object, value) for key, value in as_mapping(data.get("responses")).items()}
    for key, body in responses.items():
        problems.extend(_check_response(display, join_pointer("/responses", key), key, body, api))
    if problems:
        return problems
    return Fixtures(source=display, accounts=accounts, users=users, responses=responses, clients=clients, tokens=tokens)


def _schema_problem(display: str, path: list[object], message: str, tokens: list[str]) -> Problem:
    """A schema error at ``path``; under ``tokens`` the entry is named by position, not by the token itself."""
    if len(path) >= 2 and path[0] == "tokens" and path[1] in tokens:
        rest = ", " + "/".join(map(str, path[2:])) if len(path) > 2 else ""
        return Problem(display, "/tokens", f"token #{tokens.index(str(path[1])) + 1}{rest}: {message}")
    if path == ["tokens"]:
        message = "a token is not a string of visible characters" if "does not match" in message else message
    return Problem(display, join_pointer("", *map(str, path)), message)


def _principal(
    display: str,
    pointer: str,
    name: str,
    entry: Mapping[str, Any],
    api: Api,
    accounts: dict[str, str],
    listed: bool,
    problems: list[Problem],
) -> User:
    """A user (``password``) or client (``secret``) entry; problems are added to ``problems``."""
    account = str(entry["account"])
    if listed and account not in accounts:
        problems.append(Problem(display, pointer + "/account", f"account {account!r} is not listed under /accounts"))
    permissions = entry.get("permissions", "*")
    granted: frozenset[str] | None = None
    if permissions != "*":
        granted = frozenset(str(p) for p in as_list(permissions))
        for index, key in enumerate(as_list(permissions)):
            if api.operation(str(key)) is None:
                problems.append(_unknown_operation(display, join_pointer(pointer, "permissions", index), str(key), api))
    accounts.setdefault(account, account)
    scopes = frozenset(str(s) for s in as_list(entry["scopes"])) if "scopes" in entry else None
    client = "secret" in entry
    password = str(entry["secret"] if client else entry["password"])
    return User(name, password, account, granted, scopes, client)


def _tokens(
    display: str,
    raw: Mapping[str, Any],
    users: Mapping[str, User],
    clients: Mapping[str, User],
    api: Api,
    problems: list[Problem],
) -> dict[str, StaticToken]:
    """The ``tokens`` section: each names an existing user or client, and schemes of the document."""
    known = api.scheme_names
    tokens: dict[str, StaticToken] = {}
    for index, (token, value) in enumerate(raw.items()):
        # Messages name the entry by position: the token itself is a secret and stays out of them.
        pointer = "/tokens"
        entry = as_mapping(value)
        kind, pool = ("user", users) if "user" in entry else ("client", clients)
        principal = pool.get(str(entry[kind]))
        if principal is None:
            problems.append(Problem(display, pointer, f"token #{index + 1}: no {kind} named {entry[kind]!r}"))
            continue
        schemes = frozenset(str(s) for s in as_list(entry["schemes"])) if "schemes" in entry else None
        for unknown in sorted((schemes or frozenset()) - known):
            problems.append(
                Problem(
                    display,
                    pointer,
                    f"token #{index + 1}, schemes: {api.display} has no security scheme {unknown!r} that accepts "
                    f"static tokens; its schemes: {', '.join(sorted(known)) or 'none'}",
                )
            )
        tokens[str(token)] = StaticToken(principal, schemes)
    return tokens


def _unknown_operation(display: str, pointer: str, key: str, api: Api) -> Problem:
    known = ", ".join(operation.key for operation in api.operations[:20])
    return Problem(display, pointer, f"{api.display} has no operation named {key!r}; its operations: {known}")


def _check_response(display: str, pointer: str, key: str, body: object, api: Api) -> list[Problem]:
    operation = api.operation(key)
    if operation is None:
        return [_unknown_operation(display, pointer, key, api)]
    if api.is_token_endpoint(operation):
        return [Problem(display, pointer, "the login response is made by the simulator (a new token per login)")]
    success = operation.success
    media = success.preferred if success is not None else None
    if media is None:
        return [Problem(display, pointer, f"{key} documents no success response with content to take this body")]
    if not media.name.endswith("json") and not isinstance(body, str):
        return [Problem(display, pointer, f"{key} answers {media.name}: its body must be a string")]
    if media.schema is None:
        return []
    return [
        Problem(
            display,
            join_pointer(pointer, *map(str, error.absolute_path)),
            f"does not match the response schema: {error.message}",
        )
        for error in api.schemas.errors(media.schema, body)
    ]
