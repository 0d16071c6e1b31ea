"""Read ``x-token-lifecycle`` on one security scheme into resolved overrides.

The extension describes what a document cannot say in OpenAPI: a non-standard login operation
(Synthetic Classic's ``GET /login``), a token taken from a response header or cookie, a header
value like ``Token token={token}``. It is validated against ``x-token-lifecycle.schema.json``,
then every name in it is resolved against the document, so that :mod:`._security` receives plain
values and nothing downstream reads the raw extension. :mod:`._security` merges these overrides
with what it infers from the scheme itself.

``TokenLifecycleSpec`` and ``resolve_lifecycle`` are the former, single-scheme view, kept for the
callers that still read it (``bearer-codegen diff``, the simulator while it moves over).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from importlib import resources
from typing import Any, Literal, cast

import attrs

from ._duration import parse_duration
from ._jsonish import as_mapping, extension_problems
from ._pointer import join_pointer
from ._problems import Problem
from ._requirements import HTTP_METHODS, operations, protected_operations, resolve_ref
from ._scheme_model import CredentialField, CredentialLocation, LoginOperation, SecurityModel, TokenSource

__all__ = [
    "EXTENSION",
    "HTTP_METHODS",
    "CredentialField",
    "DocumentLogin",
    "ExtensionOverrides",
    "LoginOperation",
    "TokenLifecycleSpec",
    "check_template",
    "lifecycle_view",
    "protected_operations",
    "read_extension",
    "resolve_lifecycle",
]

EXTENSION = "x-token-lifecycle"
_BODY_LOCATIONS: dict[str, CredentialLocation] = {
    "application/x-www-form-urlencoded": "form",
    "application/json": "json",
}
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
"""An HTTP field name or cookie name (RFC 9110 / RFC 6265 token): anything else could not be sent, or
would split the header."""
MAX_LIFETIME_SECONDS = 1_000_000_000
"""About 31 years: longer lifetimes are surely mistakes (and an overflowing one is not a number at all)."""


@attrs.frozen
class ExtensionOverrides:
    """What one ``x-token-lifecycle`` says, resolved; None where it says nothing."""

    login: LoginOperation | None
    token: TokenSource | None
    template: str | None
    """The header value template from ``value`` or ``scheme``."""
    lifetime_seconds: float | None
    expires_in: str | None
    """``expiresIn``; meaningful only when :attr:`expires_in_given`."""
    expires_in_given: bool
    invalid_on: tuple[int, ...] | None
    client_authentication: Literal["basic", "body"] | None


def _extension_schema() -> Mapping[str, Any]:
    text = resources.files("generator").joinpath("x-token-lifecycle.schema.json").read_text(encoding="utf-8")
    return as_mapping(json.loads(text))


def check_template(template: str) -> str | None:
    """What is wrong with a token value template, or None."""
    if template.count("{token}") != 1:
        return f"the value {template!r} must contain '{{token}}' exactly once, where the token goes"
    if "{" in template.replace("{token}", "") or "}" in template.replace("{token}", ""):
        return f"the value {template!r} may contain no brace other than the one '{{token}}'"
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in template):
        return f"the value {template!r} contains a control character, which would split or corrupt the header"
    return None


def _credential_field(
    document: Mapping[str, Any], path_item: Mapping[str, Any], operation: Mapping[str, Any], name: str
) -> CredentialField | list[str]:
    """Where ``name`` travels in the login operation, or every name it does have."""
    available: list[str] = []
    for raw in [*path_item.get("parameters", []), *operation.get("parameters", [])]:
        parameter = resolve_ref(document, as_mapping(raw))
        location, pname = parameter.get("in"), parameter.get("name")
        if pname == name and location in ("query", "header", "cookie"):
            return CredentialField(cast(CredentialLocation, location), name)
        if isinstance(pname, str):
            available.append(pname)
    body = resolve_ref(document, as_mapping(operation.get("requestBody")))
    for media_type, location in _BODY_LOCATIONS.items():
        content = as_mapping(as_mapping(body.get("content")).get(media_type))
        properties = as_mapping(resolve_ref(document, as_mapping(content.get("schema"))).get("properties"))
        if name in properties:
            return CredentialField(location, name)
        available.extend(str(key) for key in properties)
    return available


def _login(
    document: Mapping[str, Any], display: str, login: Mapping[str, Any], base: str
) -> LoginOperation | list[Problem]:
    """The login operation the extension names, with where its credentials go."""
    operation_id = str(login["operationId"])
    found = next(((p, m, i, o) for p, m, i, o in operations(document) if o.get("operationId") == operation_id), None)
    if found is None:
        known = sorted(str(o["operationId"]) for _, _, _, o in operations(document) if "operationId" in o)
        return [
            Problem(
                display,
                join_pointer(base, "login", "operationId"),
                f"no operation has operationId {operation_id!r}; known operationIds: {', '.join(known[:20]) or 'none'}",
            )
        ]
    path, method, path_item, operation = found
    problems: list[Problem] = []
    if method not in ("get", "post"):
        message = f"the login operation {operation_id!r} is {method.upper()} {path}; a login must be GET or POST"
        problems.append(Problem(display, join_pointer(base, "login", "operationId"), message))
    if (path, method) in protected_operations(document):
        problems.append(
            Problem(
                display,
                join_pointer("/paths", path, method, "security"),
                f"the login operation {operation_id!r} itself requires a token or other credentials; "
                "give it 'security: []'",
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
    if (
        len(fields) == 2
        and fields["username"].location != fields["password"].location
        and {
            fields["username"].location,
            fields["password"].location,
        }
        <= {"form", "json"}
    ):
        message = "the user name and the password are in a form body and in a JSON body: a request has one body"
        problems.append(Problem(display, join_pointer(base, "login", "password"), message))
    if problems:
        return problems
    constants = tuple(sorted((str(k), str(v)) for k, v in as_mapping(login.get("constants")).items()))
    return LoginOperation(operation_id, method.upper(), path, fields["username"], fields["password"], constants)


def _lifetime(raw: str, display: str, pointer: str) -> float | Problem:
    lifetime = parse_duration(raw)
    if not isinstance(lifetime, str) and not (math.isfinite(lifetime) and lifetime <= MAX_LIFETIME_SECONDS):
        lifetime = f"{raw!r} is longer than {MAX_LIFETIME_SECONDS:,} seconds (about 31 years)"
    return Problem(display, pointer, lifetime) if isinstance(lifetime, str) else lifetime


def _token(raw: Mapping[str, Any]) -> TokenSource:
    source = cast(Literal["body", "json", "header", "cookie"], raw["from"])
    return TokenSource(source, cast(str | None, raw.get("pointer")), cast(str | None, raw.get("name")))


def read_extension(
    document: Mapping[str, Any], display: str, raw: object, base: str
) -> ExtensionOverrides | list[Problem]:
    """The resolved overrides of the extension ``raw`` found at ``base``, or what is wrong with it."""
    errors = extension_problems(_extension_schema(), raw, display=display, base=base, name=EXTENSION)
    if errors:
        return errors
    extension = as_mapping(raw)
    problems: list[Problem] = []
    login: LoginOperation | None = None
    if "login" in extension:
        resolved = _login(document, display, as_mapping(extension["login"]), base)
        if isinstance(resolved, list):
            problems += resolved
        else:
            login = resolved
    template: str | None = None
    if "value" in extension and "scheme" in extension:
        message = "give either 'value' (a template such as 'Token token={token}') or 'scheme', not both"
        problems.append(Problem(display, join_pointer(base, "value"), message))
    elif "value" in extension:
        template = str(extension["value"])
        if (wrong := check_template(template)) is not None:
            problems.append(Problem(display, join_pointer(base, "value"), wrong))
    elif "scheme" in extension:
        word = cast(str | None, extension["scheme"])
        template = "{token}" if word is None else word + " {token}"
    lifetime: float | None = None
    if "lifetime" in extension:
        parsed = _lifetime(str(extension["lifetime"]), display, join_pointer(base, "lifetime"))
        if isinstance(parsed, Problem):
            problems.append(parsed)
        else:
            lifetime = parsed
    token = _token(as_mapping(extension["token"])) if "token" in extension else None
    if problems:
        return problems
    invalid_on = extension.get("invalidOn")
    return ExtensionOverrides(
        login=login,
        token=token,
        template=template,
        lifetime_seconds=lifetime,
        expires_in=cast(str | None, extension.get("expiresIn")),
        expires_in_given="expiresIn" in extension,
        invalid_on=None if invalid_on is None else tuple(cast(list[int], invalid_on)),
        client_authentication=cast(Literal["basic", "body"] | None, extension.get("clientAuthentication")),
    )


# --- the former single-scheme view ---------------------------------------------------------------


@attrs.frozen
class DocumentLogin:
    """A login operation of the document (the former view: it always has an operationId)."""

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
    """The login scheme of a document whose login is one of its operations (the former, single view)."""

    security_scheme: str
    header_name: str
    scheme_word: str | None
    lifetime_seconds: float
    login: DocumentLogin
    token_from: Literal["body", "json", "header", "cookie"]
    token_pointer: str | None
    expires_in_pointer: str | None
    invalid_on: tuple[int, ...]


def resolve_lifecycle(document: Mapping[str, Any], display: str) -> TokenLifecycleSpec | list[Problem] | None:
    """The first login scheme of the document as a :class:`TokenLifecycleSpec`; None when there is none.

    A view of :func:`._security.resolve_security` for callers written before several schemes
    existed: it describes the first scheme of kind ``login`` whose token travels in a header.
    """
    from ._security import resolve_security  # a cycle at import time: _security imports this module

    model = resolve_security(document, display)
    return model if isinstance(model, list) else lifecycle_view(model)


def lifecycle_view(model: SecurityModel) -> TokenLifecycleSpec | None:
    """The first scheme of ``model`` that logs in through an operation of the document and sends its token in a
    header, as a :class:`TokenLifecycleSpec`."""
    for spec in model.login_schemes:
        login, token = spec.login, spec.token
        if login is None or login.operation_id is None or token is None or spec.placement.location != "header":
            continue
        prefix, _, _ = spec.placement.template.partition("{token}")
        return TokenLifecycleSpec(
            security_scheme=spec.name,
            header_name=spec.placement.name,
            scheme_word=prefix[:-1] if prefix.endswith(" ") else (prefix or None),
            lifetime_seconds=spec.lifetime_seconds,
            login=DocumentLogin(
                login.operation_id, login.method, login.url, login.username, login.password, login.constants
            ),
            token_from=token.source,
            token_pointer=token.pointer,
            expires_in_pointer=spec.expires_in_pointer,
            invalid_on=spec.invalid_on,
        )
    return None
