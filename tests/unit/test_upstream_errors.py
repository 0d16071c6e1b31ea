"""openapi-python-client's failures as problems: a crash names what it was modelling, never a traceback."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openapi_python_client.parser import openapi, properties

from generator._provenance import toml_string
from tests.conftest import Outcome, minimal_spec, write_spec


def _explode(*_: object, **__: object) -> Any:
    raise KeyError("boom")


def test_a_crash_modelling_an_operation_names_the_operation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Callable[..., Outcome]
) -> None:
    """openapi-python-client raising while it models an operation: one error at the operation's pointer."""
    monkeypatch.setattr(openapi.Endpoint, "from_data", _explode)
    result = cli("generate", write_spec(tmp_path / "mini.yaml", minimal_spec()), "--output", tmp_path / "out")
    assert result.code == 2
    assert result.err.strip() == (
        "error: mini.yaml#/paths/~1login/get: openapi-python-client cannot model the operation GET /login "
        "(KeyError: 'boom')"
    )
    assert not (tmp_path / "out").exists()


def test_a_crash_modelling_a_schema_names_the_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Callable[..., Outcome]
) -> None:
    """openapi-python-client raising while it models a component schema: one error at the schema's pointer."""
    spec = minimal_spec()
    spec["components"]["schemas"] = {"Thing": {"type": "object"}}
    monkeypatch.setattr(properties, "parse_reference_path", _explode)
    result = cli("generate", write_spec(tmp_path / "mini.yaml", spec), "--output", tmp_path / "out")
    assert result.code == 2
    assert result.err.strip() == (
        "error: mini.yaml#/components/schemas/Thing: openapi-python-client cannot model the schema 'Thing' "
        "(KeyError: 'boom')"
    )


def test_a_document_it_cannot_read_is_located_by_pointer(tmp_path: Path, cli: Callable[..., Outcome]) -> None:
    """What openapi-python-client's reader refuses is one error per place, each with its pointer."""
    spec = minimal_spec()
    spec["paths"]["/things"]["get"]["parameters"] = [{"name": "kind", "in": "nowhere", "schema": {"type": "string"}}]
    result = cli("generate", write_spec(tmp_path / "mini.yaml", spec), "--output", tmp_path / "out")
    assert result.code == 2
    assert (
        "error: mini.yaml#/paths/~1things/get/parameters/0/in: openapi-python-client cannot read this: "
        "Input should be 'query', 'path', 'header' or 'cookie'" in result.err
    )
    assert "pydantic" not in result.err


TEXTS = ['a "quoted" \\ path', "line\nbreak\ttab\x7fdel\x00nul", "lone \ud800 surrogate", "ü ✓"]


@pytest.mark.parametrize("text", TEXTS)
def test_toml_strings_hold_any_text(text: str) -> None:
    """Text from the document cannot end or break a provenance.toml string."""
    parsed = tomllib.loads(f"value = {toml_string(text)}\n")["value"]
    assert parsed == text.encode("utf-8", "replace").decode("utf-8")
