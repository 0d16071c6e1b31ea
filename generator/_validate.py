"""Validate a loaded document against the OpenAPI 3.0/3.1 schema, every violation a Problem with its pointer.

Separate from :mod:`._document` because the validators take a fifth of a second to import: only
the commands that validate import them, when they first validate.

A valid document costs little: jsonschema-rs checks it against the OpenAPI schema and each schema
object against its dialect's meta schema, and :class:`_SemanticWalk` repeats in plain code the few
rules openapi-spec-validator's keyword walk adds (unique operationIds, path parameters, defaults,
...). Only a document that fails, or that the plain walk does not reproduce exactly, goes through
the reference validator, whose messages are the ones reported.
"""

from __future__ import annotations

import functools
import json
import re
import string
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, cast

import jsonschema_rs
from jsonschema.exceptions import SchemaError
from jsonschema.protocols import Validator
from jsonschema_path import SchemaPath
from openapi_schema_validator._dialects import OAS31_BASE_DIALECT_ID
from openapi_schema_validator._specifications import REGISTRY
from openapi_spec_validator.schemas.backend.jsonschema import create_validator as create_reference_validator
from openapi_spec_validator.schemas.backend.jsonschema_rs import create_validator as create_rs_validator
from openapi_spec_validator.schemas.backend.jsonschema_rs import has_jsonschema_rs_validators
from openapi_spec_validator.schemas.utils import get_schema_content
from openapi_spec_validator.validation import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from openapi_spec_validator.validation.keywords import (
    OpenAPIV30SchemaValidator,
    OpenAPIV30ValueValidator,
    OpenAPIV31SchemaValidator,
    OpenAPIV31ValueValidator,
    PathValidator,
)
from referencing import Registry
from referencing._core import Resolver
from referencing.jsonschema import DRAFT202012

from ._document import MAX_DEPTH, Document, target, walk
from ._jsonish import as_list, as_mapping
from ._pointer import join_pointer
from ._problems import Problem

if TYPE_CHECKING:
    from jsonschema_rs import JSONType

__all__ = ["validate_openapi"]

_DUPLICATE_OPERATION_ID = re.compile(
    r"^Operation ID '(?P<id>.*)' for '(?P<method>\w+)' in '(?P<path>.*)' is not unique$"
)


def _default_holding(document: Document, instance: object) -> str:
    """The pointer of the first schema ``default`` equal to ``instance``, or ''.

    The validator checks each default against its schema but reports the violation without a
    location; the value it quotes is enough to find it again.
    """
    if isinstance(instance, dict | list):
        return ""
    for pointer, node, is_key in walk(document):
        if is_key or not isinstance(node, dict):
            continue
        mapping = as_mapping(cast(object, node))
        if "default" in mapping and type(mapping["default"]) is type(instance) and mapping["default"] == instance:
            return join_pointer(pointer, "default")
    return ""


_OAS30_META = "http://json-schema.org/draft-04/schema"
"""What openapi-schema-validator checks OpenAPI 3.0 schema objects against (with OpenAPI's formats)."""


@functools.cache
def _fast_meta_check(meta_id: str) -> Callable[[object], None]:
    """A jsonschema-rs check of one schema object against the meta schema ``meta_id``.

    It raises a bare :class:`SchemaError`, without a message: it only decides that the fast pass
    failed, and the reference backend then words the problem.
    """
    # The meta schemas of openapi-schema-validator's own registry: JSON objects, whatever its types say.
    resources = [(uri, cast("JSONType", REGISTRY.contents(uri))) for uri in map(str, REGISTRY) if "openapis.org" in uri]
    validator = jsonschema_rs.validator_for(
        cast("dict[str, Any]", REGISTRY.contents(meta_id)),
        registry=jsonschema_rs.Registry(resources),
        validate_formats=True,
    )

    def check(schema: object) -> None:
        if not validator.is_valid(schema):
            raise SchemaError("not valid against its meta schema (fast pass)")

    return check


class _FastSchema30(OpenAPIV30SchemaValidator):
    def _get_schema_checker(self, schema: SchemaPath, schema_value: Any) -> Callable[[Any], None]:
        return _fast_meta_check(_OAS30_META)


