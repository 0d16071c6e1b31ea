"""Validation against the OpenAPI schema: every violation reported where it is in the document.

The fast pass (jsonschema-rs) only decides "valid"; the reference backend words each problem.
The reference backend reports a schema object's own violation relative to that object, and
follows ``$ref``s as if they were inlined; the pointers here must still resolve in the document.
"""

from __future__ import annotations

from typing import Any

import pytest

from generator._validate import _valid_by_fast_pass, validate_openapi  # pyright: ignore[reportPrivateUsage]
from tests.conftest import minimal_spec


def _with_parameter_schema(schema: dict[str, Any], version: str = "3.1.0") -> dict[str, Any]:
    spec = minimal_spec()
    spec["openapi"] = version
    spec["paths"]["/things"]["get"]["parameters"] = [{"name": "limit", "in": "query", "schema": schema}]
    return spec


@pytest.mark.parametrize("version", ["3.0.3", "3.1.0"])
def test_a_schema_objects_violation_is_located_in_the_document(version: str) -> None:
    problems = validate_openapi(_with_parameter_schema({"type": "integer", "minimum": "zero"}, version), "a.yaml")
    located = {problem.pointer: problem.message for problem in problems}
    # 3.0 also reports the parameter as a whole (its schema is part of the OpenAPI 3.0 schema).
    assert set(located) <= {"/paths/~1things/get/parameters/0", "/paths/~1things/get/parameters/0/schema/minimum"}
    assert "'zero' is not of type 'number'" in located["/paths/~1things/get/parameters/0/schema/minimum"]


def test_a_violation_reached_through_a_ref_is_located_at_the_target() -> None:
    """Not /paths/.../schema/properties/..., which does not exist as written: the referenced schema's own pointer."""
    spec = minimal_spec()
    spec["components"]["schemas"] = {"Thing": {"type": "object", "properties": {"size": {"type": "huge"}}}}
    content = spec["paths"]["/things"]["get"]["responses"]["200"]["content"]["application/json"]
    content["schema"] = {"$ref": "#/components/schemas/Thing"}
    problems = validate_openapi(spec, "a.yaml")
    assert [problem.pointer for problem in problems] == ["/components/schemas/Thing/properties/size/type"]


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "strnig"},
        {"type": "string", "maxLength": -1},
        {"type": "array", "items": {"type": 5}},
        {"type": "object", "required": "id"},
        {"type": "string", "pattern": "("},
        {"allOf": {"type": "string"}},
    ],
    ids=["unknown-type", "negative-length", "nested-bad-type", "required-not-list", "bad-regex", "allof-not-list"],
)
@pytest.mark.parametrize("version", ["3.0.3", "3.1.0"])
def test_the_fast_pass_never_passes_what_the_reference_refuses(schema: dict[str, Any], version: str) -> None:
    spec = _with_parameter_schema(schema, version)
    assert not _valid_by_fast_pass(spec, version)
    problems = validate_openapi(spec, "a.yaml")
    assert problems
    assert all(problem.pointer.startswith("/paths/~1things/get/parameters/0") for problem in problems)


@pytest.mark.parametrize("version", ["3.0.3", "3.1.0"])
def test_a_valid_document_passes_both(version: str) -> None:
    spec = _with_parameter_schema({"type": "integer", "minimum": 1, "maximum": 100}, version)
    assert _valid_by_fast_pass(spec, version)
    assert validate_openapi(spec, "a.yaml") == []
