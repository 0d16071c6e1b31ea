"""Schemas openapi-python-client would give one class name: titled apart, or left out, never the whole document."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import Outcome, minimal_spec, write_spec


def _spec(schemas: dict[str, Any], used: str) -> dict[str, Any]:
    spec = minimal_spec()
    spec["components"]["schemas"] = schemas
    content = spec["paths"]["/things"]["get"]["responses"]["200"]["content"]["application/json"]
    content["schema"] = {"$ref": f"#/components/schemas/{used}"}
    return spec


_OBJECT = {"type": "object", "properties": {"name": {"type": "string"}}}
INLINE_VS_COMPONENT = {
    "User": {"type": "object", "properties": {"type": _OBJECT, "kind": {"$ref": "#/components/schemas/UserType"}}},
    "UserType": {"type": "object", "properties": {"id": {"type": "string"}}},
}
CASE_ONLY = {
    "Holder": {
        "type": "object",
        "properties": {
            "a": {"$ref": "#/components/schemas/TempPassword"},
            "b": {"$ref": "#/components/schemas/tempPassword"},
        },
    },
    "TempPassword": {"type": "object", "properties": {"value": {"type": "string"}}},
    "tempPassword": {"type": "object", "properties": {"other": {"type": "integer"}}},
}
EXTENDED_INLINE = {
    "Base": {"type": "object", "properties": {"links": {"type": "object", "properties": {"self": {"type": "string"}}}}},
    "Derived": {"allOf": [{"$ref": "#/components/schemas/Base"}]},
    "Holder": {
        "type": "object",
        "properties": {"d": {"$ref": "#/components/schemas/Derived"}, "b": {"$ref": "#/components/schemas/Base"}},
    },
}


def _generate(tmp_path: Path, cli: Callable[..., Outcome], spec: dict[str, Any], *flags: str) -> Outcome:
    return cli("generate", write_spec(tmp_path / "mini.yaml", spec), "--output", tmp_path / "out", *flags)


def _models(tmp_path: Path) -> str:
    return "\n".join(path.read_text() for path in sorted((tmp_path / "out").rglob("models/*.py")))


def test_a_component_named_like_an_inline_schema_is_renamed(tmp_path: Path, cli: Callable[..., Outcome]) -> None:
    """User's inline ``type`` is UserType; the component UserType becomes UserTypeModel, one warning naming both."""
    result = _generate(tmp_path, cli, _spec(INLINE_VS_COMPONENT, "User"))
    assert result.code == 0, result.err
    renames = [line for line in result.err.splitlines() if "would both be" in line]
    assert renames == [
        "warning: mini.yaml#/components/schemas/UserType: the schemas /components/schemas/UserType and "
        "/components/schemas/User would both be (or contain) the class UserType (openapi-python-client would "
        "refuse the second); 'UserType' is generated as UserTypeModel (give it a distinct title to choose "
        "another name)"
    ]
    models = _models(tmp_path)
    assert "class UserTypeModel:" in models
    assert "class UserType:" in models  # User's inline `type`
    assert "duplicate" not in result.err


def test_components_differing_in_case_are_renamed(tmp_path: Path, cli: Callable[..., Outcome]) -> None:
    """``tempPassword`` beside ``TempPassword``: the one refused is generated as TempPasswordModel."""
    result = _generate(tmp_path, cli, _spec(CASE_ONLY, "Holder"))
    assert result.code == 0, result.err
    assert "'tempPassword' is generated as TempPasswordModel" in result.err
    assert "/components/schemas/tempPassword and /components/schemas/TempPassword" in result.err
    models = _models(tmp_path)
    assert "class TempPassword:" in models
    assert "class TempPasswordModel:" in models


def test_strict_renames_too(tmp_path: Path, cli: Callable[..., Outcome]) -> None:
    """A rename mends no defect of the document: a strict client is generated as well."""
    result = _generate(tmp_path, cli, _spec(CASE_ONLY, "Holder"), "--strict")
    assert result.code == 0, result.err


def test_a_collision_no_title_resolves_leaves_only_those_schemas_out(
    tmp_path: Path, cli: Callable[..., Outcome]
) -> None:
    """An inline schema derived again by an allOf extension: that schema is left out (listed), the rest generated."""
    result = _generate(tmp_path, cli, _spec(EXTENDED_INLINE, "Base"))
    assert result.code == 0, result.err
    left_out = [line for line in result.err.splitlines() if "duplicate models" in line]
    assert len(left_out) == 1
    assert left_out[0].startswith("warning: mini.yaml#/components/schemas/")
    assert "this model is not generated" in left_out[0]
    assert "removal of" not in result.err


def test_strict_refuses_a_collision_no_title_resolves(tmp_path: Path, cli: Callable[..., Outcome]) -> None:
    result = _generate(tmp_path, cli, _spec(EXTENDED_INLINE, "Base"), "--strict")
    assert result.code == 2
    assert "the document cannot be generated as it is" in result.err
    assert not (tmp_path / "out").exists()


NULLABLE_WITH_INLINE = {
    "Cond": {
        "nullable": True,
        "type": "object",
        "properties": {
            "exclude": {
                "type": "object",
                "nullable": True,
                "additionalProperties": {"type": "object", "properties": {}},
            }
        },
    },
    "A": {"type": "object", "properties": {"c": {"$ref": "#/components/schemas/Cond"}}},
    "B": {"type": "object", "properties": {"c": {"$ref": "#/components/schemas/Cond"}}},
}


def test_a_nullable_schemas_inline_objects_become_schemas_of_their_own(
    tmp_path: Path, cli: Callable[..., Outcome]
) -> None:
    """openapi-python-client derives a nullable object's inline objects twice; hoisted, each is modelled once."""
    result = _generate(tmp_path, cli, _spec(NULLABLE_WITH_INLINE, "A"))
    assert result.code == 0, result.err
    assert "duplicate models" not in result.err.replace('duplicate models such as "CondType0Exclude', "")
    assert (
        "warning: mini.yaml#/components/schemas/Cond: openapi-python-client would model the inline object schemas "
        'of this nullable schema twice (duplicate models such as "CondType0ExcludeType0AdditionalProperty"); they '
        "are generated as schemas of their own: Cond_exclude_value, Cond_exclude"
    ) in result.err
    models = _models(tmp_path)
    assert "class CondType0:" in models
    assert "class CondExcludeValue:" in models
    assert "cannot be modelled" not in result.err