class _FastSchema31(OpenAPIV31SchemaValidator):
    def _get_schema_checker(self, schema: SchemaPath, schema_value: Any) -> Callable[[Any], None]:
        if self._get_schema_dialect_id(schema, schema_value) != OAS31_BASE_DIALECT_ID:
            return super()._get_schema_checker(schema, schema_value)
        return _fast_meta_check(OAS31_BASE_DIALECT_ID)


class _LocatedSchema30(OpenAPIV30SchemaValidator):
    def _validate_schema_meta(self, schema: SchemaPath, schema_value: Any) -> OpenAPIValidationError | None:
        return _located(schema, super()._validate_schema_meta(schema, schema_value))


class _LocatedSchema31(OpenAPIV31SchemaValidator):
    def _validate_schema_meta(self, schema: SchemaPath, schema_value: Any) -> OpenAPIValidationError | None:
        return _located(schema, super()._validate_schema_meta(schema, schema_value))


def _located(schema: SchemaPath, error: OpenAPIValidationError | None) -> OpenAPIValidationError | None:
    """The reference backend words a schema object's violation relative to that object: say where it is."""
    if error is not None:
        error.path.extendleft(reversed(schema.parts))
    return error


@functools.cache
def _openapi_schema_validator(version: str, fast: bool) -> Validator:
    """The OpenAPI ``version`` schema's validator: jsonschema-rs when ``fast``, else the reference jsonschema.

    Chosen here rather than by openapi-spec-validator, which picks jsonschema-rs whenever it is
    installed unless an environment variable says otherwise: the reference words the messages,
    and they must not depend on what else is installed (nor on the caller's environment).
    """
    content = dict(get_schema_content(version))
    # Either backend implements the part of jsonschema's Validator protocol the spec validator uses.
    return cast(Validator, create_rs_validator(content) if fast else create_reference_validator(content))


class _ReportingV30(OpenAPIV30SpecValidator):
    """The reference 3.0 validator, its schema-object violations located in the document."""

    keyword_validators = {**OpenAPIV30SpecValidator.keyword_validators, "schema": _LocatedSchema30}  # noqa: RUF012 - overrides the base class's dict

    def __init__(self, document: Document) -> None:
        super().__init__(document)
        self.schema_validator = _openapi_schema_validator("3.0", fast=False)


class _ReportingV31(OpenAPIV31SpecValidator):
    """The reference 3.1 validator, its schema-object violations located in the document."""

    keyword_validators = {**OpenAPIV31SpecValidator.keyword_validators, "schema": _LocatedSchema31}  # noqa: RUF012 - overrides the base class's dict

    def __init__(self, document: Document) -> None:
        super().__init__(document)
        self.schema_validator = _openapi_schema_validator("3.1", fast=False)


def _document_pointer(document: Document, parts: Iterable[object]) -> str:
    """The pointer of ``parts`` in the document as written: the validator follows local ``$ref``s as if
    the target were inlined, so a path through one continues at the target's own pointer."""
    node: object = document
    pointer = ""
    for part in parts:
        for _ in range(MAX_DEPTH):
            mapping = as_mapping(node)
            ref = mapping.get("$ref")
            if not isinstance(ref, str) or not ref.startswith("#") or part in mapping:
                break
            found = target(document, ref)
            if isinstance(found, str):
                break
            node, pointer = found
        pointer = join_pointer(pointer, str(part))
        items = as_list(node)
        node = items[part] if isinstance(part, int) and 0 <= part < len(items) else as_mapping(node).get(str(part))
    return pointer


class _FastV30(OpenAPIV30SpecValidator):
    """The 3.0 validator with jsonschema-rs checking the OpenAPI schema and each schema object."""

    keyword_validators = {**OpenAPIV30SpecValidator.keyword_validators, "schema": _FastSchema30}  # noqa: RUF012 - overrides the base class's dict

    def __init__(self, document: Document) -> None:
        super().__init__(document)
        self.schema_validator = _openapi_schema_validator("3.0", fast=True)


class _FastV31(OpenAPIV31SpecValidator):
    """The 3.1 validator with jsonschema-rs checking the OpenAPI schema and each schema object."""

    keyword_validators = {**OpenAPIV31SpecValidator.keyword_validators, "schema": _FastSchema31}  # noqa: RUF012 - overrides the base class's dict

    def __init__(self, document: Document) -> None:
        super().__init__(document)
        self.schema_validator = _openapi_schema_validator("3.1", fast=True)


