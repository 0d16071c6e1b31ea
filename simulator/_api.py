"""The API a document describes, compiled once for serving: operations, parameters, bodies, responses.

Two layers, as in the generator's config: :func:`load_api` reads and validates the document
(the same loader, OpenAPI validator and security resolution as ``generate``:
:func:`generator._security.resolve_security`), then builds frozen :class:`Operation` values;
nothing downstream reads the raw document except through :class:`~simulator._schemas.SchemaSet`,
by pointer. The simulator and the generated clients thus read one :class:`SecurityModel`: which
schemes exist, where their tokens travel, how tokens are obtained, and what each operation requires.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import urlsplit

import attrs

from generator._document import load_document
from generator._jsonish import as_list, as_mapping
from generator._lifecycle import HTTP_METHODS
from generator._pointer import join_pointer
from generator._problems import Problem, Severity
from generator._security import SchemeSpec, SecurityModel, resolve_security
from generator._validate import validate_openapi

from ._schemas import NO_EXAMPLE, SchemaSet

_SERVER_VARIABLE = re.compile(r"\{([^{}]*)\}")

__all__ = [
    "Api",
    "MediaType",
    "Operation",
    "Parameter",
    "RequestBody",
    "ResponseSpec",
    "ScopedRequirement",
    "TokenEndpoint",
    "load_api",
]

ParameterLocation = Literal["path", "query", "header", "cookie"]
_LOCATIONS: dict[str, ParameterLocation] = {"path": "path", "query": "query", "header": "header", "cookie": "cookie"}
_IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})
"""OpenAPI says header parameters with these names are ignored (other fields describe them)."""


@attrs.frozen
class Parameter:
    """One parameter of an operation."""

    name: str
    location: ParameterLocation
    required: bool
    schema: str | None
    """JSON pointer of its schema; None for a parameter described by ``content`` (not validated)."""
    explode: bool

    @property
    def label(self) -> str:
        """How messages name it: ``query parameter 'start'``."""
        return f"{self.location} parameter {self.name!r}"


@attrs.frozen
class MediaType:
    """One media type of a request body or response, with its schema's pointer."""

    name: str
    pointer: str
    schema: str | None


@attrs.frozen
class RequestBody:
    """The request body of an operation."""

    required: bool
    media: tuple[MediaType, ...]


@attrs.frozen
class ResponseSpec:
    """One documented response: its status key (``200``, ``4XX``, ``default``) and media types."""

    status: str
    pointer: str
    media: tuple[MediaType, ...]

    @property
    def preferred(self) -> MediaType | None:
        """The media type the simulator answers with: JSON first, then text, then whatever is first."""
        ranked = sorted(self.media, key=lambda m: (not _is_json(m.name), not m.name.startswith("text/")))
        return ranked[0] if ranked else None


ScopedRequirement = tuple[tuple[str, frozenset[str]], ...]
"""One security requirement of an operation: each scheme it combines (AND), with the scopes it needs."""


@attrs.frozen
class Operation:
    """One operation: where it lives, what it accepts, what it answers."""

    key: str
    """The operationId, or ``METHOD /path`` when the document gives none; fixtures use this name."""
    method: str
    path: str
    pointer: str
    parameters: tuple[Parameter, ...]
    body: RequestBody | None
    responses: tuple[ResponseSpec, ...]
    security: tuple[ScopedRequirement, ...] = ()
    """The alternatives (OR) a request must meet, in the document's order; ``()``: no security at all.
    An empty requirement among them (``{}``) lets anonymous requests in."""

    @property
    def protected(self) -> bool:
        """True when no request gets in without credentials of some scheme."""
        return bool(self.security) and all(self.security)

    def response(self, status: int) -> ResponseSpec | None:
        """The documented response for ``status``: exact, then its range (``4XX``), then ``default``."""
        by_key = {spec.status.upper(): spec for spec in self.responses}
        return by_key.get(str(status)) or by_key.get(f"{status // 100}XX") or by_key.get("DEFAULT")

    @property
    def success(self) -> ResponseSpec | None:
        """The lowest documented 2xx response, if any."""
        ok = sorted(
            (spec for spec in self.responses if spec.status.isdigit() and spec.status.startswith("2")),
            key=lambda spec: spec.status,
        )
        return ok[0] if ok else None

    @property
    def success_status(self) -> int:
        """The status of a successful answer (200 when the document lists no 2xx response)."""
        success = self.success
        return int(success.status) if success is not None else 200


