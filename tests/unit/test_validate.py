"""Validation against the OpenAPI schema: every violation reported where it is in the document.

The fast pass (jsonschema-rs, then a plain-code repeat of openapi-spec-validator's keyword walk)
only decides "valid"; the reference backend words each problem, whatever the environment says.
The reference backend reports a schema object's own violation relative to that object, and
follows ``$ref``s as if they were inlined; the pointers here must still resolve in the document.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator.validation import OpenAPIV31SpecValidator

from generator._semantic_walk import semantic_verdict
from generator._validate import (  # pyright: ignore[reportPrivateUsage]
    _FastV30,  # pyright: ignore[reportPrivateUsage]
    _FastV31,  # pyright: ignore[reportPrivateUsage]
    _LocatedSchema31,  # pyright: ignore[reportPrivateUsage]
    _openapi_schema_validator,  # pyright: ignore[reportPrivateUsage]
    _valid_by_fast_pass,  # pyright: ignore[reportPrivateUsage]
    validate_openapi,
)
from tests.conftest import minimal_spec

ROOT = Path(__file__).resolve().parents[2]


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


def _things(spec: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = spec["paths"]["/things"]["get"]
    return operation


def _duplicate_operation_id(spec: dict[str, Any]) -> None:
    _things(spec)["operationId"] = "login"


def _undeclared_path_parameter(spec: dict[str, Any]) -> None:
    spec["paths"]["/things/{id}"] = spec["paths"].pop("/things")


def _path_parameter_not_in_template(spec: dict[str, Any]) -> None:
    _things(spec)["parameters"] = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]


def _default_not_valid(spec: dict[str, Any]) -> None:
    _things(spec)["parameters"] = [{"name": "limit", "in": "query", "schema": {"type": "integer", "default": "ten"}}]


def _all_of_requires_undefined(spec: dict[str, Any]) -> None:
    parts = [{"type": "object", "properties": {"a": {"type": "string"}}}]
    spec["components"]["schemas"] = {"T": {"allOf": parts, "required": ["b"]}}


def _duplicate_parameter(spec: dict[str, Any]) -> None:
    _things(spec)["parameters"] = [{"name": "q", "in": "query", "schema": {"type": "string"}}] * 2


def _duplicate_tag(spec: dict[str, Any]) -> None:
    spec["tags"] = [{"name": "a"}, {"name": "a"}]


@pytest.mark.parametrize(
    ("bend", "pointer", "message"),
    [
        (
            _duplicate_operation_id,
            "/paths/~1things/get/operationId",
            "Operation ID 'login' for 'get' in '/things' is not unique",
        ),
        (_undeclared_path_parameter, "", "Path parameter 'id' for 'get' operation in '/things/{id}' was not resolved"),
        (_path_parameter_not_in_template, "", "Path parameter 'id' for 'get' operation in '/things' was not resolved"),
        (_default_not_valid, "/paths/~1things/get/parameters/0/schema/default", "'ten' is not of type 'integer'"),
        (
            _all_of_requires_undefined,
            "/components/schemas/T/required",
            "Required list has not defined properties: ['b']",
        ),
        (_duplicate_parameter, "", "Duplicate parameter 'q'"),
        (_duplicate_tag, "", "Duplicate tag name 'a'"),
    ],
    ids=["operation-id", "undeclared", "not-in-template", "default", "all-of-required", "parameter", "tag"],
)
@pytest.mark.parametrize("version", ["3.0.3", "3.1.0"])
def test_rules_beyond_the_schema_are_reported_by_the_reference(
    bend: Callable[[dict[str, Any]], None], pointer: str, message: str, version: str
) -> None:
    """The OpenAPI schema allows these; the plain walk must refuse them so the reference words them."""
    spec = minimal_spec()
    spec["openapi"] = version
    bend(spec)
    assert not _valid_by_fast_pass(spec, version)
    assert (pointer, message) in [(problem.pointer, problem.message) for problem in validate_openapi(spec, "a.yaml")]


def _keyword_walk_passes(spec: dict[str, Any]) -> bool:
    """The reference keyword walk's verdict (jsonschema-rs only for its meta schemas)."""
    return (_FastV30 if spec["openapi"].startswith("3.0.") else _FastV31)(spec).is_valid()


def _component_required_through_items(spec: dict[str, Any]) -> None:
    """The keyword walk checks an ``allOf``'s required names only where it first meets the schema at the top:
    met first inside ``items`` (the paths come before the components), it does not check them at all."""
    _all_of_requires_undefined(spec)
    content = _things(spec)["responses"]["200"]["content"]["application/json"]
    content["schema"] = {"type": "array", "items": {"$ref": "#/components/schemas/T"}}