class _Unsure(Exception):
    """The plain walk met a shape it does not reproduce exactly: the keyword walk itself decides."""


class _Violation(Exception):
    """The keyword walk would report this document: the reference validator words it."""


_MAX_SCHEMA_DEPTH = 64
"""Deeper schemas are left to the keyword walk (which may run out of stack where this walk would not)."""

_SCOPE_KEYWORDS = re.compile(r'"\$(?:id|schema|anchor|dynamicRef|dynamicAnchor|recursiveRef|recursiveAnchor)"')
"""Keywords that change how a ``$ref`` resolves or which meta schema applies; the plain walk knows none."""

_OPERATIONS = frozenset(PathValidator.OPERATIONS)


class _SemanticWalk:
    """openapi-spec-validator's keyword walk (``validation/keywords.py``), in plain code and only for a verdict.

    Run when jsonschema-rs found the document valid against the OpenAPI schema. The keyword walk
    then visits the same nodes in the same order (tags, paths, components; ``$ref``s followed
    wherever it reads a node) and adds: each top-level schema object valid against its meta
    schema, required properties of an ``allOf`` schema defined somewhere, schema defaults valid
    against their schema, unique parameters, operationIds and tag names, and path parameters
    declared exactly as the path template names them. In pure Python through jsonschema-path it
    costs seconds for a thousand operations, a quadratic part of it in its lists of seen schemas.

    :meth:`clean` raises :class:`_Violation` where the keyword walk would report a problem (or
    raise), :class:`_Unsure` where the document takes a shape this walk does not reproduce
    exactly (a ``$ref`` out of the document or percent-encoded, ``$id`` and other scope keywords,
    a node of a type the OpenAPI schema did not guarantee, ...).
    """

    def __init__(self, document: Document, version: str) -> None:
        self.document = document
        self.v30 = version.startswith("3.0.")
        self.meta_valid = _fast_meta_check(_OAS30_META if self.v30 else OAS31_BASE_DIALECT_ID)
        self.default_validator = OpenAPIV30ValueValidator if self.v30 else OpenAPIV31ValueValidator
        self.meta_checked: set[int] = set()
        self.visited: set[int] = set()
        self.operation_ids: set[str] = set()
        registry: Registry[Any] = Registry[Any]().with_resource("", DRAFT202012.create_resource(document))
        self.resolver: Resolver[Any] = registry.resolver(base_uri="")

    def clean(self) -> None:
        document = self.document
        if "jsonSchemaDialect" in document or _SCOPE_KEYWORDS.search(json.dumps(document, default=str)):
            raise _Unsure
        if "tags" in document:
            self.tags(self.resolve(document["tags"]))
        if "paths" in document:
            for url, path_item in self.mapping(document["paths"]).items():
                self.path(url, self.mapping(path_item))
        if "components" in document:
            components = self.mapping(document["components"])
            if "schemas" in components:
                for schema in self.mapping(components["schemas"]).values():
                    self.schema(self.resolve(schema))

    def resolve(self, node: object) -> object:
        """``node``, or what its (chain of) local ``$ref`` names, as jsonschema-path reads it."""
        for _ in range(MAX_DEPTH):
            if not isinstance(node, dict):
                return node
            ref = cast(dict[str, object], node).get("$ref")
            if not isinstance(ref, str):
                return cast(object, node)
            if (ref != "#" and not ref.startswith("#/")) or "%" in ref:
                raise _Unsure
            found = target(self.document, ref)
            if isinstance(found, str):
                raise _Unsure
            node = found[0]
        raise _Unsure

    def mapping(self, node: object) -> dict[str, object]:
        node = self.resolve(node)
        if not isinstance(node, dict) or not all(isinstance(key, str) for key in cast(dict[object, object], node)):
            raise _Unsure
        return cast(dict[str, object], node)

    def sequence(self, node: object) -> list[object]:
        node = self.resolve(node)
        if not isinstance(node, list):
            raise _Unsure
        return [self.resolve(item) for item in cast(list[object], node)]

    def text(self, node: dict[str, object], key: str) -> str:
        value = self.resolve(node.get(key))
        if not isinstance(value, str):
            raise _Unsure
        return value

    def tags(self, tags: object) -> None:
        seen: set[str] = set()
        for tag in self.sequence(tags):
            name = self.text(self.mapping(tag), "name")
            if name in seen:
                raise _Violation
            seen.add(name)

    def path(self, url: str, path_item: dict[str, object]) -> None:
        parameters = self.parameters(path_item["parameters"]) if "parameters" in path_item else None
        for field, operation in path_item.items():
            if field in _OPERATIONS:
                self.operation(url, self.mapping(operation), parameters)

    def operation(
        self, url: str, operation: dict[str, object], path_parameters: list[dict[str, object]] | None
    ) -> None:
        if "operationId" in operation:
            operation_id = self.resolve(operation["operationId"])
            if operation_id is not None:
                if not isinstance(operation_id, str):
                    raise _Unsure
                if operation_id in self.operation_ids:
                    raise _Violation
                self.operation_ids.add(operation_id)
        if "responses" in operation:
            for response in self.mapping(operation["responses"]).values():
                response = self.mapping(response)
                if "content" in response:
                    for media_type in self.mapping(response["content"]).values():
                        media_type = self.mapping(media_type)
                        if "schema" in media_type:
                            self.schema(self.resolve(media_type["schema"]))
        declared: list[dict[str, object]] = []
        if "parameters" in operation:
            declared += self.parameters(operation["parameters"])
        declared += path_parameters or []
        names = {self.text(parameter, "name") for parameter in declared if self.text(parameter, "in") == "path"}
        # As the keyword walk reads a template (a ValueError on unbalanced braces is its problem too).
        in_template = {field for _, field, _, _ in string.Formatter().parse(url) if field}
        if names != in_template:
            raise _Violation

    def parameters(self, node: object) -> list[dict[str, object]]:
        parameters = [self.mapping(parameter) for parameter in self.sequence(node)]
        seen: set[tuple[str, str]] = set()
        for parameter in parameters:
            if "schema" in parameter:
                self.schema(self.resolve(parameter["schema"]))
            key = (self.text(parameter, "name"), self.text(parameter, "in"))
            if key in seen:
                raise _Violation
            seen.add(key)
        return parameters

    def schema(
        self, schema: object, require_properties: bool = True, meta_checked: bool = False, depth: int = 0
    ) -> None:
        """``SchemaValidator.__call__``: ``schema`` already resolved."""
        if depth > _MAX_SCHEMA_DEPTH or not isinstance(schema, dict | bool):
            raise _Unsure
        identity = id(cast(object, schema))
        if not meta_checked and identity not in self.meta_checked:
            self.meta_checked.add(identity)
            try:
                self.meta_valid(cast(object, schema))
            except SchemaError:
                raise _Violation from None
        if identity in self.visited or isinstance(schema, bool):
            self.visited.add(identity)
            return
        self.visited.add(identity)
        node = self.mapping(cast(object, schema))
        nested: set[str] = set()
        for keyword in ("allOf", "anyOf", "oneOf"):
            for inner in self.sequence(node[keyword]) if keyword in node else ():
                self.schema(inner, require_properties=False, meta_checked=True, depth=depth + 1)
                if keyword == "allOf":
                    nested |= self.properties(inner, depth + 1)
        for keyword in ("not", "items"):
            if keyword in node:
                self.schema(self.resolve(node[keyword]), require_properties=False, meta_checked=True, depth=depth + 1)
        properties = self.mapping(node["properties"]) if "properties" in node else {}
        for value in properties.values():
            self.schema(self.resolve(value), require_properties=False, meta_checked=True, depth=depth + 1)
        if "allOf" in node:
            required: object = self.resolve(node["required"]) if "required" in node else []
            if not isinstance(required, list) or not all(
                isinstance(name, str) for name in cast(list[object], required)
            ):
                raise _Unsure
            if require_properties and set(cast(list[str], required)) - set(properties) - nested:
                raise _Violation
        if "default" in node:
            self.default(node)

    def properties(self, schema: object, depth: int) -> set[str]:
        """``SchemaValidator._collect_properties`` (which has no guard against a cycle)."""
        if depth > _MAX_SCHEMA_DEPTH:
            raise _Unsure
        if not isinstance(schema, dict):
            return set()
        node = self.mapping(cast(object, schema))
        found: set[str] = set(self.mapping(node["properties"])) if "properties" in node else set()
        for keyword in ("allOf", "anyOf", "oneOf"):
            for inner in self.sequence(node[keyword]) if keyword in node else ():
                found |= self.properties(inner, depth + 1)
        for keyword in ("items", "not"):
            if keyword in node:
                found |= self.properties(self.resolve(node[keyword]), depth + 1)
        return found

    def default(self, schema: dict[str, object]) -> None:
        """The schema's default valid against it, exactly as ``ValueValidator`` checks it."""
        value = self.resolve(schema["default"])
        nullable = self.resolve(schema["nullable"]) if "nullable" in schema else False
        if value is None and nullable is True:
            return
        validator = self.default_validator.value_validator_cls(
            schema, _resolver=self.resolver, format_checker=self.default_validator.value_validator_format_checker
        )
        if next(iter(validator.iter_errors(cast(Any, value))), None) is not None:
            raise _Violation


