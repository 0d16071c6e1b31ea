"""Answers in the document's shapes: success bodies, error bodies with a message, and login tokens.

Success bodies come from the fixtures, else from the document's example of the success
response, else from a small value built from its schema; they are serialised once, at start.
An error answer starts from the document's example for that status (so every field the
document shows is there) and puts a message saying what happened into the message field of
the error schema (``message``, else ``error_description``, ``detail``, ... when the schema has
no ``message``); without a documented JSON shape it is ``{"message": ...}``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import cast

from starlette.responses import Response

from generator._jsonish import as_mapping
from generator._pointer import split_pointer
from generator._security import SchemeSpec, TokenSource

from ._api import Api, MediaType, Operation
from ._fixtures import Fixtures
from ._requests import media_kind
from ._schemas import NO_EXAMPLE

__all__ = ["Responder", "set_pointer"]

_MESSAGE_FIELDS = ("message", "error_description", "detail", "description", "title", "error")
"""Where an error message goes, in order of preference, when the error schema has such a property."""


def set_pointer(document: dict[str, object], pointer: str, value: object) -> None:
    """Put ``value`` at a JSON pointer of ``document``, creating the objects on the way."""
    tokens = split_pointer(pointer)
    node: dict[str, object] = document
    for token in tokens[:-1]:
        child = node.get(token)
        if not isinstance(child, dict):
            child = {}
            node[token] = child
        node = cast(dict[str, object], child)
    node[tokens[-1]] = value


def _render(media: MediaType | None, body: object) -> tuple[str | None, bytes]:
    """``body`` serialised for ``media``: JSON as JSON, text as itself, bytes as they are."""
    if media is None:
        return None, b""
    if isinstance(body, bytes):
        return media.name, body
    if media_kind(media.name) == "json" or not isinstance(body, str):
        return media.name, json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return media.name, body.encode("utf-8")


class Responder:
    """Builds every answer of one simulator."""

    def __init__(self, api: Api, fixtures: Fixtures) -> None:
        self._api = api
        self._success: dict[str, tuple[int, str | None, bytes]] = {}
        for operation in api.operations:
            media = operation.success.preferred if operation.success is not None else None
            body = fixtures.responses.get(operation.key, NO_EXAMPLE) if media is not None else None
            if body is NO_EXAMPLE and media is not None:
                body = api.example(media)
            if body is NO_EXAMPLE and media is not None:
                body = api.schemas.synthesize(media.schema) if media.schema is not None else ""
            media_type, content = _render(media, body)
            self._success[operation.key] = (operation.success_status, media_type, content)

    def success(self, operation: Operation) -> Response:
        """The success answer of ``operation``."""
        status, media_type, content = self._success[operation.key]
        return Response(content, status, media_type=media_type)

    def error(
        self, operation: Operation | None, status: int, message: str, headers: Mapping[str, str] | None = None
    ) -> Response:
        """An error answer in the shape ``operation`` documents for ``status``, saying ``message``."""
        spec = operation.response(status) if operation is not None else None
        media = spec.preferred if spec is not None else None
        if media is None or media_kind(media.name) != "json":
            body: dict[str, object] = {"message": message}
            return Response(json.dumps(body), status, headers=headers, media_type="application/json")
        body = self._error_template(media)
        body[self._message_field(media)] = message
        media_type, content = _render(media, body)
        return Response(content, status, headers=headers, media_type=media_type)

    def _error_template(self, media: MediaType) -> dict[str, object]:
        example = self._api.example(media)
        if isinstance(example, dict):
            return copy.deepcopy(cast(dict[str, object], example))
        if media.schema is not None:
            made = self._api.schemas.synthesize(media.schema)
            if isinstance(made, dict):
                return cast(dict[str, object], made)
        return {}

    def _message_field(self, media: MediaType) -> str:
        if media.schema is None:
            return "message"
        schema, _ = self._api.schemas.resolve(media.schema)
        properties = as_mapping(schema.get("properties"))
        return next((name for name in _MESSAGE_FIELDS if name in properties), "message")

    def login(self, operation: Operation, scheme: SchemeSpec, token: str, lifetime: float) -> Response:
        """The login answer carrying ``token`` where the scheme says: the whole body, a JSON pointer, a
        response header or a cookie (then the body is the documented example, if any)."""
        source = scheme.token or TokenSource("body", None, None)
        success = operation.success
        media = success.preferred if success is not None else None
        status = operation.success_status
        if source.source == "body":
            return Response(token, status, media_type=media.name if media is not None else "text/plain")
        example = self._api.example(media) if media is not None else NO_EXAMPLE
        if source.source in ("header", "cookie"):
            content_type, content = _render(media, example) if example is not NO_EXAMPLE else (None, b"")
            response = Response(content, status, media_type=content_type)
            name = source.name or "token"
            if source.source == "header":
                response.headers[name] = token
            else:
                response.set_cookie(name, token, max_age=int(lifetime), httponly=True, samesite="strict")
            return response
        body = copy.deepcopy(cast(dict[str, object], example)) if isinstance(example, dict) else {}
        set_pointer(body, source.pointer or "/access_token", token)
        if scheme.expires_in_pointer is not None:
            set_pointer(body, scheme.expires_in_pointer, int(lifetime) if lifetime.is_integer() else lifetime)
        json_media = media if media is not None and media_kind(media.name) == "json" else None
        media_type, content = _render(json_media or MediaType("application/json", "", None), body)
        return Response(content, status, media_type=media_type)