@attrs.frozen
class TokenEndpoint:
    """An OAuth2 token endpoint (RFC 6749 §3.2): the ``tokenUrl`` of one or more oauth2 schemes."""

    path: str
    """Where it is served: a relative tokenUrl under the base path, an absolute one at its own path."""
    grants: tuple[tuple[str, SchemeSpec], ...]
    """Grant types (``password``, ``client_credentials``) it answers, with the oauth2 scheme whose flow it is."""
    operation: Operation | None
    """The document's operation at that path, when the document describes the endpoint too."""
    scopes: tuple[tuple[str, frozenset[str]], ...]
    """Per scheme, every scope its flows define or an operation requires of it: what may be granted at all."""

    def scheme_for(self, grant_type: str) -> SchemeSpec | None:
        """The scheme whose flow uses ``grant_type`` (``password`` or ``client_credentials``)."""
        return next((scheme for grant, scheme in self.grants if grant == grant_type), None)

    def scopes_for(self, scheme: SchemeSpec) -> frozenset[str]:
        """The scopes a token of ``scheme`` may be granted."""
        return next((scopes for name, scopes in self.scopes if name == scheme.name), frozenset[str]())

    @property
    def schemes(self) -> tuple[SchemeSpec, ...]:
        """The oauth2 schemes whose tokenUrl this is."""
        found: list[SchemeSpec] = []
        for _, scheme in self.grants:
            if scheme not in found:
                found.append(scheme)
        return tuple(found)


@attrs.frozen
class Api:
    """A served document: its operations and security schemes."""

    display: str
    operations: tuple[Operation, ...]
    security: SecurityModel | None
    schemas: SchemaSet = attrs.field(eq=False)
    base_path: str = ""
    """The path of the document's first server (``/publicapi/rest/v1.0``): every operation is served under it."""
    token_endpoints: tuple[TokenEndpoint, ...] = ()

    def operation(self, key: str) -> Operation | None:
        """The operation fixtures and permissions call ``key``."""
        return next((operation for operation in self.operations if operation.key == key), None)

    def scheme(self, name: str) -> SchemeSpec:
        """The security scheme named ``name`` (one that some operation uses)."""
        if self.security is None:  # pragma: no cover - only asked for names found in a requirement
            raise KeyError(name)
        return self.security.scheme(name)

    @property
    def schemes(self) -> tuple[SchemeSpec, ...]:
        """Every scheme some operation uses."""
        return () if self.security is None else self.security.schemes

    @property
    def scheme_names(self) -> frozenset[str]:
        """Names of the schemes of kind token: those that accept the fixtures' static tokens."""
        return frozenset(scheme.name for scheme in self.schemes if scheme.kind == "token")

    def login_scheme(self, operation: Operation) -> SchemeSpec | None:
        """The scheme whose non-OAuth2 login (``x-token-lifecycle``) is ``operation``, if any."""
        for scheme in self.schemes:
            login = scheme.login
            if login is not None and not scheme.oauth2 and login.operation_id == operation.key:
                return scheme
        return None

    def token_endpoint(self, operation: Operation) -> TokenEndpoint | None:
        """The OAuth2 token endpoint that ``operation`` is, if it is one."""
        return next((endpoint for endpoint in self.token_endpoints if endpoint.operation is operation), None)

    def is_token_endpoint(self, operation: Operation) -> bool:
        """True when the simulator makes the answers of ``operation`` (a login or token endpoint)."""
        return self.login_scheme(operation) is not None or self.token_endpoint(operation) is not None

    def example(self, media: MediaType) -> object:
        """The document's example for a media type: ``example``, first of ``examples``, or the schema's."""
        node = as_mapping(self.schemas.node(media.pointer))
        if "example" in node:
            return cast(object, node["example"])
        for name in as_mapping(node.get("examples")):
            example, _ = self.schemas.resolve(join_pointer(media.pointer, "examples", name))
            if "value" in example:
                return cast(object, example["value"])
        return NO_EXAMPLE if media.schema is None else self.schemas.example(media.schema)


