"""Read ``x-token-lifecycle`` from a document into a frozen, fully resolved configuration.

openapi-python-client ignores security schemes, so the generator reads the extension itself:
it is validated against ``x-token-lifecycle.schema.json``, then every name in it is resolved
against the document (the login operation, where the user name and password go), so that the
templates receive plain data and nothing downstream reads the raw extension.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from importlib import resources
from typing import Any, Literal, cast

import attrs

from ._duration import parse_duration
from ._jsonish import as_list, as_mapping, schema_errors
from ._pointer import join_pointer, node_at, split_ref
from ._problems import Problem

__all__ = [
    "EXTENSION",
    "CredentialField",
    "LoginOperation",
    "TokenLifecycleSpec",
    "protected_operations",
    "resolve_lifecycle",
]

EXTENSION = "x-token-lifecycle"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
Location = Literal["query", "header", "cookie", "form", "json"]
_BODY_LOCATIONS: dict[str, Location] = {"application/x-www-form-urlencoded": "form", "application/json": "json"}
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
"""An HTTP field name (RFC 9110 token): anything else could not be sent, or would split the header."""
MAX_LIFETIME_SECONDS = 1_000_000_000
"""About 31 years: longer lifetimes are surely mistakes (and an overflowing one is not a number at all)."""


@attrs.frozen
class CredentialField:
    """Where one credential travels in the login request."""

    location: Location
    name: str


@attrs.frozen
class LoginOperation:
    """The operation that issues tokens, resolved against the document."""

    operation_id: str
    method: str
    path: str
    username: CredentialField
    password: CredentialField
    constants: tuple[tuple[str, str], ...]

    def is_endpoint(self, method: str, path: str) -> bool:
        """Whether the endpoint ``method path`` of the document is this login operation."""
        return method.lower() == self.method.lower() and path == self.path


@attrs.frozen
class TokenLifecycleSpec:
    """Everything the generated client needs to look after its token."""

    security_scheme: str
    header_name: str
    scheme_word: str | None
    lifetime_seconds: float
    login: LoginOperation
    token_from: Literal["body", "json"]
    token_pointer: str | None
    expires_in_pointer: str | None
    invalid_on: tuple[int, ...]


def _extension_schema() -> Mapping[str, Any]:
    text = resources.files("generator").joinpath("x-token-lifecycle.schema.json").read_text(encoding="utf-8")
    return as_mapping(json.loads(text))


def _resolve_ref(document: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow local ``$ref`` chains (``#/components/...``); anything else is returned as is."""
    seen: set[str] = set()
    while isinstance(ref := node.get("$ref"), str) and ref.startswith("#/") and ref not in seen:
        seen.add(ref)
        node = as_mapping(node_at(document, split_ref(ref)))
    return node


def _operations(document: Mapping[str, Any]) -> Iterator[tuple[str, str, Mapping[str, Any], Mapping[str, Any]]]:
    """Every (path, method, path item, operation) of the document."""
    for path, item in as_mapping(document.get("paths")).items():
        path_item = as_mapping(item)
        for method in HTTP_METHODS:
            if method in path_item:
                yield path, method, path_item, as_mapping(path_item[method])


def protected_operations(document: Mapping[str, Any]) -> frozenset[tuple[str, str]]:
    """(path, method) of every operation that cannot be called without a token.

    openapi-python-client looks only at an operation's own ``security``; the document-wide
    default counts too, and an empty requirement ``{}`` among the alternatives makes the token
    optional.
    """
    top = document.get("security")
    protected: set[tuple[str, str]] = set()
    for path, method, _, operation in _operations(document):
        requirements = as_list(operation.get("security", top))
        if requirements and all(as_mapping(requirement) for requirement in requirements):
            protected.add((path, method))
    return frozenset(protected)


def _uses_security(document: Mapping[str, Any]) -> list[str]:
    """Names of the security schemes that any operation requires."""
    top = document.get("security")
    names: list[str] = []
    for _, _, _, operation in _operations(document):
        requirements = operation.get("security", top)
        for requirement in as_list(requirements):
            names.extend(name for name in as_mapping(requirement) if name not in names)
    return names


def _credential_field(
    document: Mapping[str, Any], path_item: Mapping[str, Any], operation: Mapping[str, Any], name: str
) -> CredentialField | list[str]:
    """Where ``name`` travels in the login operation, or every name it does have."""
    available: list[str] = []
    for raw in [*path_item.get("parameters", []), *operation.get("parameters", [])]:
        parameter = _resolve_ref(document, as_mapping(raw))
        location, pname = parameter.get("in"), parameter.get("name")
        if pname == name and location in ("query", "header", "cookie"):
            return CredentialField(cast(Location, location), name)
        if isinstance(pname, str):
            available.append(pname)
    body = _resolve_ref(document, as_mapping(operation.get("requestBody")))
    for media_type, location in _BODY_LOCATIONS.items():
        content = as_mapping(as_mapping(body.get("content")).get(media_type))
        properties = as_mapping(_resolve_ref(document, as_mapping(content.get("schema"))).get("properties"))
        if name in properties:
            return CredentialField(location, name)
        available.extend(str(key) for key in properties)
    return available


@attrs.frozen
class _SchemeError:
    field: str
    """The field of the security scheme that is wrong."""
    message: str


