"""The mending pass: sloppy documents become a mended copy and warnings with their pointers, never a refusal.

Each test bends a small document the way real ones are bent, mends it, and checks the copy, the
warning (text and JSON pointer), that the loaded document is unchanged, and what ``strict`` makes of it.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from generator._enum_names import plan_members
from generator._mend import mend_document, schema_nodes
from generator._problems import Problem, Severity
from tests.conftest import minimal_spec

THINGS = "/paths/~1things/get"


def _with_parameter(schema: dict[str, Any], version: str = "3.1.0") -> dict[str, Any]:
    spec = minimal_spec()
    spec["openapi"] = version
    spec["paths"]["/things"]["get"]["parameters"] = [{"name": "p", "in": "query", "schema": schema}]
    return spec


def _parameter_schema(document: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = document["paths"]["/things"]["get"]["parameters"][0]["schema"]
    return schema


def _mend(document: dict[str, Any], **options: bool) -> tuple[dict[str, Any], list[Problem]]:
    """Mend ``document`` and check that the document passed in was left as it was."""
    before = copy.deepcopy(document)
    mended, problems = mend_document(document, "doc.yaml", **options)
    assert document == before
    return mended, problems


def _rendered(problems: list[Problem]) -> list[str]:
    return [problem.render() for problem in problems]


@pytest.mark.parametrize(
    ("schema", "words"),
    [
        ({"type": "integer", "default": None}, "the default null does not fit its schema (None is not of type"),
        ({"type": "integer", "default": "10"}, "the default \"10\" does not fit its schema ('10' is not of type"),
        ({"type": "string", "enum": ["a", "b"], "default": "c"}, "the default \"c\" does not fit its schema ('c' is"),
    ],
)
def test_a_default_that_does_not_fit_is_dropped_with_a_warning(schema: dict[str, Any], words: str) -> None:
    mended, problems = _mend(_with_parameter(schema))
    assert "default" not in _parameter_schema(mended)
    assert _rendered(problems) == [
        f"warning: doc.yaml#{THINGS}/parameters/0/schema/default: {words}" + _rendered(problems)[0].split(words, 1)[1]
    ]
    assert _rendered(problems)[0].endswith("; it is dropped")


def test_under_strict_a_default_that_does_not_fit_is_an_error_and_nothing_is_mended() -> None:
    document = _with_parameter({"type": "integer", "default": None})
    mended, problems = _mend(document, strict=True)
    assert mended is document
    assert [(p.severity, p.pointer) for p in problems] == [(Severity.ERROR, f"{THINGS}/parameters/0/schema/default")]


@pytest.mark.parametrize(
    ("schema", "version"),
    [
        ({"type": "integer", "default": 3}, "3.1.0"),
        ({"type": "integer", "nullable": True, "default": None}, "3.0.3"),
        ({"type": ["integer", "null"], "default": None}, "3.1.0"),
        ({"type": "string", "enum": ["a", "b"], "default": "b"}, "3.1.0"),
    ],
)
def test_a_default_that_fits_is_kept_and_the_document_is_not_copied(schema: dict[str, Any], version: str) -> None:
    document = _with_parameter(schema, version)
    mended, problems = _mend(document)
    assert mended is document
    assert problems == []


def test_a_default_response_is_no_schema_default() -> None:
    document = minimal_spec()
    document["paths"]["/things"]["get"]["responses"]["default"] = {"description": "an error"}
    mended, problems = _mend(document)
    assert (mended, problems) == (document, [])


def test_enum_values_that_differ_in_case_are_numbered_in_document_order() -> None:
    mended, problems = _mend(_with_parameter({"type": "string", "enum": ["ASC", "asc", "DESC"]}))
    assert _parameter_schema(mended)["x-enum-varnames"] == ["ASC", "ASC_2", "DESC"]
    assert _rendered(problems) == [
        f"warning: doc.yaml#{THINGS}/parameters/0/schema/enum/1: the enum values 'ASC' and 'asc' would both "
        "become the member ASC; they are generated as ASC, ASC_2 (set x-enum-varnames to choose)"
    ]


def test_enum_values_that_differ_in_punctuation_spell_it_out() -> None:
    schema = {"type": "string", "enum": ["laugh", "reactions-+1", "reactions--1"]}
    mended, problems = _mend(_with_parameter(schema))
    assert _parameter_schema(mended)["x-enum-varnames"] == ["LAUGH", "REACTIONS_PLUS_1", "REACTIONS_MINUS_1"]
    assert [p.pointer for p in problems] == [f"{THINGS}/parameters/0/schema/enum/2"]
    assert "they are generated as REACTIONS_PLUS_1, REACTIONS_MINUS_1" in problems[0].message


def test_a_null_in_an_enum_is_not_named_and_the_pointer_still_names_the_value() -> None:
    mended, problems = _mend(_with_parameter({"type": ["string", "null"], "enum": [None, "a", "A"]}))
    # openapi-python-client reads x-enum-varnames for the values without null.
    assert _parameter_schema(mended)["x-enum-varnames"] == ["A", "A_2"]
    assert [p.pointer for p in problems] == [f"{THINGS}/parameters/0/schema/enum/2"]


def test_x_enum_varnames_that_are_no_python_names_are_replaced() -> None:
    schema = {"type": "string", "enum": ["a", "b"], "x-enum-varnames": ["1st", "ok"]}
    mended, problems = _mend(_with_parameter(schema))
    assert _parameter_schema(mended)["x-enum-varnames"] == ["A", "OK"]
    assert _rendered(problems) == [
        f'warning: doc.yaml#{THINGS}/parameters/0/schema/x-enum-varnames/0: "1st" is no Python name; '
        "the member is generated as A"
    ]


def test_under_strict_enum_values_meeting_are_an_error() -> None:
    document = _with_parameter({"type": "string", "enum": ["a-b", "a_b"]})
    mended, problems = _mend(document, strict=True)
    assert mended is document
    assert [(p.severity, p.pointer) for p in problems] == [(Severity.ERROR, f"{THINGS}/parameters/0/schema/enum/1")]
    assert "would both become the member A_B, and one would be lost" in problems[0].message


def test_literal_enums_need_no_member_names() -> None:
    document = _with_parameter({"type": "string", "enum": ["ASC", "asc"]})
    assert _mend(document, literal_enums=True) == (document, [])


def test_an_array_without_items_is_a_list_of_anything_quietly_in_3_1() -> None:
    mended, problems = _mend(_with_parameter({"type": "array"}))
    assert _parameter_schema(mended) == {"type": "array", "items": {}}
    assert problems == []


def test_an_array_without_items_in_3_0_is_mended_with_a_warning_or_refused_under_strict() -> None:
    document = _with_parameter({"type": "array"}, "3.0.3")
    mended, problems = _mend(document)
    assert _parameter_schema(mended)["items"] == {}
    assert _rendered(problems) == [
        f"warning: doc.yaml#{THINGS}/parameters/0/schema: an array schema without 'items' (OpenAPI 3.0 requires "
        "it); it is generated as a list of anything"
    ]
    assert [p.severity for p in _mend(document, strict=True)[1]] == [Severity.ERROR]


def test_component_schemas_sharing_a_title_are_named_after_their_keys() -> None:
    document = minimal_spec()
    document["components"]["schemas"] = {
        "Thing": {"type": "object"},
        "ThingList": {"title": "Thing", "type": "object"},
        "Other": {"title": "Thing", "type": "object"},
        "Alone": {"title": "Single", "type": "object"},
    }
    mended, problems = _mend(document)
    schemas = mended["components"]["schemas"]
    assert "title" not in schemas["ThingList"]
    assert "title" not in schemas["Other"]
    assert schemas["Alone"]["title"] == "Single"
    assert _rendered(problems) == [
        "warning: doc.yaml#/components/schemas/ThingList/title: the schemas 'Thing', 'ThingList', 'Other' would all "
        "be the class Thing (by title); 'ThingList' is generated as ThingList, after its key",
        "warning: doc.yaml#/components/schemas/Other/title: the schemas 'Thing', 'ThingList', 'Other' would all "
        "be the class Thing (by title); 'Other' is generated as Other, after its key",
    ]


def _with_member_references(count: int) -> dict[str, Any]:
    document = minimal_spec()
    member = {"type": "object", "properties": {"created": {"type": "string"}}}
    document["components"]["schemas"] = {
        "Base": {"allOf": [member, {"type": "object", "properties": {"kind": {"type": "string"}}}]},
        **{
            f"User{index}": {"type": "object", "properties": {"base": {"$ref": "#/components/schemas/Base/allOf/0"}}}
            for index in range(count)
        },
    }
    return document


def test_references_into_an_allof_member_are_replaced_by_it_with_one_warning() -> None:
    mended, problems = _mend(_with_member_references(3))
    member = mended["components"]["schemas"]["Base"]["allOf"][0]
    for index in range(3):
        assert mended["components"]["schemas"][f"User{index}"]["properties"]["base"] == member
    assert _rendered(problems) == [
        "warning: doc.yaml#/components/schemas/User0/properties/base/$ref: 3 references to "
        "'#/components/schemas/Base/allOf/0', inside another schema: openapi-python-client follows only "
        "references to components/schemas, so a copy of that schema is generated in place of each "
        "(move it to components/schemas for one shared class)"
    ]


def test_a_member_that_refers_back_to_itself_is_one_clear_error() -> None:
    document = _with_member_references(1)
    document["components"]["schemas"]["Base"]["allOf"][0]["properties"]["again"] = {
        "$ref": "#/components/schemas/Base/allOf/0"
    }
    mended, problems = _mend(document)
    assert mended is document
    assert [(p.severity, p.pointer) for p in problems] == [
        (Severity.ERROR, "/components/schemas/Base/allOf/0/properties/again/$ref")
    ]
    assert "refers back to itself" in problems[0].message


def test_a_schema_shared_through_a_yaml_alias_is_mended_once_and_stays_shared() -> None:
    shared: dict[str, Any] = {"type": "integer", "default": "1"}
    document = minimal_spec()
    document["paths"]["/things"]["get"]["parameters"] = [
        {"name": "a", "in": "query", "schema": shared},
        {"name": "b", "in": "query", "schema": shared},
    ]
    mended, problems = _mend(document)
    parameters = mended["paths"]["/things"]["get"]["parameters"]
    assert parameters[0]["schema"] is parameters[1]["schema"]
    assert parameters[0]["schema"] == {"type": "integer"}
    assert len(problems) == 1
    # What was not mended is not copied.
    assert mended["paths"]["/login"] is document["paths"]["/login"]


INVALID_DOCUMENTS: list[dict[Any, Any]] = [
    {"openapi": "3.1.0", "components": []},
    {"openapi": "3.1.0", "components": {"schemas": {"A": {"enum": "x", "type": 5, "default": {}}}}},
    {"openapi": "3.1.0", "components": {"schemas": {"A": {"$ref": "#/components/schemas/A/x"}}}},
    {"openapi": "3.1.0", "paths": {"/a": {"get": {"parameters": [{"schema": {"type": ["array"], "items": 1}}]}}}},
    {"openapi": 3, 200: {"schema": {"default": None, "type": "integer", "enum": [[], {}, 1]}}},
]


@pytest.mark.parametrize("document", INVALID_DOCUMENTS)
def test_an_invalid_document_is_left_to_the_validator(document: dict[Any, Any]) -> None:
    """The pass runs before the OpenAPI validator: shapes it does not expect are left alone, never raised on."""
    _mend(document)


def test_schema_nodes_finds_schemas_in_document_order_and_skips_examples_and_extensions() -> None:
    document = _with_parameter({"type": "object", "properties": {"a": {"type": "string"}}, "example": {"type": 1}})
    document["components"]["schemas"] = {"S": {"items": {"type": "string"}}}
    document["x-vendor"] = {"schema": {"type": "string"}}
    assert [pointer for pointer, _ in schema_nodes(document)] == [
        "/paths/~1login/get/parameters/0/schema",
        "/paths/~1login/get/parameters/1/schema",
        "/paths/~1login/get/responses/200/content/text~1plain/schema",
        f"{THINGS}/responses/200/content/application~1json/schema",
        f"{THINGS}/responses/200/content/application~1json/schema/items",
        f"{THINGS}/parameters/0/schema",
        f"{THINGS}/parameters/0/schema/properties/a",
        "/components/schemas/S",
        "/components/schemas/S/items",
    ]


@pytest.mark.parametrize(
    ("values", "varnames", "names"),
    [
        (["ASC", "asc", "Asc"], [], ["ASC", "ASC_2", "ASC_3"]),
        (["ASC", "asc", "ASC_2"], [], ["ASC", "ASC_3", "ASC_2"]),
        (["a+", "a-"], [], ["A_PLUS", "A_MINUS"]),
        (["x", "y"], ["same", "same"], ["SAME", "SAME_2"]),
        ([1, 2], ["one", "ONE"], ["ONE", "ONE_2"]),
    ],
)
def test_member_names_are_distinct_and_stable(values: list[object], varnames: list[object], names: list[str]) -> None:
    plan = plan_members(values, varnames)
    assert plan is not None
    assert plan.names == names
    assert plan_members(values, varnames) == plan


@pytest.mark.parametrize(
    ("values", "varnames"), [(["a", "b"], []), ([1, -1], []), (["a", 1], []), ([True, False], []), (["a", "a"], [])]
)
def test_member_names_that_need_nothing_get_no_plan(values: list[object], varnames: list[object]) -> None:
    assert plan_members(values, varnames) is None


def test_an_empty_enum_is_dropped() -> None:
    mended, problems = _mend(_with_parameter({"type": "string", "enum": []}))
    assert _parameter_schema(mended) == {"type": "string"}
    assert _rendered(problems) == [
        f"warning: doc.yaml#{THINGS}/parameters/0/schema/enum: an empty enum allows no value; it is dropped"
    ]


def test_a_repeated_enum_value_is_kept_once_and_the_names_stay_aligned() -> None:
    schema = {"type": "string", "enum": ["a", "b", "a", None, "c", "b"], "x-enum-varnames": ["A", "B", "A", "C", "B"]}
    mended, problems = _mend(_with_parameter(schema))
    assert _parameter_schema(mended)["enum"] == ["a", "b", None, "c"]
    assert _parameter_schema(mended)["x-enum-varnames"] == ["A", "B", "C"]
    assert _rendered(problems) == [
        f'warning: doc.yaml#{THINGS}/parameters/0/schema/enum/2: the enum value "a" is listed again '
        "(first at index 0); it is kept once",
        f'warning: doc.yaml#{THINGS}/parameters/0/schema/enum/5: the enum value "b" is listed again '
        "(first at index 1); it is kept once",
    ]


def test_a_repeated_value_and_a_clash_point_at_the_values_as_written() -> None:
    mended, problems = _mend(_with_parameter({"type": "string", "enum": ["x", "x", "ASC", "asc"]}))
    assert _parameter_schema(mended)["enum"] == ["x", "ASC", "asc"]
    assert _parameter_schema(mended)["x-enum-varnames"] == ["X", "ASC", "ASC_2"]
    assert [p.pointer.rsplit("/", 1)[1] for p in problems] == ["1", "3"]


def test_server_variable_enums_are_no_schemas() -> None:
    document = minimal_spec()
    document["servers"] = [{"url": "https://{site}", "variables": {"site": {"default": "a", "enum": ["a", "a"]}}}]
    assert _mend(document) == (document, [])


def test_references_copied_into_each_other_past_the_stack_are_one_error() -> None:
    """Each member refers to the next one: every copy holds the next, deeper than the stack allows."""
    document = minimal_spec()
    count = 400
    document["components"]["schemas"] = {
        f"S{index}": {
            "allOf": [{"type": "object", "properties": {"n": {"$ref": f"#/components/schemas/S{index + 1}/allOf/0"}}}]
        }
        for index in range(count)
    }
    document["components"]["schemas"][f"S{count}"] = {"allOf": [{"type": "string"}]}
    mended, problems = _mend(document)
    assert mended is document
    assert problems[-1].pointer == ""
    assert problems[-1].message.startswith("the schemas that references into other schemas copy in nest too deeply")


def test_references_copied_into_each_other_past_the_depth_limit_are_one_error() -> None:
    """Fewer, deeper members: the copy fits the stack but would nest past load_document's limit (256)."""
    document = minimal_spec()
    count = 40
    schemas: dict[str, Any] = {}
    for index in range(count):
        inner: dict[str, Any] = {"$ref": f"#/components/schemas/S{index + 1}/allOf/0"}
        for _ in range(4):
            inner = {"type": "object", "properties": {"n": inner}}
        schemas[f"S{index}"] = {"allOf": [inner]}
    schemas[f"S{count}"] = {"allOf": [{"type": "string"}]}
    document["components"]["schemas"] = schemas
    mended, problems = _mend(document)
    assert mended is document
    assert problems[-1].message.endswith("levels; at most 256)")