def load_api(path: Path, display: str) -> Api | list[Problem]:
    """Read, validate and compile the document at ``path``; problems name ``display`` as the file."""
    document = load_document(path, display)
    if isinstance(document, Problem):
        return [document]
    problems = [p for p in validate_openapi(document, display) if p.severity is Severity.ERROR]
    if problems:
        return problems
    security = resolve_security(document, display)
    if isinstance(security, list):
        errors = [p for p in security if p.severity is Severity.ERROR]
        if errors:
            return errors
        return compile_api(document, display, None)
    return compile_api(document, display, security)


def compile_api(document: Mapping[str, Any], display: str, security: SecurityModel | None) -> Api:
    """Build the :class:`Api` of a valid document."""
    schemas = SchemaSet(document)
    operations: list[Operation] = []
    for path in as_mapping(document.get("paths")):
        item_pointer = join_pointer("/paths", path)
        item, item_pointer = schemas.resolve(item_pointer)
        for method in HTTP_METHODS:
            if method not in item:
                continue
            pointer = join_pointer(item_pointer, method)
            operation = as_mapping(item[method])
            operations.append(
                Operation(
                    key=str(operation.get("operationId") or f"{method.upper()} {path}"),
                    method=method.upper(),
                    path=path,
                    pointer=pointer,
                    parameters=_parameters(schemas, item_pointer, pointer),
                    body=_body(schemas, pointer),
                    responses=_responses(schemas, pointer),
                    security=_security(document, security, path, method, operation),
                )
            )
    base_path = server_base_path(document)
    return Api(
        display=display,
        operations=tuple(operations),
        security=security,
        schemas=schemas,
        base_path=base_path,
        token_endpoints=_token_endpoints(document, security, operations, base_path),
    )


def _security(
    document: Mapping[str, Any], model: SecurityModel | None, path: str, method: str, operation: Mapping[str, Any]
) -> tuple[ScopedRequirement, ...]:
    """The operation's requirements as the model resolved them, with the scopes the document asks for each."""
    if model is None:
        return ()
    scopes: dict[frozenset[str], dict[str, frozenset[str]]] = {}
    for raw in as_list(operation.get("security", document.get("security", []))):
        entry = as_mapping(raw)
        scopes[frozenset(map(str, entry))] = {
            str(name): frozenset(str(scope) for scope in as_list(value)) for name, value in entry.items()
        }
    known = {scheme.name for scheme in model.schemes}
    found: list[ScopedRequirement] = []
    for requirement in model.requirements(path, method):
        # The model leaves out schemes met by other means (mutualTLS): match on the schemes it kept.
        names = frozenset(requirement)
        required = next((v for k, v in scopes.items() if k & known == names), dict[str, frozenset[str]]())
        found.append(tuple((name, required.get(name, frozenset[str]())) for name in requirement))
    return tuple(found)


def _token_endpoints(
    document: Mapping[str, Any], model: SecurityModel | None, operations: list[Operation], base_path: str
) -> tuple[TokenEndpoint, ...]:
    """The OAuth2 token endpoints of the document's oauth2 schemes, grouped by where they are served."""
    if model is None:
        return ()
    by_path: dict[str, list[SchemeSpec]] = {}
    for scheme in model.login_schemes:
        if scheme.oauth2 and scheme.login is not None:
            by_path.setdefault(_served_path(scheme.login.url, base_path), []).append(scheme)
    required: dict[str, set[str]] = {}
    for served in operations:
        for requirement in served.security:
            for name, needed in requirement:
                required.setdefault(name, set()).update(needed)
    raw_schemes = as_mapping(as_mapping(document.get("components")).get("securitySchemes"))
    endpoints: list[TokenEndpoint] = []
    for path, schemes in by_path.items():
        login = schemes[0].login
        assert login is not None  # noqa: S101 - filtered above
        operation = next(
            (
                op
                for op in operations
                if (login.operation_id is not None and op.key == login.operation_id)
                or (op.method == "POST" and base_path + op.path == path)
            ),
            None,
        )
        grants: dict[str, SchemeSpec] = {}
        scopes: dict[str, frozenset[str]] = {}
        for scheme in schemes:
            # The scheme's own kind first, then every other flow of it served at the same tokenUrl.
            grants.setdefault("password" if scheme.kind == "login" else "client_credentials", scheme)
            flows = as_mapping(as_mapping(raw_schemes.get(scheme.name)).get("flows"))
            for flow, grant in (("password", "password"), ("clientCredentials", "client_credentials")):
                url = as_mapping(flows.get(flow)).get("tokenUrl")
                if isinstance(url, str) and _served_path(url, base_path) == path:
                    grants.setdefault(grant, scheme)
            defined = {str(scope) for flow in flows.values() for scope in as_mapping(as_mapping(flow).get("scopes"))}
            scopes[scheme.name] = frozenset(defined | required.get(scheme.name, set()) | set(scheme.scopes))
        endpoints.append(TokenEndpoint(path, tuple(grants.items()), operation, tuple(scopes.items())))
    return tuple(endpoints)