def _header(scheme: Mapping[str, Any]) -> tuple[str, str | None] | _SchemeError:
    """The header a scheme puts the token in, and the scheme word it implies, or what is wrong."""
    kind = scheme.get("type")
    if kind == "apiKey":
        if scheme.get("in") != "header":
            message = f"an apiKey scheme in {scheme.get('in')!r} is not supported; the token must travel in a header"
            return _SchemeError("type", message)
        name = str(scheme.get("name"))
        if not _HEADER_NAME.fullmatch(name):
            return _SchemeError("name", f"the header name {name!r} is not a valid HTTP field name (RFC 9110 token)")
        return name, None
    if kind == "http" and str(scheme.get("scheme", "")).lower() == "bearer":
        return "Authorization", "Bearer"
    if kind == "oauth2" and "password" in as_mapping(scheme.get("flows")):
        return "Authorization", "Bearer"
    return _SchemeError(
        "type", f"security schemes of type {kind!r} cannot carry a token lifecycle; use apiKey (header) or http bearer"
    )


def resolve_lifecycle(document: Mapping[str, Any], display: str) -> TokenLifecycleSpec | list[Problem] | None:
    """The document's token lifecycle, None when no operation needs a token, or the problems found."""
    schemes_pointer = "/components/securitySchemes"
    schemes = as_mapping(as_mapping(document.get("components")).get("securitySchemes"))
    carriers = [name for name, scheme in schemes.items() if EXTENSION in as_mapping(scheme)]
    if not carriers:
        used = _uses_security(document)
        if not used:
            return None
        return [
            Problem(
                display,
                join_pointer(schemes_pointer, used[0]),
                f"operations require the security scheme {used[0]!r} but it has no {EXTENSION} extension, so a "
                "generated client could not obtain a token; add the extension (see README, 'The x-token-lifecycle "
                "extension')",
            )
        ]
    if len(carriers) > 1:
        return [
            Problem(
                display,
                join_pointer(schemes_pointer, carriers[1]),
                f"only one security scheme may carry {EXTENSION}; found it on {', '.join(map(repr, carriers))}",
            )
        ]
    scheme_name = carriers[0]
    scheme = as_mapping(schemes[scheme_name])
    base = join_pointer(schemes_pointer, scheme_name, EXTENSION)
    raw: object = scheme[EXTENSION]
    errors = schema_errors(_extension_schema(), raw)
    if errors:
        return [
            Problem(display, join_pointer(base, *map(str, error.absolute_path)), f"{EXTENSION}: {error.message}")
            for error in errors
        ]
    extension = as_mapping(raw)
    header = _header(scheme)
    if isinstance(header, _SchemeError):
        return [Problem(display, join_pointer(schemes_pointer, scheme_name, header.field), header.message)]
    return _resolve_valid(document, display, scheme_name, header, extension, base)


def _resolve_valid(
    document: Mapping[str, Any],
    display: str,
    scheme_name: str,
    header: tuple[str, str | None],
    extension: Mapping[str, Any],
    base: str,
) -> TokenLifecycleSpec | list[Problem]:
    problems: list[Problem] = []
    login = as_mapping(extension["login"])
    operation_id = str(login["operationId"])
    found = next(((p, m, i, o) for p, m, i, o in _operations(document) if o.get("operationId") == operation_id), None)
    login_operation: LoginOperation | None = None
    if found is None:
        known = sorted(str(o["operationId"]) for _, _, _, o in _operations(document) if "operationId" in o)
        problems.append(
            Problem(
                display,
                join_pointer(base, "login", "operationId"),
                f"no operation has operationId {operation_id!r}; known operationIds: {', '.join(known[:20]) or 'none'}",
            )
        )
    else:
        path, method, path_item, operation = found
        if (path, method) in protected_operations(document):
            problems.append(
                Problem(
                    display,
                    join_pointer("/paths", path, method, "security"),
                    f"the login operation {operation_id!r} itself requires a token; give it 'security: []'",
                )
            )
        fields: dict[str, CredentialField] = {}
        for role in ("username", "password"):
            name = str(login[role])
            field = _credential_field(document, path_item, operation, name)
            if isinstance(field, CredentialField):
                fields[role] = field
            else:
                problems.append(
                    Problem(
                        display,
                        join_pointer(base, "login", role),
                        f"the login operation {operation_id!r} ({method.upper()} {path}) has no query, header or "
                        f"cookie parameter, form field or JSON field named {name!r}"
                        + (f"; it has: {', '.join(sorted(set(field)))}" if field else ""),
                    )
                )
        if len(fields) == 2:
            constants = tuple(sorted((str(k), str(v)) for k, v in as_mapping(login.get("constants")).items()))
            login_operation = LoginOperation(
                operation_id, method.upper(), path, fields["username"], fields["password"], constants
            )
    lifetime = parse_duration(str(extension["lifetime"]))
    if not isinstance(lifetime, str) and not (math.isfinite(lifetime) and lifetime <= MAX_LIFETIME_SECONDS):
        lifetime = f"{extension['lifetime']!r} is longer than {MAX_LIFETIME_SECONDS:,} seconds (about 31 years)"
    if isinstance(lifetime, str):
        problems.append(Problem(display, join_pointer(base, "lifetime"), lifetime))
    token = as_mapping(extension["token"])
    expires_in = extension.get("expiresIn")
    if expires_in is not None and token["from"] != "json":
        problems.append(
            Problem(
                display, join_pointer(base, "expiresIn"), "expiresIn needs a JSON login response (token.from: json)"
            )
        )
    if problems or login_operation is None or isinstance(lifetime, str):
        return problems
    header_name, implied_word = header
    return TokenLifecycleSpec(
        security_scheme=scheme_name,
        header_name=header_name,
        scheme_word=cast(str | None, extension.get("scheme", implied_word)),
        lifetime_seconds=lifetime,
        login=login_operation,
        token_from=cast(Literal["body", "json"], token["from"]),
        token_pointer=cast(str | None, token.get("pointer")),
        expires_in_pointer=cast(str | None, expires_in),
        invalid_on=tuple(cast(list[int], extension.get("invalidOn", [401]))),
    )