def _component_required_directly(spec: dict[str, Any]) -> None:
    _all_of_requires_undefined(spec)
    _things(spec)["responses"]["200"]["content"]["application/json"]["schema"] = {"$ref": "#/components/schemas/T"}


def _required_defined_in_all_of(spec: dict[str, Any]) -> None:
    parts = [
        {"$ref": "#/components/schemas/Base"},
        {"properties": {"b": {"type": "array", "items": {"type": "string"}}}},
    ]
    base = {"type": "object", "properties": {"a": {"type": "string", "default": "x"}}}
    spec["components"]["schemas"] = {"Base": base, "T": {"allOf": parts, "required": ["a", "b"]}}


def _nullable_default(spec: dict[str, Any]) -> None:
    _things(spec)["parameters"] = [
        {"name": "q", "in": "query", "schema": {"type": "string", "nullable": True, "default": None}}
    ]


def _path_level_parameter(spec: dict[str, Any]) -> None:
    spec["paths"]["/things/{id}"] = spec["paths"].pop("/things")
    spec["paths"]["/things/{id}"]["parameters"] = [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    ]


def _referenced_parameter(spec: dict[str, Any]) -> None:
    _path_level_parameter(spec)
    item = spec["paths"]["/things/{id}"]
    spec["components"]["parameters"] = {"Id": item["parameters"][0]}
    item["parameters"] = [{"$ref": "#/components/parameters/Id"}]


def _recursive_schema(spec: dict[str, Any]) -> None:
    tree = {
        "type": "object",
        "properties": {"children": {"type": "array", "items": {"$ref": "#/components/schemas/Tree"}}},
    }
    spec["components"]["schemas"] = {"Tree": tree}
    _things(spec)["responses"]["200"]["content"]["application/json"]["schema"] = {"$ref": "#/components/schemas/Tree"}


def _scoped_identifier(spec: dict[str, Any]) -> None:
    spec["components"]["schemas"] = {"T": {"$id": "https://example.com/t", "type": "string"}}


@pytest.mark.parametrize(
    "bend",
    [
        _duplicate_operation_id,
        _undeclared_path_parameter,
        _path_parameter_not_in_template,
        _default_not_valid,
        _all_of_requires_undefined,
        _duplicate_parameter,
        _duplicate_tag,
        _component_required_through_items,
        _component_required_directly,
        _required_defined_in_all_of,
        _nullable_default,
        _path_level_parameter,
        _referenced_parameter,
        _recursive_schema,
        _scoped_identifier,
    ],
)
@pytest.mark.parametrize("version", ["3.0.3", "3.1.0"])
def test_the_plain_walk_agrees_with_the_keyword_walk(bend: Callable[[dict[str, Any]], None], version: str) -> None:
    """Where the plain walk gives a verdict (None leaves the document to the keyword walk), it is the keyword walk's."""
    spec = minimal_spec()
    spec["openapi"] = version
    bend(spec)
    verdict = semantic_verdict(spec, version)
    assert verdict is None or verdict == _keyword_walk_passes(spec)
    assert (validate_openapi(spec, "a.yaml") == []) == _keyword_walk_passes(spec)


def test_a_scope_keyword_leaves_the_verdict_to_the_keyword_walk() -> None:
    spec = minimal_spec()
    _scoped_identifier(spec)
    assert semantic_verdict(spec, "3.1.0") is None


@pytest.mark.parametrize("bend", [_recursive_schema, _referenced_parameter, _required_defined_in_all_of])
def test_the_plain_walk_decides_ordinary_shapes(bend: Callable[[dict[str, Any]], None]) -> None:
    """Not None: otherwise a large valid document would still pay for the keyword walk."""
    spec = minimal_spec()
    bend(spec)
    assert semantic_verdict(spec, "3.1.0") is True


def _linked_components(count: int) -> dict[str, Any]:
    """``count`` component schemas, each with a property referring to the next: a chain of references."""
    spec = minimal_spec()
    schemas = {
        f"S{index}": {"type": "object", "properties": {"next": {"$ref": f"#/components/schemas/S{index + 1}"}}}
        for index in range(count)
    }
    spec["components"]["schemas"] = {**schemas, f"S{count}": {"type": "string"}}
    return spec


@pytest.mark.parametrize(("count", "limit"), [(200, 1_000), (900, 20_000)])
def test_the_plain_walk_decides_long_chains_of_references(count: int, limit: int) -> None:
    """Interlinked components are followed hundreds of references deep (the pipeline's limit is 20,000 frames)."""
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(limit)
    try:
        assert semantic_verdict(_linked_components(count), "3.1.0") is True
    finally:
        sys.setrecursionlimit(previous)


