"""The public API a spec generates, as one frozen value: what ``bearer-codegen diff`` compares.

The surface is read from openapi-python-client's parsed model of the document (the same
``GeneratorData`` the templates render), not from the raw YAML: names are the Python names the
generated package exposes, types are the type strings written into its signatures, and two specs
that differ only in how they say the same thing (a ``$ref`` instead of an inline schema, another
key order) give the same surface. The token lifecycle comes from :func:`resolve_lifecycle`.

A spec the generator would refuse is refused here too, with the same problems (exit code 2).
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal

import attrs
from openapi_python_client.config import Config, ConfigFile, MetaType
from openapi_python_client.parser import GeneratorData
from openapi_python_client.parser.errors import GeneratorError
from openapi_python_client.parser.openapi import Endpoint
from openapi_python_client.parser.properties import EnumProperty, LiteralEnumProperty, ModelProperty, Property
from openapi_python_client.schema.untrusted_string import UntrustedString

from ._document import Document, load_document, path_shape
from ._jsonish import as_mapping
from ._lifecycle import TokenLifecycleSpec, protected_operations, resolve_lifecycle
from ._pointer import join_pointer
from ._problems import Problem
from ._raw_bodies import file_responses, json_overrides, raw_bodies, restore_media_types
from ._validate import validate_openapi

__all__ = [
    "ApiSurface",
    "Direction",
    "EnumType",
    "Field",
    "Model",
    "Operation",
    "Parameter",
    "Response",
    "load_surface",
    "union_members",
]

Direction = Literal["request", "response"]
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ENDPOINT_HEADER = re.compile(r"^WARNING parsing (?P<method>[A-Z]+) (?P<path>\S+) within ")
_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@attrs.frozen
class Parameter:
    """One argument of an operation's functions: a path, query, header or cookie parameter, or ``body``."""

    python_name: str
    wire_name: str
    """The name on the wire (for ``body``: the media types it is sent as, comma-separated)."""
    location: str
    type: str
    """The Python type without ``| Unset`` (optionality is ``required``)."""
    required: bool
    default: str | None
    description: str


@attrs.frozen
class Response:
    """What one documented status of an operation parses into."""

    status: str
    type: str


@attrs.frozen
class Operation:
    """One generated module ``<package>.api.<tag>.<name>`` with its sync/asyncio functions."""

    name: str
    label: str
    """The operationId when the document has one (what messages name), else ``name``."""
    method: str
    path: str
    tags: tuple[str, ...]
    protected: bool
    """Only an AuthenticatedClient is accepted (the operation needs a token)."""
    parameters: tuple[Parameter, ...]
    """Path parameters first in their positional order, then body, query, header, cookie."""
    responses: tuple[Response, ...]
    docs: str

    @property
    def positional(self) -> tuple[str, ...]:
        """Python names of the positional arguments (the path parameters, in order)."""
        return tuple(p.python_name for p in self.parameters if p.location == "path")

    @property
    def return_types(self) -> frozenset[str]:
        """The members of the union that ``sync()`` returns (besides None)."""
        return frozenset(member for response in self.responses for member in union_members(response.type))


@attrs.frozen
class Field:
    """One attribute of a generated model (an attrs class)."""

    python_name: str
    wire_name: str
    type: str
    required: bool
    default: str | None
    description: str


@attrs.frozen
class Model:
    """A generated model class ``<package>.models.<Name>``."""

    name: str
    fields: tuple[Field, ...]
    additional: str | None
    """The value type of ``additional_properties``; None when the schema allows no other keys."""
    description: str


@attrs.frozen
class EnumType:
    """A generated enum (or a ``Literal`` alias with ``literal_enums``): member names and their values."""

    name: str
    members: tuple[tuple[str, str], ...]
    """(Python member name, repr of the wire value), sorted by value."""
    literal: bool
    description: str


