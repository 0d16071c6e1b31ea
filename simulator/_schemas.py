"""Schemas of one OpenAPI document: follow ``$ref``, validate instances, coerce strings, make examples.

Every schema is addressed by its JSON pointer in the document, so ``$ref`` inside it resolves
against the whole document, and every validation message can say where the rule lives. OpenAPI
3.0 schemas are not JSON Schema (``nullable``, boolean ``exclusiveMinimum``), so validation uses
the OpenAPI dialects of ``openapi-schema-validator`` (the library the document validator uses too).
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol, cast

from jsonschema import ValidationError
from jsonschema.exceptions import best_match  # pyright: ignore[reportUnknownVariableType] # types-jsonschema leaves its return type out; it is ValidationError | None
from openapi_schema_validator import OAS30Validator, OAS31Validator
from referencing import Registry
from referencing.jsonschema import DRAFT4, DRAFT202012

from generator._jsonish import as_list, as_mapping
from generator._pointer import escape_pointer, node_at, split_pointer

__all__ = ["NO_EXAMPLE", "SchemaSet", "describe_error"]

_BASE_URI = "urn:bearer-codegen:simulated-spec"
_INTEGER = re.compile(r"[+-]?\d+")
_MAX_SYNTHESIS_DEPTH = 8
"""Recursive schemas (a tree of nodes) stop growing here: optional parts are left out first."""


class _Validator(Protocol):
    """The part of a jsonschema validator used here (the OpenAPI dialect classes are built at run time)."""

    def iter_errors(self, instance: object) -> Iterator[ValidationError]: ...


class _NoExample:
    """The type of :data:`NO_EXAMPLE`: a document may legitimately use ``null`` as an example."""

    def __repr__(self) -> str:
        return "NO_EXAMPLE"


NO_EXAMPLE = _NoExample()


def describe_error(error: ValidationError) -> str:
    """One line about a violation: where inside the value (when nested) and what is wrong."""
    where = "".join("/" + escape_pointer(str(part)) for part in error.absolute_path)
    return f"at {where}: {error.message}" if where else error.message


class SchemaSet:
    """The schemas of one document, each addressed by its JSON pointer."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self._document = document
        version = str(document.get("openapi", "3.1"))
        self._openapi30 = version.startswith("3.0")
        specification = DRAFT4 if self._openapi30 else DRAFT202012
        self._registry: Registry[Any] = Registry[Any]().with_resource(
            _BASE_URI, specification.create_resource(dict(document))
        )
        dialect = OAS30Validator if self._openapi30 else OAS31Validator
        self._make_validator: Callable[..., _Validator] = dialect
        self._format_checker: object = dialect.FORMAT_CHECKER
        self._validators: dict[str, _Validator] = {}
        self._lock = threading.Lock()

    def node(self, pointer: str) -> object:
        """The raw node at ``pointer`` (``$ref`` not followed), or None when there is none."""
        return node_at(self._document, split_pointer(pointer))

    def resolve(self, pointer: str) -> tuple[Mapping[str, Any], str]:
        """The object at ``pointer`` with local ``$ref`` chains followed, and the pointer it really lives at."""
        seen: set[str] = set()
        node = as_mapping(self.node(pointer))
        while isinstance(ref := node.get("$ref"), str) and ref.startswith("#") and ref not in seen:
            seen.add(ref)
            pointer = ref[1:]
            node = as_mapping(self.node(pointer))
        return node, pointer

    def errors(self, pointer: str, instance: object) -> list[ValidationError]:
        """Every violation of the schema at ``pointer`` by ``instance``."""
        return list(self._validator(pointer).iter_errors(instance))

    def first_error(self, pointer: str, instance: object) -> ValidationError | None:
        """The most relevant violation (jsonschema's ``best_match``), or None when ``instance`` is valid."""
        return cast(ValidationError | None, best_match(self._validator(pointer).iter_errors(instance)))

    def _validator(self, pointer: str) -> _Validator:
        with self._lock:
            validator = self._validators.get(pointer)
            if validator is None:
                validator = self._make_validator(
                    {"$ref": f"{_BASE_URI}#{pointer}"}, registry=self._registry, format_checker=self._format_checker
                )
                self._validators[pointer] = validator
            return validator

    def types(self, pointer: str, depth: int = 0) -> set[str]:
        """The JSON types a schema admits (through ``$ref``, ``allOf``/``anyOf``/``oneOf`` and ``enum``)."""
        schema, pointer = self.resolve(pointer)
        declared = schema.get("type")
        if isinstance(declared, str):
            return {declared} | ({"null"} if schema.get("nullable") is True else set())
        if isinstance(declared, list):
            return {str(kind) for kind in as_list(cast(object, declared))}
        found: set[str] = set()
        for value in as_list(schema.get("enum")) + ([schema["const"]] if "const" in schema else []):
            found.add(_json_type(value))
        if depth < _MAX_SYNTHESIS_DEPTH:
            for keyword in ("allOf", "anyOf", "oneOf"):
                for index, _ in enumerate(as_list(schema.get(keyword))):
                    found |= self.types(f"{pointer}/{keyword}/{index}", depth + 1)
        return found

    def coerce(self, pointer: str, text: str) -> object:
        """``text`` (from a query string, header, cookie or form) as the JSON type the schema wants.

        A value that does not parse is returned unchanged, so that validation reports it with the
        schema's own words ("'abc' is not of type 'integer'").
        """
        kinds = self.types(pointer)
        if "integer" in kinds and _INTEGER.fullmatch(text):
            return int(text)
        if "number" in kinds:
            try:
                number = float(text)
            except ValueError:
                number = math.nan
            if math.isfinite(number):
                return int(number) if _INTEGER.fullmatch(text) else number
        if "boolean" in kinds and text.lower() in ("true", "false"):
            return text.lower() == "true"
        if "null" in kinds and text in ("", "null") and "string" not in kinds:
            return None
        return text

    def example(self, pointer: str) -> object:
        """The schema's own ``example`` (or first of ``examples``), following ``$ref``; or NO_EXAMPLE."""
        schema, _ = self.resolve(pointer)
        if "example" in schema:
            return cast(object, schema["example"])
        examples = as_list(schema.get("examples"))
        return examples[0] if examples else NO_EXAMPLE

    def synthesize(self, pointer: str, depth: int = 0) -> object:
        """A small value valid for the schema at ``pointer``: its example, else built from its keywords.

        Used only when neither the fixtures nor the document give a response body. Objects get
        their required properties, arrays their minimum number of items, strings their minimum
        length; ``format`` is honoured for the common formats.
        """
        schema, pointer = self.resolve(pointer)
        own = self.example(pointer)
        if not isinstance(own, _NoExample):
            return own
        if "const" in schema:
            return cast(object, schema["const"])
        if enum := as_list(schema.get("enum")):
            return enum[0]
        for keyword in ("allOf", "oneOf", "anyOf"):
            if as_list(schema.get(keyword)) and depth < _MAX_SYNTHESIS_DEPTH:
                if keyword != "allOf":
                    return self.synthesize(f"{pointer}/{keyword}/0", depth + 1)
                merged: dict[str, object] = {}
                for index, _ in enumerate(as_list(schema["allOf"])):
                    part = self.synthesize(f"{pointer}/allOf/{index}", depth + 1)
                    if isinstance(part, dict):
                        merged.update(cast(dict[str, object], part))
                    else:
                        return part
                return merged
        kinds = self.types(pointer)
        kind = next((k for k in ("object", "array", "string", "integer", "number", "boolean") if k in kinds), None)
        if kind is None:
            return None if "null" in kinds else {}
        return self._synthesize_kind(kind, schema, pointer, depth)

    def _synthesize_kind(self, kind: str, schema: Mapping[str, Any], pointer: str, depth: int) -> object:
        if kind == "object":
            properties = as_mapping(schema.get("properties"))
            required = [str(name) for name in as_list(schema.get("required")) if str(name) in properties]
            if depth >= _MAX_SYNTHESIS_DEPTH:
                required = required[:0]
            return {
                name: self.synthesize(f"{pointer}/properties/{escape_pointer(name)}", depth + 1) for name in required
            }
        if kind == "array":
            count = int(schema.get("minItems", 0))
            if count == 0 or depth >= _MAX_SYNTHESIS_DEPTH:
                return []
            item = self.synthesize(f"{pointer}/items", depth + 1)
            return [item] * count
        if kind == "string":
            return _string_for(schema)
        if kind in ("integer", "number"):
            minimum, exclusive = schema.get("minimum"), schema.get("exclusiveMinimum")
            value: float = 0
            if _is_number(exclusive):  # OpenAPI 3.1: the bound itself
                value = cast(float, exclusive) + 1
            elif _is_number(minimum):  # OpenAPI 3.0: a flag next to minimum
                value = cast(float, minimum) + (1 if exclusive is True else 0)
            return math.ceil(value) if kind == "integer" else value
        return False


def _string_for(schema: Mapping[str, Any]) -> str:
    formats = {
        "date-time": "2020-01-01T00:00:00Z",
        "date": "2020-01-01",
        "time": "00:00:00Z",
        "email": "user@example.com",
        "uuid": "00000000-0000-4000-8000-000000000000",
        "uri": "https://example.com/",
        "ipv4": "192.0.2.1",
        "ipv6": "2001:db8::1",
    }
    text = formats.get(str(schema.get("format")), "")
    minimum = schema.get("minLength", 0)
    if isinstance(minimum, int) and len(text) < minimum:
        text += "x" * (minimum - len(text))
    return text


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"