def test_a_chain_deeper_than_the_stack_allows_is_left_to_the_keyword_walk() -> None:
    """Never "valid" where the keyword walk, with the same stack, could run out of it."""
    assert sys.getrecursionlimit() <= 4 * 300
    assert semantic_verdict(_linked_components(300), "3.1.0") is None


def _python(code: str, *arguments: str, environment: dict[str, str] | None = None) -> str:
    """What ``code`` prints, run by this interpreter in a fresh process from the repository root."""
    env = {**os.environ, **(environment or {})}
    command = [sys.executable, "-c", code, *arguments]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout


def test_importing_leaves_the_environment_alone() -> None:
    code = (
        "import json, os\n"
        "before = dict(os.environ)\n"
        "import generator._validate\n"
        "print(json.dumps(dict(os.environ) == before))\n"
    )
    assert json.loads(_python(code)) is True


@pytest.mark.parametrize("backend", ["jsonschema-rs", "jsonschema", "auto"])
def test_messages_do_not_depend_on_the_backend_setting(backend: str) -> None:
    """openapi-spec-validator reads this variable to pick its default backend; the reports must not change."""
    spec = minimal_spec()
    _things(spec)["parameters"] = [
        {"name": "limit", "in": "query"},
        {"name": 5, "in": "path", "schema": {"type": "integer"}},
    ]
    code = (
        "import json, sys\n"
        "from generator._validate import validate_openapi\n"
        "problems = validate_openapi(json.loads(sys.argv[1]), 'a.yaml')\n"
        "print(json.dumps([[problem.pointer, problem.message] for problem in problems]))\n"
    )
    setting = {"OPENAPI_SPEC_VALIDATOR_SCHEMA_VALIDATOR_BACKEND": backend}
    there = json.loads(_python(code, json.dumps(spec), environment=setting))
    here = [[problem.pointer, problem.message] for problem in validate_openapi(spec, "a.yaml")]
    assert here
    assert there == here


class _ReferenceOnlyV31(OpenAPIV31SpecValidator):
    """What the reporting validator was before jsonschema-rs checked for it: the reference backend throughout."""

    keyword_validators = {**OpenAPIV31SpecValidator.keyword_validators, "schema": _LocatedSchema31}  # noqa: RUF012

    def __init__(self, document: dict[str, Any]) -> None:
        super().__init__(document)
        self.schema_validator = _openapi_schema_validator("3.1", fast=False)


@pytest.mark.parametrize("schema_valid", [True, False])
def test_reports_are_the_reference_backends_whichever_parts_jsonschema_rs_checked(schema_valid: bool) -> None:
    """Schema objects that break their meta schema, a duplicate operationId, an allOf's undefined required name;
    and, when ``schema_valid`` is False, a violation of the OpenAPI schema itself: the same messages, in order."""
    spec = minimal_spec()
    _things(spec)["parameters"] = [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": "x"}}]
    spec["paths"]["/login"]["get"]["operationId"] = "listThings"
    spec["components"]["schemas"] = {"T": {"allOf": [{"type": "object"}], "required": ["gone"], "maxLength": -1}}
    if not schema_valid:
        spec["paths"]["/things"]["get"]["responses"]["200"]["description"] = 5
    report = [problem.message for problem in validate_openapi(spec, "a.yaml")]
    assert report == [str(error.message) for error in _ReferenceOnlyV31(spec).iter_errors()]
    assert len(report) >= (1 if not schema_valid else 3)


def test_an_all_of_requiring_an_undefined_property_is_located() -> None:
    """The validator words it without a location; the ``required`` list that names the missing properties is found."""
    spec = minimal_spec()
    spec["components"]["schemas"] = {
        "Other": {"allOf": [{"type": "object"}], "required": ["gone"], "properties": {"gone": {}}},
        "T": {"allOf": [{"type": "object", "properties": {"a": {}}}], "required": ["a", "gone", "also"]},
    }
    _things(spec)["responses"]["200"]["content"]["application/json"]["schema"] = {"$ref": "#/components/schemas/T"}
    problems = validate_openapi(spec, "a.yaml")
    assert [p.pointer for p in problems] == ["/components/schemas/T/required"]
    # The validator lists the names from a set: in either order.
    assert problems[0].message in {
        f"Required list has not defined properties: {names}" for names in (["gone", "also"], ["also", "gone"])
    }


def test_undefined_required_names_read_the_same_in_every_process() -> None:
    """The validator lists the names in set order, which hash randomisation changes between runs."""
    spec = minimal_spec()
    spec.setdefault("components", {})["schemas"] = {
        "T": {
            "allOf": [{"type": "object", "properties": {"a": {"type": "string"}}}],
            "required": ["zz", "a", "mm", "bb"],
        }
    }
    messages = {problem.message for problem in validate_openapi(spec, "a.yaml")}
    assert "Required list has not defined properties: ['bb', 'mm', 'zz']" in messages