MESSAGES = {"type": "array", "items": {"$ref": "#/components/schemas/Message"}}
WORDS = {"type": "array", "items": {"type": "string"}}


@pytest.mark.parametrize("key", ["anyOf", "oneOf"])
def test_a_union_of_arrays_is_one_array_of_the_union_of_their_items_with_a_warning(key: str) -> None:
    mended, problems = _mend(_with_parameter({key: [MESSAGES, WORDS], "description": "log"}))
    assert _parameter_schema(mended) == {
        "type": "array",
        "items": {key: [MESSAGES["items"], WORDS["items"]]},
        "description": "log",
    }
    assert _rendered(problems) == [
        f"warning: doc.yaml#{THINGS}/parameters/0/schema/{key}: a union of array types cannot be told apart by "
        "their values; it is generated as one array whose items are the union of their items"
    ]
    assert [p.severity for p in _mend(_with_parameter({key: [MESSAGES, WORDS]}), strict=True)[1]] == [Severity.ERROR]


def test_a_null_arm_stays_beside_the_merged_array_and_equal_items_are_kept_once() -> None:
    mended, _ = _mend(_with_parameter({"anyOf": [WORDS, {"type": "null"}, dict(WORDS)]}))
    assert _parameter_schema(mended) == {"anyOf": [WORDS, {"type": "null"}]}


@pytest.mark.parametrize(
    "arms",
    [
        [MESSAGES, {"type": "string"}],  # a list or a scalar: isinstance tells them apart
        [MESSAGES],
        [MESSAGES, {**WORDS, "maxItems": 3}],  # merging would lose the constraint
        [{"type": "null"}, WORDS],
    ],
)
def test_unions_that_are_not_only_arrays_are_left_alone(arms: list[dict[str, Any]]) -> None:
    document = _with_parameter({"anyOf": arms})
    mended, problems = _mend(document)
    assert mended is document
    assert problems == []
