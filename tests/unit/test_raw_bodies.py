"""Bodies openapi-python-client cannot model are carried as raw bytes, on a copy; the rest is left alone."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from openapi_python_client.config import Config, ConfigFile, MetaType

from generator._raw_bodies import raw_bodies

BINARY = {"type": "string", "format": "binary"}
THING = {"$ref": "#/components/schemas/Thing"}


def _config(tmp_path: Path, **overrides: str) -> Config:
    options = ConfigFile(content_type_overrides=overrides or None)
    return Config.from_sources(options, MetaType.UV, tmp_path / "doc.yaml", "utf-8", overwrite=False, output_path=None)


def _document() -> dict[str, Any]:
    def response(content: dict[str, Any]) -> dict[str, Any]:
        return {"get": {"responses": {"200": {"description": "ok", "content": content}}}}

    return {
        "openapi": "3.1.0",
        "paths": {
            "/both": response({"application/xml": {"schema": THING}, "application/json": {"schema": THING}}),
            "/image": response({"image/png": {"schema": BINARY}, "image/jpeg": {"schema": BINARY}}),
            "/text": response({"text/csv": {"schema": {"type": "string"}}}),
            "/upload": {
                "post": {
                    "requestBody": {"$ref": "#/components/requestBodies/Upload"},
                    "responses": {"204": {"description": "ok"}},
                }
            },
        },
        "components": {
            "schemas": {"Thing": {"type": "object"}},
            "requestBodies": {
                "Upload": {
                    "content": {
                        "application/json": {"schema": THING},
                        "text/plain": {"schema": {"type": "string"}},
                        "application/xml": {"schema": THING},
                    }
                }
            },
        },
    }


def test_only_what_cannot_be_modelled_changes_on_a_copy(tmp_path: Path) -> None:
    """A response with a modellable media type, and text responses, stay; the loaded document is not changed."""
    document = _document()
    before = copy.deepcopy(document)
    raw = raw_bodies(document, _config(tmp_path))
    assert document == before
    paths = raw.document["paths"]
    assert paths["/both"] is document["paths"]["/both"]
    assert paths["/text"] is document["paths"]["/text"]
    assert paths["/image"]["get"]["responses"]["200"]["content"] == {"application/octet-stream": {"schema": BINARY}}
    upload = raw.document["components"]["requestBodies"]["Upload"]["content"]
    assert list(upload.values()) == [
        {"schema": THING},
        {"schema": {"type": "string"}},
        {"schema": BINARY},
    ]
    assert [raw.media_types.get(key, key) for key in upload] == ["application/json", "text/plain", "application/xml"]
    assert all(key.startswith("application/octet-stream; ") for key in raw.media_types)


def test_a_media_type_the_user_overrides_is_left_alone(tmp_path: Path) -> None:
    """``content_type_overrides`` decides for the media types it names."""
    raw = raw_bodies(
        _document(), _config(tmp_path, **{"application/xml": "application/json", "image/png": "text/plain"})
    )
    upload = raw.document["components"]["requestBodies"]["Upload"]["content"]
    assert "application/xml" in upload
    assert list(raw.media_types.values()) == ["text/plain"]
    assert "image/png" in raw.document["paths"]["/image"]["get"]["responses"]["200"]["content"]


def test_a_complete_document_is_returned_as_it_is(tmp_path: Path) -> None:
    """Nothing to carry as bytes: the very same document, no copy."""
    document = _document()
    del document["paths"]["/image"], document["components"]["requestBodies"]
    del document["paths"]["/upload"]
    assert raw_bodies(document, _config(tmp_path)).document is document
