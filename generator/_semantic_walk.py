"""The fast pass's verdict on a document jsonschema-rs found valid against the OpenAPI schema.

openapi-spec-validator's keyword walk adds a few rules beyond the OpenAPI schema (schema objects
valid against their meta schema, unique operationIds, path parameters, defaults, ...) and costs
seconds per thousand operations in Python. :class:`_SemanticWalk` repeats those rules in plain
code, only to say "valid", "not valid" or "not sure"; :mod:`._validate` words every problem with
the reference validator.
"""

from __future__ import annotations

import functools
import json
import re
import string
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import jsonschema_rs
from jsonschema.exceptions import SchemaError
from openapi_schema_validator._dialects import OAS31_BASE_DIALECT_ID
from openapi_schema_validator._specifications import REGISTRY
from openapi_spec_validator.validation.keywords import (
    OpenAPIV30ValueValidator,
    OpenAPIV31ValueValidator,
    PathValidator,
)
from referencing import Registry
from referencing._core import Resolver
from referencing.jsonschema import DRAFT202012

from ._document import MAX_DEPTH, Document, target

if TYPE_CHECKING:
    from jsonschema_rs import JSONType

__all__ = ["OAS30_META", "fast_meta_check", "semantic_verdict"]

OAS30_META = "http://json-schema.org/draft-04/schema"
"""What openapi-schema-validator checks OpenAPI 3.0 schema objects against (with OpenAPI's formats)."""


@functools.cache
def fast_meta_check(meta_id: str) -> Callable[[object], None]:
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


class _Unsure(Exception):
    """The plain walk met a shape it does not reproduce exactly: the keyword walk itself decides."""


class _Violation(Exception):
    """The keyword walk would report this document: the reference validator words it."""


_MAX_SCHEMA_DEPTH = 1_000
"""Deeper schemas are left to the keyword walk. The depth counts ``$ref``s followed, so a document of
interlinked components (a user has repositories, which have owners, ...) reaches hundreds of levels
without nesting deeply; at 64 the fast pass gave up on such documents and the keyword walk took
seconds. The keyword walk uses about one frame per level; a walk is held to a quarter of the
recursion limit too (250 levels at Python's default, 1,000 in the pipeline), so that it never says
"valid" where the keyword walk would run out of stack."""
_FRAMES_PER_LEVEL = 4

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
        self.meta_valid = fast_meta_check(OAS30_META if self.v30 else OAS31_BASE_DIALECT_ID)
        self.default_validator = OpenAPIV30ValueValidator if self.v30 else OpenAPIV31ValueValidator
        self.meta_checked: set[int] = set()
        self.visited: set[int] = set()
        self.operation_ids: set[str] = set()
        self.max_depth = min(_MAX_SCHEMA_DEPTH, sys.getrecursionlimit() // _FRAMES_PER_LEVEL)
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
        if depth > self.max_depth or not isinstance(schema, dict | bool):
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
        if depth > self.max_depth:
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


def semantic_verdict(document: Document, version: str) -> bool | None:
    """Whether the keyword walk would pass a document valid against the OpenAPI schema; None when unsure."""
    try:
        _SemanticWalk(document, version).clean()
    except (_Unsure, RecursionError):
        return None
    except Exception:  # noqa: BLE001 - a _Violation, or what the keyword walk would raise too: the reference reports it.
        return False
    return True