def _semantic_verdict(document: Document, version: str) -> bool | None:
    """Whether the keyword walk would pass a document valid against the OpenAPI schema; None when unsure."""
    try:
        _SemanticWalk(document, version).clean()
    except _Unsure:
        return None
    except Exception:  # noqa: BLE001 - a _Violation, or what the keyword walk would raise too: the reference reports it.
        return False
    return True


def _valid_by_fast_pass(document: Document, version: str) -> bool:
    """True when the document is valid, decided without the reference backend.

    The reference backend spends nearly all of a large document's validation in Python: checking
    the document against the OpenAPI schema and each schema object against its dialect's meta
    schema (jsonschema-rs does both in a fraction of that time), then walking the document through
    jsonschema-path for the rules beyond the schema (:class:`_SemanticWalk` does that in plain
    code). jsonschema-rs words messages differently and may lack locations, so this only decides
    "valid"; an invalid document is validated again by the reference backend for the report.
    """
    if not has_jsonschema_rs_validators():
        return False
    v30 = version.startswith("3.0.")
    if not _openapi_schema_validator("3.0" if v30 else "3.1", fast=True).is_valid(document):
        return False
    verdict = _semantic_verdict(document, version)
    if verdict is not None:
        return verdict
    # A shape the plain walk leaves to the keyword walk: run that, with jsonschema-rs for its meta schemas.
    return (_FastV30 if v30 else _FastV31)(document).is_valid()


