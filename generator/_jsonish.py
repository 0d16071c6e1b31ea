"""Typed views of parsed YAML/JSON, and JSON Schema validation with typed results.

Parsed documents are ``object`` until proven otherwise; these helpers narrow them without
pretending, so the rest of the generator stays free of ``Any`` leaks and casts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from jsonschema import Draft202012Validator, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.constructor import SafeConstructor

from ._pointer import join_pointer
from ._problems import Problem

__all__ = ["as_list", "as_mapping", "extension_problems", "load_yaml", "schema_errors"]


def as_mapping(value: object) -> Mapping[str, Any]:
    """``value`` when it is a mapping, else an empty one."""
    return cast(Mapping[str, Any], value) if isinstance(value, Mapping) else {}


def as_list(value: object) -> list[object]:
    """``value`` when it is a list, else an empty one."""
    return cast(list[object], value) if isinstance(value, list) else []


class _JsonCompatibleConstructor(SafeConstructor):
    """The safe constructor, but a timestamp stays the text it was written as.

    YAML reads an unquoted ``2022-01-01`` as a date, which JSON has not: OpenAPI documents are JSON
    data written in YAML, and validators fail on a date (``example: 2022-01-01`` in a real document
    stopped the OpenAPI validator with "Unsupported type: 'date'"). As text it is what a JSON copy
    of the document holds.
    """


_JsonCompatibleConstructor.add_constructor(  # pyright: ignore[reportUnknownMemberType] # ruamel.yaml is untyped here
    "tag:yaml.org,2002:timestamp",
    SafeConstructor.construct_yaml_str,  # pyright: ignore[reportUnknownMemberType]
)


def load_yaml(text: str) -> object:
    """Parse YAML with the safe, pure-Python loader (no tags that construct objects; timestamps as text)."""
    loader = YAML(typ="safe", pure=True)
    loader.Constructor = _JsonCompatibleConstructor
    return cast(object, loader.load(text))  # pyright: ignore[reportUnknownMemberType] # ruamel.yaml's load is untyped


def schema_errors(schema: Mapping[str, Any], instance: object) -> list[ValidationError]:
    """Every violation of a draft 2020-12 ``schema`` by ``instance``, ordered by location."""
    validator = Draft202012Validator(schema)
    # types-jsonschema leaves part of iter_errors' overload unknown; the result type is certain.
    errors = cast(list[ValidationError], list(validator.iter_errors(instance)))  # pyright: ignore[reportUnknownMemberType, reportArgumentType]
    return sorted(errors, key=lambda error: [str(part) for part in error.absolute_path])


def extension_problems(schema: Mapping[str, Any], raw: object, *, display: str, base: str, name: str) -> list[Problem]:
    """An error per violation of ``schema`` by the extension ``name`` found at ``base``, each at its pointer."""
    return [
        Problem(display, join_pointer(base, *map(str, error.absolute_path)), f"{name}: {error.message}")
        for error in schema_errors(schema, raw)
    ]
