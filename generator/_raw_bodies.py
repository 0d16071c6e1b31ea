"""Bodies openapi-python-client cannot model become raw bytes, so that their operations are generated.

openapi-python-client models request bodies of JSON (and ``+json``), forms, multipart and
``application/octet-stream``, and responses of JSON, ``text/*`` and ``application/octet-stream``.
Any other media type (``image/*``, ``application/xml``, ``application/vnd.apple.mpegurl``,
``*/*``, ``text/plain`` for a request) makes it leave out the response, or the operation. Here,
before modelling, a mended copy of the document (the loaded one is never changed; unchanged
parts are shared) carries such a body as ``application/octet-stream``:

- a request body is sent as it is given: a ``File`` (``format: binary``, or any schema that is
  not a plain string) or a ``str``; its own media type is put back after modelling
  (:func:`restore_media_types`), so that the request says what it sends;
- a response none of whose media types can be modelled is read as a ``File`` of its bytes.

A media type named in ``content_type_overrides`` is the user's decision and left alone. After
modelling, :func:`file_responses` makes every response read as bytes return a ``File`` and every
one read as text whose schema cannot be built from text a ``str``: with an override such as
``*/*: application/octet-stream`` over a JSON schema, openapi-python-client would hand the bytes
to ``from_dict`` (a type error, and a crash at run time).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import attrs
from openapi_python_client.config import Config
from openapi_python_client.parser import GeneratorData
from openapi_python_client.parser.properties.any import AnyProperty
from openapi_python_client.parser.properties.date import DateProperty
from openapi_python_client.parser.properties.datetime import DateTimeProperty
from openapi_python_client.parser.properties.enum_property import EnumProperty
from openapi_python_client.parser.properties.file import FileProperty
from openapi_python_client.parser.properties.literal_enum_property import LiteralEnumProperty
from openapi_python_client.parser.properties.string import StringProperty
from openapi_python_client.parser.properties.uuid import UuidProperty
from openapi_python_client.schema.untrusted_string import UntrustedString
from openapi_python_client.strings import get_content_type

from ._document import Document
from ._jsonish import as_mapping

__all__ = ["RawBodies", "file_responses", "json_overrides", "raw_bodies", "restore_media_types"]

BODY_MEDIA_TYPES = frozenset(
    {"application/json", "application/x-www-form-urlencoded", "multipart/form-data", "application/octet-stream"}
)
"""Request bodies openapi-python-client models (besides ``+json``)."""
RESPONSE_MEDIA_TYPES = frozenset({"application/json", "application/octet-stream"})
"""Responses openapi-python-client models (besides ``+json`` and ``text/*``)."""
_BINARY: Mapping[str, Any] = {"type": "string", "format": "binary"}
_STAND_IN = "application/octet-stream; bearer-codegen-raw={}"
"""The key a raw request body is modelled under: octet-stream to openapi-python-client, unique per body."""
_READ_FROM_TEXT = (
    StringProperty,
    EnumProperty,
    LiteralEnumProperty,
    DateProperty,
    DateTimeProperty,
    UuidProperty,
    AnyProperty,
)
"""Response types openapi-python-client builds from a response's text correctly; any other is read as a ``str``."""
_MODELS_PREFIX = "..."
_JSON_SUBTYPES = frozenset({"json", "x-json"})
"""Subtypes that are JSON whatever the type says (``application/json`` itself needs no override)."""
"""Relative import prefix of models from an endpoint module (as openapi-python-client uses it)."""


@attrs.frozen
class RawBodies:
    """The document to model, and the media type of each request body carried as a stand-in."""

    document: Document
    media_types: Mapping[str, str]
    """Stand-in key → the media type the document gives the request body."""


def raw_bodies(document: Document, config: Config) -> RawBodies:
    """``document`` with every body openapi-python-client cannot model carried as raw bytes (see the module)."""
    mender = _Mender(document)
    for tokens, kind in _bodies(document):
        content = as_mapping(as_mapping(_node(document, tokens)).get("content"))
        if kind == "request":
            mended = _request_content(content, config, mender.media_types)
        else:
            mended = _response_content(content, config)
        if mended is not None:
            mender.set([*tokens, "content"], mended)
    return RawBodies(mender.root, dict(mender.media_types))


def json_overrides(document: Document, overrides: Mapping[str, str]) -> dict[str, str]:
    """``overrides`` with JSON under another name (``text/json``, ``text/x-json``) read as ``application/json``.

    openapi-python-client reads ``text/json`` as text and handed the text of a model's JSON to
    ``from_dict`` (Datadog's service checks); a request body in it was left out. Each such media
    type of the document joins the overrides, unless the user's own overrides name it.
    """
    found: dict[str, str] = {}
    for tokens, _ in _bodies(document):
        for key in as_mapping(as_mapping(_node(document, tokens)).get("content")):
            media = str(key).split(";")[0].strip().lower()
            kind, _, subtype = media.partition("/")
            if kind != "application" and subtype in _JSON_SUBTYPES:
                found[str(key)] = "application/json"
    return {**found, **overrides}


def restore_media_types(data: GeneratorData, raw: RawBodies) -> None:
    """Give every request body modelled under a stand-in its own media type back (in place)."""
    for collection in data.endpoint_collections_by_tag.values():
        for endpoint in collection.endpoints:
            for body in endpoint.bodies:
                original = raw.media_types.get(body.content_type.get_untrusted_value())
                if original is not None:
                    body.content_type = UntrustedString(original)


def file_responses(data: GeneratorData) -> None:
    """Let every response read as bytes return a ``File``, and one read as text a ``str``, whatever its schema.

    In place. openapi-python-client builds the response's type from its schema alone, so
    ``*/*: application/octet-stream`` over an object schema handed the bytes to ``from_dict``, and
    ``text/json`` over one handed it the text; either is a type error and a crash at run time.
    """
    for collection in data.endpoint_collections_by_tag.values():
        for endpoint in collection.endpoints:
            for response in endpoint.responses:
                prop = response.prop
                kind = response.source["return_type"]
                if kind == "bytes" and not isinstance(prop, FileProperty):
                    response.prop = FileProperty(
                        name=prop.name,
                        required=True,
                        default=None,
                        python_name=prop.python_name,
                        description=prop.description,
                        example=None,
                    )
                elif kind == "str" and not isinstance(prop, _READ_FROM_TEXT):
                    response.prop = StringProperty(
                        name=prop.name,
                        required=True,
                        default=None,
                        python_name=prop.python_name,
                        description=prop.description,
                        example=None,
                    )
                else:
                    continue
                endpoint.relative_imports |= response.prop.get_imports(prefix=_MODELS_PREFIX)


def _bodies(document: Document) -> list[tuple[list[str], str]]:
    """The tokens of every request body and response object written in place (a ``$ref`` is followed at its target)."""
    found: list[tuple[list[str], str]] = []
    for path, item in as_mapping(document.get("paths")).items():
        for method, operation in as_mapping(item).items():
            fields = as_mapping(operation)
            if "requestBody" in fields:
                found.append((["paths", path, method, "requestBody"], "request"))
            for code in as_mapping(fields.get("responses")):
                found.append((["paths", path, method, "responses", code], "response"))
    components = as_mapping(document.get("components"))
    found += [
        (["components", "requestBodies", name], "request") for name in as_mapping(components.get("requestBodies"))
    ]
    found += [(["components", "responses", name], "response") for name in as_mapping(components.get("responses"))]
    return [(tokens, kind) for tokens, kind in found if "$ref" not in as_mapping(_node(document, tokens))]


def _request_content(content: Mapping[str, Any], config: Config, stand_ins: dict[str, str]) -> dict[str, Any] | None:
    """The request body's content with each unmodellable media type under a stand-in key; None if none is."""
    mended: dict[str, Any] = {}
    changed = False
    for key, media in content.items():
        simplified = _simplified(key, config)
        if simplified is None or simplified in BODY_MEDIA_TYPES or simplified.endswith("+json"):
            mended[key] = media
            continue
        stand_in = _STAND_IN.format(len(stand_ins))
        stand_ins[stand_in] = str(key)
        fields = as_mapping(media)
        text = _plain_string(fields.get("schema"))
        mended[stand_in] = {**fields, "schema": fields.get("schema") if text else _BINARY}
        changed = True
    return mended if changed else None


def _response_content(content: Mapping[str, Any], config: Config) -> dict[str, Any] | None:
    """Raw bytes in place of a response's content none of whose media types can be modelled; None otherwise."""
    if any(key in config.content_type_overrides for key in content):
        return None  # the user decided how this response is read
    simplified = [_simplified(key, config) for key in content]
    if not simplified or all(media is None for media in simplified):
        return None
    if any(
        media is not None and (media in RESPONSE_MEDIA_TYPES or media.startswith("text/") or media.endswith("+json"))
        for media in simplified
    ):
        return None
    return {"application/octet-stream": {"schema": _BINARY}}


def _simplified(key: object, config: Config) -> str | None:
    """The media type as openapi-python-client reads it; None when it is invalid or the user overrides it."""
    if not isinstance(key, str) or key in config.content_type_overrides:
        return None
    return get_content_type(key, config)


def _plain_string(schema: object) -> bool:
    """Whether a request schema is a plain string (sent as ``str``) or binary (a ``File``): else it becomes binary."""
    fields = as_mapping(schema)
    return fields.get("type") == "string" and fields.get("format") in (None, "binary") and "enum" not in fields


def _node(document: Document, tokens: list[str]) -> object:
    node: object = document
    for token in tokens:
        node = as_mapping(node).get(token)
    return node


class _Mender:
    """A copy-on-write view of a document: a change copies the mappings on its path, nothing else."""

    def __init__(self, document: Document) -> None:
        self.root: Document = document
        self.media_types: dict[str, str] = {}
        self._owned: set[int] = set()

    def _own(self, node: object) -> dict[str, Any]:
        if id(node) in self._owned:
            return cast(dict[str, Any], node)
        copy = dict(as_mapping(node))
        self._owned.add(id(copy))
        return copy

    def set(self, tokens: list[str], value: object) -> None:
        self.root = self._own(self.root)
        parent = self.root
        for token in tokens[:-1]:
            child = self._own(parent.get(token))
            parent[token] = child
            parent = child
        parent[tokens[-1]] = value
