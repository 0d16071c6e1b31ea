"""Keep names taken from a document clear of the names the generated code uses itself.

openapi-python-client turns document names into Python names (``fooBar`` → ``foo_bar``) and
the templates bind names of their own in every module (imports such as ``Response``, ``Unset``
and ``quote``; locals such as ``headers``, ``params`` and ``field_dict``). When the two meet, the
output shadows or overwrites itself and no longer type-checks, or two operations silently share
one module file. This module fixes what can be fixed without changing the document's meaning,
the way openapi-python-client already does for a parameter named ``client``:

- a model or enum whose class name the generated code imports (``Response``, ``Client``,
  ``Unset``, ...) is generated as ``<Name>Model``, with a warning;
- a parameter whose Python name is a local of the endpoint functions gets its location
  appended (``headers`` in the query → ``headers_query``);
- a model property whose Python name is a method or local of the model gets a trailing
  underscore (``to_dict`` → ``to_dict_``), as keywords already do;

and reports what cannot be fixed: two operations or two schemas that become the same module.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs
from openapi_python_client.config import ClassOverride, Config
from openapi_python_client.parser import GeneratorData
from openapi_python_client.parser.openapi import Endpoint
from openapi_python_client.parser.properties import EnumProperty, LiteralEnumProperty, ModelProperty, Property
from openapi_python_client.schema.untrusted_string import UntrustedString
from openapi_python_client.strings import PythonIdentifier

from ._document import path_shape
from ._jsonish import as_mapping
from ._pointer import join_pointer
from ._problems import Problem, Severity

__all__ = [
    "CLASS_NAMES_IN_USE",
    "class_overrides",
    "module_collisions",
    "origins",
    "rename_parameters",
    "rename_properties",
    "schema_pointer",
]

CLASS_NAMES_IN_USE = frozenset(
    {
        # endpoint_module.py.jinja and the imports openapi-python-client adds to it
        "Any",
        "AuthenticatedClient",
        "Client",
        "HTTPStatus",
        "Mapping",
        "Response",
        "Sequence",
        "UNSET",
        "Unset",
        # model.py.jinja and the property templates
        "BinaryIO",
        "BytesIO",
        "File",
        "FileTypes",
        "Generator",
        "Literal",
        "T",
        "TextIO",
        "TypeVar",
        "UUID",
        # the enum templates
        "IntEnum",
        "StrEnum",
    }
)
"""Capitalised names that generated modules import or define for themselves; a model may not take one.

Lower-case names cannot clash: class names are always PascalCase."""
MODULE_NAMES_IN_USE = frozenset({"cast", "json", "types"})
"""Lower-case names a model module imports; its ``from_dict`` names a local after the module."""
MODEL_SUFFIX = "Model"
ENDPOINT_LOCALS = frozenset(
    {"body", "cast", "client", "cookies", "errors", "headers", "httpx", "kwargs", "params", "quote", "response", "url"}
    | {"sync", "sync_detailed", "asyncio", "asyncio_detailed", "login_secrets", "redacting"}
)
"""Names bound in endpoint modules besides the parameters: template locals, lower-case imports, and the
module's own functions (a query parameter ``sync`` hid ``sync()`` inside ``sync_detailed``)."""
MODEL_LOCALS = frozenset(
    {
        "additional_keys",
        "additional_properties",
        "cast",
        "cls",
        "d",
        "field_dict",
        "files",
        "from_dict",
        "json",
        "prop",
        "prop_dict",
        "prop_name",
        "src_dict",
        "to_dict",
        "to_multipart",
        "types",
    }
)
"""Names bound in model modules besides the properties: methods, locals of ``to_dict``/``from_dict``, imports."""
_TEMPLATED = re.compile(r"(\{[^{}]*\})")
MAX_MODULE_NAME_BYTES = 250
"""Longest module name written as ``<name>.py``: most filesystems refuse names over 255 bytes."""


def _classes(data: GeneratorData) -> Iterator[ModelProperty | EnumProperty | LiteralEnumProperty]:
    yield from data.models
    yield from data.enums


