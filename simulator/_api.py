"""The API a document describes, compiled once for serving: operations, parameters, bodies, responses.

Two layers, as in the generator's config: :func:`load_api` reads and validates the document
(the same loader, OpenAPI validator and ``x-token-lifecycle`` resolution as ``generate``), then
builds frozen :class:`Operation` values; nothing downstream reads the raw document except
through :class:`~simulator._schemas.SchemaSet`, by pointer.
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
from generator._lifecycle import HTTP_METHODS, TokenLifecycleSpec, resolve_lifecycle
from generator._pointer import join_pointer
from generator._problems import Problem, Severity
from generator._validate import validate_openapi

from ._schemas import NO_EXAMPLE, SchemaSet

_SERVER_VARIABLE = re.compile(r"\{([^{}]*)\}")

__all__ = ["Api", "MediaType", "Operation", "Parameter", "RequestBody", "ResponseSpec", "load_api"]

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
    protected: bool
    """True when a request needs the token of the document's ``x-token-lifecycle``."""

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
class Api:
    """A served document: its operations and token lifecycle."""

    display: str
    operations: tuple[Operation, ...]
    lifecycle: TokenLifecycleSpec | None
    schemas: SchemaSet = attrs.field(eq=False)
    base_path: str = ""
    """The path of the document's first server (``/publicapi/rest/v1.0``): every operation is served under it."""

    def operation(self, key: str) -> Operation | None:
        """The operation fixtures and permissions call ``key``."""
        return next((operation for operation in self.operations if operation.key == key), None)

    @property
    def login(self) -> Operation | None:
        """The operation that issues tokens, when the document has a token lifecycle."""
        return None if self.lifecycle is None else self.operation(self.lifecycle.login.operation_id)

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
    lifecycle = resolve_lifecycle(document, display)
    if isinstance(lifecycle, list):
        return lifecycle
    return compile_api(document, display, lifecycle)


def compile_api(document: Mapping[str, Any], display: str, lifecycle: TokenLifecycleSpec | None) -> Api:
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
            requirements = as_list(operation.get("security", document.get("security", [])))
            protected = lifecycle is not None and bool(requirements) and all(as_mapping(r) for r in requirements)
            operations.append(
                Operation(
                    key=str(operation.get("operationId") or f"{method.upper()} {path}"),
                    method=method.upper(),
                    path=path,
                    pointer=pointer,
                    parameters=_parameters(schemas, item_pointer, pointer),
                    body=_body(schemas, pointer),
                    responses=_responses(schemas, pointer),
                    protected=protected,
                )
            )
    return Api(
        display=display,
        operations=tuple(operations),
        lifecycle=lifecycle,
        schemas=schemas,
        base_path=server_base_path(document),
    )


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