@attrs.frozen
class ApiSurface:
    """Everything a caller of a generated package can depend on, sorted so that equal means equal."""

    title: str
    version: str
    operations: tuple[Operation, ...]
    models: tuple[Model, ...]
    enums: tuple[EnumType, ...]
    auth: TokenLifecycleSpec | None

    def directions(self) -> dict[str, frozenset[Direction]]:
        """Each model and enum name with the directions its values travel in: sent, received, or both.

        A class is in ``request`` when a parameter or body mentions it, in ``response`` when a
        response does, directly or through the fields of other models; a class nothing mentions
        has no direction (callers decide what that means).
        """
        names = {model.name for model in self.models} | {enum.name for enum in self.enums}
        fields = {model.name: [*(f.type for f in model.fields), model.additional or ""] for model in self.models}
        found: dict[str, set[Direction]] = {name: set() for name in names}

        def reach(direction: Direction, type_string: str) -> None:
            stack = sorted(_mentions(type_string, names))
            while stack:
                name = stack.pop()
                if direction not in found[name]:
                    found[name].add(direction)
                    stack.extend(_mentions(" ".join(fields.get(name, [])), names))

        for operation in self.operations:
            for parameter in operation.parameters:
                reach("request", parameter.type)
            for response in operation.responses:
                reach("response", response.type)
        return {name: frozenset(directions) for name, directions in found.items()}


def union_members(type_string: str) -> frozenset[str]:
    """The top-level members of a Python union type string (``list[A | B] | None`` has two)."""
    members: list[str] = []
    depth, start = 0, 0
    for index, char in enumerate(type_string):
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        elif char == "|" and depth == 0:
            members.append(type_string[start:index])
            start = index + 1
    members.append(type_string[start:])
    return frozenset(member.strip() for member in members if member.strip())


def _mentions(type_string: str, names: Iterable[str]) -> set[str]:
    return set(_IDENTIFIER.findall(type_string)).intersection(names)


def load_surface(spec: Path, display: str, options: ConfigFile) -> ApiSurface | list[Problem]:
    """The public API that generating ``spec`` with ``options`` gives, or why it cannot be generated."""
    document = load_document(spec, display)
    if isinstance(document, Problem):
        return [document]
    problems = validate_openapi(document, display)
    if problems:
        return problems
    lifecycle = resolve_lifecycle(document, display)
    if isinstance(lifecycle, list):
        return lifecycle
    # Modelled as generation models it: JSON under other names read as JSON, other bodies as raw bytes.
    overrides = json_overrides(document, options.content_type_overrides or {})
    options = options.model_copy(update={"content_type_overrides": overrides or options.content_type_overrides})
    config = Config.from_sources(options, MetaType.UV, spec, "utf-8", overwrite=False, output_path=None)
    raw = raw_bodies(document, config)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            data = GeneratorData.from_dict(raw.document, config=config)
    except RecursionError:
        return [Problem(display, "", "openapi-python-client could not model the document: nested too deeply")]
    except Exception as err:  # noqa: BLE001 - as in generation: a crash inside openapi-python-client on odd input is a problem with that input, reported with the document's name.
        return [Problem(display, "", f"openapi-python-client failed on this document: {err!r}")]
    if isinstance(data, GeneratorError):
        return [Problem(display, "", f"{data.header} {data.detail or ''}".strip())]
    errors = _parse_errors(data, display)
    if errors:
        return errors
    restore_media_types(data, raw)
    file_responses(data)
    return _surface(data, document, lifecycle)


def _parse_errors(data: GeneratorData, display: str) -> list[Problem]:
    """openapi-python-client's errors and warnings: each means a generated client would lack something.

    The generator refuses such documents; comparing the surface of a client that cannot be made
    would hide exactly the difference that matters.
    """
    errors = list(data.errors)
    for collection in data.endpoint_collections_by_tag.values():
        errors.extend(error for error in collection.parse_errors if error not in errors)
    problems: list[Problem] = []
    for error in errors:
        header = error.header.strip()
        match = _ENDPOINT_HEADER.match(header)
        pointer = join_pointer("/paths", match["path"], match["method"].lower()) if match else ""
        problems.append(Problem(display, pointer, f"{(error.detail or '').strip()} (openapi-python-client: {header})"))
    return problems


def _text(value: UntrustedString | str | None) -> str:
    if isinstance(value, UntrustedString):
        return value.get_untrusted_value()
    return value or ""


def _type(prop: Property) -> str:
    return prop.get_type_string(no_optional=True).as_unembedded_code()


def _default(prop: Property) -> str | None:
    return prop.default.python_code.as_unembedded_code() if prop.default is not None else None