def schema_pointer(model: ModelProperty | EnumProperty | LiteralEnumProperty) -> str:
    """The pointer of the component schema a model or enum comes from, or '' for an inline one."""
    roots: Iterable[object] = getattr(model, "roots", ())
    texts = [root.get_untrusted_value() if isinstance(root, UntrustedString) else str(root) for root in roots]
    paths = sorted(text for text in texts if text.startswith("/components/"))
    return paths[0] if paths else ""


def class_overrides(data: GeneratorData, config: Config, display: str) -> tuple[Config, list[Problem]]:
    """A config that renames every class (or module) whose name the generated code uses itself; a warning each."""
    taken = {str(model.class_info.name) for model in _classes(data)}
    overrides: dict[str, ClassOverride] = dict(config.class_overrides)
    warnings: list[Problem] = []
    for model in _classes(data):
        name, module = str(model.class_info.name), str(model.class_info.module_name)
        if name in overrides or (name not in CLASS_NAMES_IN_USE and module not in MODULE_NAMES_IN_USE):
            continue
        new = name + MODEL_SUFFIX
        while new in taken:
            new += MODEL_SUFFIX
        taken.add(new)
        overrides[name] = ClassOverride.model_validate({"class_name": new})
        warnings.append(
            Problem(
                display,
                schema_pointer(model),
                f"the name {name!r} is used by the generated code itself; the model is generated as {new!r} "
                "(choose another name with openapi-python-client's class_overrides option)",
                Severity.WARNING,
            )
        )
    return attrs.evolve(config, class_overrides=overrides), warnings


def _parameters(endpoint: Endpoint) -> Iterator[tuple[str, Property]]:
    for location, parameters in (
        ("path", endpoint.path_parameters),
        ("query", endpoint.query_parameters),
        ("header", endpoint.header_parameters),
        ("cookie", endpoint.cookie_parameters),
    ):
        for parameter in parameters:
            yield location, parameter


def _endpoints(data: GeneratorData) -> Iterator[tuple[str, Endpoint]]:
    for tag, collection in data.endpoint_collections_by_tag.items():
        for endpoint in collection.endpoints:
            yield str(tag), endpoint


def rename_parameters(data: GeneratorData, config: Config) -> None:
    """Append the location to parameter names that are locals of the endpoint functions (in place).

    The path template (``/things/{thing_id}``) names path parameters by their Python name, so it is
    rewritten with them; any other brace in a path is doubled, because the template is a
    ``str.format`` string and a brace from the document must stay text.
    """
    # Besides the locals, a parameter may take a capitalised raw name (``Response`` when ``response`` is taken).
    taken = ENDPOINT_LOCALS | CLASS_NAMES_IN_USE | {str(model.class_info.name) for model in _classes(data)}
    for _, endpoint in _endpoints(data):
        names = {str(parameter.python_name) for _, parameter in _parameters(endpoint)}
        path = endpoint.path.get_untrusted_value()
        for location, parameter in _parameters(endpoint):
            old = str(parameter.python_name)
            clashes = old in taken or (old.startswith("json_") and old.removeprefix("json_") in names)
            if not clashes:
                continue
            suffix = location
            parameter.set_python_name(UntrustedString(f"{old}_{suffix}"), config)
            while str(parameter.python_name) in names | taken:
                suffix += "_"
                parameter.set_python_name(UntrustedString(f"{old}_{suffix}"), config, skip_snake_case=True)
            names.add(str(parameter.python_name))
            if location == "path":
                path = path.replace("{" + old + "}", "{" + str(parameter.python_name) + "}")
        if endpoint.path_parameters:
            placeholders = {str(parameter.python_name) for parameter in endpoint.path_parameters}
            path = "".join(
                piece if piece[1:-1] in placeholders else piece.replace("{", "{{").replace("}", "}}")
                for piece in _TEMPLATED.split(path)
            )
        endpoint.path = UntrustedString(path)