def validate_openapi(document: Document, display: str) -> list[Problem]:
    """Validate against the OpenAPI 3.0/3.1 schema; one problem per violation, with its pointer."""
    version = document.get("openapi")
    if not isinstance(version, str):
        hint = " (Swagger 2.0 documents are not supported)" if "swagger" in document else ""
        return [Problem(display, "/openapi", f"missing or non-string 'openapi' version field{hint}")]
    if not version.startswith(("3.0.", "3.1.")):
        return [Problem(display, "/openapi", f"unsupported OpenAPI version {version!r}; use 3.0.x or 3.1.x")]
    problems: list[Problem] = []
    try:
        if _valid_by_fast_pass(document, version):
            return []
        reporting = _ReportingV30 if version.startswith("3.0.") else _ReportingV31
        for error in reporting(document).iter_errors():
            pointer = _document_pointer(document, error.absolute_path)
            duplicate = _DUPLICATE_OPERATION_ID.match(error.message) if not pointer else None
            if duplicate is not None:
                pointer = join_pointer("/paths", duplicate["path"], duplicate["method"], "operationId")
            elif not pointer:
                pointer = _default_holding(document, cast(object, error.instance))
            problems.append(Problem(display, pointer, error.message))
    except RecursionError:
        problems.append(Problem(display, "", "the document is nested too deeply (or recursive) to validate"))
    except Exception as err:  # noqa: BLE001 - the validator raises many unrelated types on hostile input (unresolvable $ref, ...); each is a problem with the document, not a bug here.
        problems.append(Problem(display, "", f"the OpenAPI validator could not process the document: {err}"))
    return problems[:50]
