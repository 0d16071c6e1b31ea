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
permission.
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

__all__ = ["DEFAULT_FIXTURES", "Fixtures", "User", "default_fixtures_path", "load_fixtures", "resolve_fixtures"]

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
                    "permissions": {
                        "oneOf": [
                            {"const": "*"},
                            {"type": "array", "items": {"type": "string", "minLength": 1}, "uniqueItems": True},
                        ]
                    },
                },
            },
        },
        "responses": {"type": "object"},
    },
}


@attrs.frozen
class User:
    """A user who can log in: password, customer account and permitted operations."""

    name: str
    password: str = attrs.field(repr=False)
    account: str
    permissions: frozenset[str] | None
    """Operation names the user may call; None for every operation."""

    def may(self, operation: str) -> bool:
        """True when the user may call the operation named ``operation``."""
        return self.permissions is None or operation in self.permissions


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

    def authenticate(self, username: str, password: str) -> User | None:
        """The user with these credentials, or None; compares passwords in constant time."""
        user = self.users.get(username)
        candidate = user.password if user is not None else "\x00" + password
        matches = hmac.compare_digest(candidate.encode("utf-8"), password.encode("utf-8"))
        return user if user is not None and matches else None


DEFAULT_FIXTURES = Fixtures(
    source="built-in default",
    accounts={"default": "Default account"},
    users={"demo": User("demo", "demo-password", "default", None)},
    responses={},
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
        return [Problem(display, join_pointer("", *map(str, e.absolute_path)), e.message) for e in errors]
    problems: list[Problem] = []
    accounts = {
        str(key): str(as_mapping(value).get("name", key)) for key, value in as_mapping(data.get("accounts")).items()
    }
    users: dict[str, User] = {}
    for name, raw in as_mapping(data["users"]).items():
        pointer = join_pointer("/users", name)
        entry = as_mapping(raw)
        account = str(entry["account"])
        if "accounts" in data and account not in accounts:
            problems.append(
                Problem(display, pointer + "/account", f"account {account!r} is not listed under /accounts")
            )
        permissions = entry.get("permissions", "*")
        granted: frozenset[str] | None = None
        if permissions != "*":
            granted = frozenset(str(p) for p in as_list(permissions))
            for index, key in enumerate(as_list(permissions)):
                if api.operation(str(key)) is None:
                    problems.append(
                        _unknown_operation(display, join_pointer(pointer, "permissions", index), str(key), api)
                    )
        accounts.setdefault(account, account)
        users[str(name)] = User(str(name), str(entry["password"]), account, granted)
    responses = {str(key): cast(object, value) for key, value in as_mapping(data.get("responses")).items()}
    for key, body in responses.items():
        problems.extend(_check_response(display, join_pointer("/responses", key), key, body, api))
    if problems:
        return problems
    return Fixtures(source=display, accounts=accounts, users=users, responses=responses)


def _unknown_operation(display: str, pointer: str, key: str, api: Api) -> Problem:
    known = ", ".join(operation.key for operation in api.operations[:20])
    return Problem(display, pointer, f"{api.display} has no operation named {key!r}; its operations: {known}")


def _check_response(display: str, pointer: str, key: str, body: object, api: Api) -> list[Problem]:
    operation = api.operation(key)
    if operation is None:
        return [_unknown_operation(display, pointer, key, api)]
    if api.login is operation:
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