def _surface(data: GeneratorData, document: Document, lifecycle: TokenLifecycleSpec | None) -> ApiSurface:
    wire = _wire_operations(document)
    protected = {(path_shape(path), method) for path, method in protected_operations(document)}
    tags: dict[str, set[str]] = {}
    endpoints: dict[str, Endpoint] = {}
    for tag, collection in data.endpoint_collections_by_tag.items():
        for endpoint in collection.endpoints:
            tags.setdefault(endpoint.name, set()).add(str(tag))
            endpoints.setdefault(endpoint.name, endpoint)
    operations = [
        _operation(endpoint, tuple(sorted(tags[name])), wire, protected) for name, endpoint in endpoints.items()
    ]
    models = [_model(model) for model in data.models]
    enums = [_enum(enum) for enum in data.enums]
    return ApiSurface(
        title=_text(data.title),
        version=_text(data.version),
        operations=tuple(sorted(operations, key=lambda o: o.name)),
        models=tuple(sorted(models, key=lambda m: m.name)),
        enums=tuple(sorted(enums, key=lambda e: e.name)),
        auth=lifecycle,
    )


def _wire_operations(document: Document) -> dict[tuple[str, str], tuple[str, str | None]]:
    """(path shape, method) of each operation → its path as written and its operationId."""
    found: dict[tuple[str, str], tuple[str, str | None]] = {}
    for path, item in as_mapping(document.get("paths")).items():
        for method in _HTTP_METHODS:
            operation = as_mapping(as_mapping(item).get(method))
            if operation:
                operation_id = operation.get("operationId")
                found[(path_shape(path), method)] = (
                    path,
                    operation_id if isinstance(operation_id, str) else None,
                )
    return found


def _operation(
    endpoint: Endpoint,
    tags: tuple[str, ...],
    wire: Mapping[tuple[str, str], tuple[str, str | None]],
    protected: set[tuple[str, str]],
) -> Operation:
    # openapi-python-client renames path parameters ({monitorId} -> {monitor_id}): compare shapes.
    shape = (path_shape(endpoint.path.get_untrusted_value()), endpoint.method.lower())
    path, operation_id = wire.get(shape, (endpoint.path.get_untrusted_value(), None))
    parameters = [_parameter("path", p) for p in endpoint.path_parameters]
    if endpoint.bodies:
        parameters.append(_body(endpoint))
    for location, group in (
        ("query", endpoint.query_parameters),
        ("header", endpoint.header_parameters),
        ("cookie", endpoint.cookie_parameters),
    ):
        parameters.extend(_parameter(location, p) for p in group)
    responses = [Response(response.status_code.pattern, _type(response.prop)) for response in endpoint.responses]
    return Operation(
        name=str(endpoint.name),
        label=operation_id or str(endpoint.name),
        method=endpoint.method.upper(),
        path=path,
        tags=tags,
        protected=shape in protected,
        parameters=tuple(parameters),
        responses=tuple(sorted(responses, key=lambda r: r.status)),
        docs="\n".join(filter(None, (_text(endpoint.summary), _text(endpoint.description)))),
    )


def _parameter(location: str, prop: Property) -> Parameter:
    return Parameter(
        python_name=str(prop.python_name),
        wire_name=_text(prop.name),
        location=location,
        type=_type(prop),
        required=prop.required,
        default=_default(prop),
        description=_text(prop.description),
    )


def _body(endpoint: Endpoint) -> Parameter:
    """The ``body`` argument: one type per accepted media type, required when every one of them is."""
    bodies = endpoint.bodies
    return Parameter(
        python_name="body",
        wire_name=", ".join(sorted(_text(body.content_type) for body in bodies)),
        location="body",
        type=" | ".join(sorted({_type(body.prop) for body in bodies})),
        required=all(body.prop.required for body in bodies),
        default=None,
        description="",
    )


def _model(model: ModelProperty) -> Model:
    fields = [
        Field(
            python_name=str(prop.python_name),
            wire_name=_text(prop.name),
            type=_type(prop),
            required=prop.required,
            default=_default(prop),
            description=_text(prop.description),
        )
        for prop in [*(model.required_properties or []), *(model.optional_properties or [])]
    ]
    additional = model.additional_properties
    return Model(
        name=str(model.class_info.name),
        fields=tuple(sorted(fields, key=lambda f: f.python_name)),
        additional=_type(additional) if additional is not None else None,
        description=_text(model.description),
    )


def _enum(enum: EnumProperty | LiteralEnumProperty) -> EnumType:
    if isinstance(enum, EnumProperty):
        members = [(str(name), repr(value)) for name, value in enum.values.items()]
    else:
        members = [(repr(value), repr(value)) for value in enum.values]
    return EnumType(
        name=str(enum.class_info.name),
        members=tuple(sorted(members, key=lambda m: (m[1], m[0]))),
        literal=isinstance(enum, LiteralEnumProperty),
        description=_text(enum.description),
    )