def rename_properties(data: GeneratorData, config: Config) -> None:
    """Give model properties whose Python name the model module uses itself a trailing underscore (in place)."""
    classes = CLASS_NAMES_IN_USE | {str(model.class_info.name) for model in _classes(data)}
    for model in data.models:
        reserved = MODEL_LOCALS | classes | {str(model.class_info.module_name)}
        for prop in [*(model.required_properties or []), *(model.optional_properties or [])]:
            old = str(prop.python_name)
            if old in reserved:
                prop.set_python_name(UntrustedString(old + "_"), config, skip_snake_case=True)


def origins(data: GeneratorData, document: Mapping[str, Any], config: Config) -> dict[str, str]:
    """Each generated module (``api/<tag>/<module>.py``, ``models/<module>.py``) → its pointer in the document."""
    found: dict[str, str] = {}
    paths = _paths_by_shape(document)
    for tag, endpoint in _endpoints(data):
        found.setdefault(f"api/{tag}/{_module(endpoint, config)}.py", _operation_pointer(paths, endpoint, ""))
    for model in _classes(data):
        found.setdefault(f"models/{model.class_info.module_name}.py", schema_pointer(model))
    return found


def _module(endpoint: Endpoint, config: Config) -> str:
    return str(PythonIdentifier(endpoint.name, config.field_prefix))


def module_collisions(data: GeneratorData, document: Mapping[str, Any], config: Config, display: str) -> list[Problem]:
    """Two operations, or two schemas, that would be written to the same module file (one would be lost)."""
    problems: list[Problem] = []
    paths = _paths_by_shape(document)
    seen: dict[tuple[str, str], Endpoint] = {}
    for tag, endpoint in _endpoints(data):
        module = _module(endpoint, config)
        if len(module.encode()) > MAX_MODULE_NAME_BYTES or len(tag.encode()) > MAX_MODULE_NAME_BYTES:
            problems.append(
                Problem(
                    display,
                    _operation_pointer(paths, endpoint, "operationId"),
                    f"the operationId (or its first tag) of {_describe(endpoint)[:80]}… is too long for a file name",
                )
            )
            continue
        first = seen.setdefault((tag, module), endpoint)
        if first is not endpoint:
            problems.append(
                Problem(
                    display,
                    _operation_pointer(paths, endpoint, "operationId"),
                    f"operations {_describe(first)} and {_describe(endpoint)} would both be written to "
                    f"api/{tag}/{module}.py (their operationIds differ only in case or punctuation); rename one",
                )
            )
    modules: dict[str, ModelProperty | EnumProperty | LiteralEnumProperty] = {}
    for model in _classes(data):
        module = str(model.class_info.module_name)
        if len(module.encode()) > MAX_MODULE_NAME_BYTES:
            problems.append(
                Problem(
                    display,
                    schema_pointer(model),
                    f"the class {str(model.class_info.name)[:60]!r}… (named after the schemas that enclose it) is "
                    f"{len(module)} characters long, too long for a file name; give the nested schemas a title or "
                    "move them to components/schemas",
                )
            )
            continue
        first_model = modules.setdefault(module, model)
        if first_model is not model:
            problems.append(
                Problem(
                    display,
                    schema_pointer(model),
                    f"the classes {str(first_model.class_info.name)!r} and {str(model.class_info.name)!r} would both "
                    f"be written to models/{module}.py; rename one of their schemas (or set a title)",
                )
            )
    return problems


def _describe(endpoint: Endpoint) -> str:
    return f"{endpoint.method.upper()} {endpoint.path.get_untrusted_value()} ({endpoint.name})"


def _paths_by_shape(document: Mapping[str, Any]) -> dict[str, str]:
    """Each path's shape (see :func:`path_shape`) → the first path of the document with that shape."""
    paths: dict[str, str] = {}
    for path in as_mapping(document.get("paths")):
        paths.setdefault(path_shape(str(path)), str(path))
    return paths


def _operation_pointer(paths_by_shape: Mapping[str, str], endpoint: Endpoint, field: str) -> str:
    """The operation's pointer (or one of its fields'); paths are matched by shape, as parameters were renamed."""
    path = paths_by_shape.get(path_shape(endpoint.path.get_untrusted_value()))
    if path is None:
        return ""
    return join_pointer("/paths", path, endpoint.method.lower(), *([field] if field else []))
