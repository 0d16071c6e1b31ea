"""openapi-python-client with endpoint copies that leave models shared: the same endpoints, for a cost per operation.

The copy replaces ``deepcopy`` in openapi-python-client's endpoint steps; these tests model one
document both ways and compare every endpoint, over the shapes those steps change (path-level
parameters, parameters whose Python names meet and are renamed, responses, bodies, errors).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from openapi_python_client.config import Config, ConfigFile, MetaType
from openapi_python_client.parser import GeneratorData
from openapi_python_client.parser import openapi as upstream_openapi
from openapi_python_client.parser.openapi import Endpoint
from openapi_python_client.schema.untrusted_string import UntrustedString
from openapi_python_client.strings import PythonCode

from generator._upstream_speed import endpoint_copy, install
from tests.conftest import ROOT


def _document() -> dict[str, Any]:
    linked = {
        "A": {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/B"}, "n": {"type": "integer"}}},
        "B": {"type": "object", "properties": {"a": {"$ref": "#/components/schemas/A"}}},
    }
    json_a = {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/a/{id}/{thing-id}": {
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "thing-id", "in": "path", "required": True, "schema": {"type": "integer"}},
                ],
                "get": {
                    "operationId": "getA",
                    "parameters": [
                        {"name": "id", "in": "query", "schema": {"type": "string"}},
                        {"name": "Id", "in": "header", "schema": {"type": "string"}},
                    ],
                    "responses": {"200": {"description": "ok", "content": json_a}, "4XX": {"description": "no"}},
                },
                "post": {
                    "operationId": "postA",
                    "requestBody": {"content": json_a},
                    "responses": {"201": {"description": "ok", "content": json_a}, "bad": {"description": "?"}},
                },
            },
            "/b": {"get": {"operationId": "getB", "responses": {"default": {"description": "ok", "content": json_a}}}},
        },
        "components": {"schemas": linked},
    }


def _text(value: object) -> str:
    """Upstream's strings (untrusted text, code) as plain text, to compare two models."""
    if isinstance(value, UntrustedString):
        return value.get_untrusted_value()
    if isinstance(value, PythonCode):
        return value.as_unembedded_code()
    return str(value)


def _summary(data: GeneratorData) -> Iterator[tuple[object, ...]]:
    for tag, collection in sorted(data.endpoint_collections_by_tag.items()):
        yield tag, len(collection.parse_errors)
        for endpoint in collection.endpoints:
            yield (
                endpoint.name,
                _text(endpoint.path),
                sorted(endpoint.relative_imports),
                [str(error.detail) for error in endpoint.errors],
                [(_text(b.content_type), _text(b.prop.get_type_string())) for b in endpoint.bodies],
                [(str(r.status_code), _text(r.prop.get_type_string())) for r in endpoint.responses],
                *(
                    [(_text(p.name), str(p.python_name), _text(p.get_type_string())) for p in getattr(endpoint, where)]
                    for where in ("path_parameters", "query_parameters", "header_parameters", "cookie_parameters")
                ),
            )


def _model(copier: object, monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, ...]]:
    monkeypatch.setitem(upstream_openapi.__dict__, "deepcopy", copier)
    config = Config.from_sources(ConfigFile(), MetaType.UV, ROOT / "x.yaml", "utf-8", overwrite=False, output_path=None)
    data = GeneratorData.from_dict(_document(), config=config)
    assert isinstance(data, GeneratorData)
    return list(_summary(data))


def test_endpoints_are_the_same_with_the_cheap_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    stock = _model(copy.deepcopy, monkeypatch)
    # The steps renamed parameters that meet (``id`` in the query and the header) and rewrote the path.
    assert stock[1][:2] == ("get_a", "/a/{id}/{thing_id}")
    assert stock[1][-3:-1] == ([("id", "id_query", "str | Unset")], [("Id", "id_header", "str | Unset")])
    assert _model(endpoint_copy, monkeypatch) == stock


def test_the_copy_shares_models_and_copies_what_the_steps_change(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(upstream_openapi.__dict__, "deepcopy", endpoint_copy)
    config = Config.from_sources(ConfigFile(), MetaType.UV, ROOT / "x.yaml", "utf-8", overwrite=False, output_path=None)
    data = GeneratorData.from_dict(_document(), config=config)
    assert isinstance(data, GeneratorData)
    endpoint: Endpoint = next(iter(data.endpoint_collections_by_tag.values())).endpoints[0]
    fresh: Endpoint = endpoint_copy(endpoint)
    assert [r.prop for r in fresh.responses] == [r.prop for r in endpoint.responses]
    assert all(a.prop is b.prop for a, b in zip(fresh.responses, endpoint.responses, strict=True))
    for location in ("path_parameters", "query_parameters", "header_parameters", "cookie_parameters", "errors"):
        assert getattr(fresh, location) is not getattr(endpoint, location)
    assert not any(a is b for a, b in zip(fresh.path_parameters, endpoint.path_parameters, strict=True))
    assert fresh.relative_imports is not endpoint.relative_imports
    assert fresh.responses.patterns is not endpoint.responses.patterns
    assert endpoint_copy([1, [2]]) == [1, [2]]


def test_install_puts_the_copy_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(upstream_openapi.__dict__, "deepcopy", copy.deepcopy)
    assert install() is True
    assert upstream_openapi.__dict__["deepcopy"] is endpoint_copy


def test_another_version_keeps_its_own_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(upstream_openapi.__dict__, "deepcopy", copy.deepcopy)
    monkeypatch.setattr("openapi_python_client.__version__", "99.0.0")
    assert install() is False
    assert upstream_openapi.__dict__["deepcopy"] is copy.deepcopy