def _served_path(url: str, base_path: str) -> str:
    """Where the simulator serves a tokenUrl: an absolute URL at its path, a relative one under the base path."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return parts.path or "/"
    path = parts.path if parts.path.startswith("/") else "/" + parts.path
    return base_path + path


def server_base_path(document: Mapping[str, Any]) -> str:
    """The path of the first server's URL, variables at their defaults, without a trailing slash ("" for none).

    The service answers under that path (``https://host/publicapi/rest/v1.0/login``), and so does
    the simulator, so that a client's handling of a base URL with a path is tested over sockets too.
    """
    servers = as_list(document.get("servers"))
    if not servers:
        return ""
    server = as_mapping(servers[0])
    address = str(server.get("url", ""))
    variables = as_mapping(server.get("variables"))

    def default(match: re.Match[str]) -> str:
        return str(as_mapping(variables.get(match.group(1))).get("default", ""))

    path = urlsplit(_SERVER_VARIABLE.sub(default, address)).path
    if path and not path.startswith("/"):
        path = "/" + path  # a relative server URL ("api/v1") is relative to the document's host
    return path.rstrip("/")


def _parameters(schemas: SchemaSet, item_pointer: str, pointer: str) -> tuple[Parameter, ...]:
    """Path-item parameters overridden by the operation's own (same name and location)."""
    found: dict[tuple[str, str], Parameter] = {}
    for owner in (item_pointer, pointer):
        for index, _ in enumerate(as_list(as_mapping(schemas.node(owner)).get("parameters"))):
            raw, where = schemas.resolve(join_pointer(owner, "parameters", index))
            name, location = str(raw.get("name")), _LOCATIONS.get(str(raw.get("in")))
            if location is None:
                continue
            if location == "header" and name.lower() in _IGNORED_HEADERS:
                continue
            style = raw.get("style", "form" if location in ("query", "cookie") else "simple")
            found[(name, location)] = Parameter(
                name=name,
                location=location,
                required=bool(raw.get("required", location == "path")),
                schema=join_pointer(where, "schema") if "schema" in raw else None,
                explode=bool(raw.get("explode", style == "form")),
            )
    return tuple(found.values())


def _media(schemas: SchemaSet, owner: str) -> tuple[MediaType, ...]:
    content = as_mapping(as_mapping(schemas.node(owner)).get("content"))
    return tuple(
        MediaType(
            name=str(name).lower(),
            pointer=join_pointer(owner, "content", name),
            schema=join_pointer(owner, "content", name, "schema") if "schema" in as_mapping(entry) else None,
        )
        for name, entry in content.items()
    )


def _body(schemas: SchemaSet, pointer: str) -> RequestBody | None:
    if "requestBody" not in as_mapping(schemas.node(pointer)):
        return None
    raw, where = schemas.resolve(join_pointer(pointer, "requestBody"))
    return RequestBody(required=bool(raw.get("required", False)), media=_media(schemas, where))


def _responses(schemas: SchemaSet, pointer: str) -> tuple[ResponseSpec, ...]:
    found: list[ResponseSpec] = []
    for status in as_mapping(as_mapping(schemas.node(pointer)).get("responses")):
        _, where = schemas.resolve(join_pointer(pointer, "responses", status))
        found.append(ResponseSpec(status=str(status), pointer=where, media=_media(schemas, where)))
    return tuple(found)


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")
