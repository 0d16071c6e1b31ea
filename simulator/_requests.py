"""Check one request against its operation: parameters and body, as the document describes them.

Query, header, cookie and path values arrive as text; each is first coerced to the JSON type its
schema wants (``"42"`` → 42 where the schema says integer), then validated with the schema, so
a message can quote the schema's own rule. JSON bodies are parsed and validated; form bodies
are coerced field by field, then validated; XML bodies must be well-formed, parsed by
``defusedxml`` with DTDs refused (no entity expansion, no "billion laughs").

The first problem found is reported, as one descriptive sentence naming the parameter or the
body and what is wrong; the caller turns it into a 400.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import parse_qsl
from xml.etree.ElementTree import ParseError

import attrs
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as parse_xml

from generator._pointer import escape_pointer

from ._api import Api, MediaType, Operation, Parameter, RequestBody
from ._schemas import describe_error

__all__ = ["MAX_BODY_BYTES", "Accepted", "Incoming", "check_request", "media_kind"]

MAX_BODY_BYTES = 1024 * 1024
"""Larger request bodies are refused (400): no operation of a token API needs more."""
MAX_MESSAGE_CHARS = 500
"""Messages quoting hostile values are cut here."""


@attrs.frozen
class Incoming:
    """The parts of an HTTP request that the document describes, read off the wire."""

    path_params: Mapping[str, str]
    query: list[tuple[str, str]]
    headers: Mapping[str, str]
    """Header names in lower case."""
    cookies: Mapping[str, str]
    content_type: str | None
    body: bytes


@attrs.frozen
class Accepted:
    """A valid request: each present parameter as its schema's type, and the parsed body."""

    values: Mapping[tuple[str, str], object]
    """``(location, name)`` to the coerced value."""
    body: object | None
    """Parsed JSON, a form as a dict, XML or text as a string, other media as bytes; None without a body."""


class _Invalid(Exception):
    """Internal: carries the first problem found up to :func:`check_request`."""


def check_request(api: Api, operation: Operation, incoming: Incoming) -> Accepted | str:
    """The request's values, or a sentence saying what is wrong with it."""
    try:
        values: dict[tuple[str, str], object] = {}
        for parameter in operation.parameters:
            raws = _raw_values(parameter, incoming)
            if not raws:
                if parameter.required:
                    raise _Invalid(f"Missing required {parameter.label}")
                continue
            values[(parameter.location, parameter.name)] = _parameter_value(api, parameter, raws)
        body = None if operation.body is None else _body_value(api, operation.body, incoming)
    except _Invalid as problem:
        message = str(problem)
        return message if len(message) <= MAX_MESSAGE_CHARS else message[: MAX_MESSAGE_CHARS - 1] + "…"
    return Accepted(values, body)


def media_kind(name: str) -> str:
    """``json``, ``xml``, ``form``, ``text`` or ``binary``: how a media type's content is read."""
    if name == "application/json" or name.endswith("+json"):
        return "json"
    if name in ("application/xml", "text/xml") or name.endswith("+xml"):
        return "xml"
    if name == "application/x-www-form-urlencoded":
        return "form"
    return "text" if name.startswith("text/") else "binary"


def _raw_values(parameter: Parameter, incoming: Incoming) -> list[str]:
    if parameter.location == "path":
        value = incoming.path_params.get(parameter.name)
    elif parameter.location == "query":
        return [value for name, value in incoming.query if name == parameter.name]
    elif parameter.location == "header":
        value = incoming.headers.get(parameter.name.lower())
    else:
        value = incoming.cookies.get(parameter.name)
    return [] if value is None else [value]


def _parameter_value(api: Api, parameter: Parameter, raws: list[str]) -> object:
    if parameter.schema is None:
        return raws[0]
    schemas = api.schemas
    if "array" in schemas.types(parameter.schema):
        _, where = schemas.resolve(parameter.schema)
        if not parameter.explode or parameter.location != "query":
            raws = [part for raw in raws for part in raw.split(",")]
        value: object = [schemas.coerce(f"{where}/items", raw) for raw in raws]
    else:
        value = schemas.coerce(parameter.schema, raws[0])
    error = schemas.first_error(parameter.schema, value)
    if error is not None:
        raise _Invalid(f"Invalid value {raws[0] if len(raws) == 1 else raws!r} for {parameter.label}: {error.message}")
    return value


def _match(media: tuple[MediaType, ...], content_type: str | None) -> MediaType | None:
    if content_type is None:
        return media[0] if len(media) == 1 else None
    exact = next((m for m in media if m.name == content_type), None)
    if exact is not None:
        return exact
    family = content_type.split("/")[0] + "/*"
    return next((m for m in media if m.name == family), None) or next((m for m in media if m.name == "*/*"), None)


def _body_value(api: Api, spec: RequestBody, incoming: Incoming) -> object | None:
    if not incoming.body:
        if spec.required:
            raise _Invalid(
                f"The request body is required ({', '.join(m.name for m in spec.media) or 'any media type'})"
            )
        return None
    if len(incoming.body) > MAX_BODY_BYTES:
        raise _Invalid(f"The request body is larger than {MAX_BODY_BYTES} bytes")
    media = _match(spec.media, incoming.content_type)
    if media is None:
        expected = ", ".join(m.name for m in spec.media)
        raise _Invalid(
            f"Unsupported Content-Type {incoming.content_type or '(none)'!r} for the body; expected {expected}"
        )
    kind = media_kind(media.name)
    if kind == "binary":
        return incoming.body
    try:
        text = incoming.body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise _Invalid(f"The {media.name} body is not UTF-8 text (byte {err.start})") from None
    value: object = text
    if kind == "json":
        value = _parse_json(text)
    elif kind == "xml":
        _check_xml(text)
        if "string" not in api.schemas.types(media.schema or ""):
            return text  # An XML document modelled as an object: no generic mapping to JSON to validate.
    elif kind == "form":
        value = _parse_form(api, media, text)
    if media.schema is not None:
        error = api.schemas.first_error(media.schema, value)
        if error is not None:
            raise _Invalid(f"Invalid request body ({media.name}) {describe_error(error)}")
    return value


def _parse_json(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise _Invalid(f"Malformed JSON body: {err.msg} at line {err.lineno}, column {err.colno}") from None
    except RecursionError:
        raise _Invalid("Malformed JSON body: nested too deeply") from None


def _check_xml(text: str) -> None:
    try:
        parse_xml(text, forbid_dtd=True)
    except ParseError as err:
        raise _Invalid(f"Malformed XML body: {err}") from None
    except DefusedXmlException as err:
        raise _Invalid(f"Refused XML body: {err!r} (DTDs and entities are not accepted)") from None


def _parse_form(api: Api, media: MediaType, text: str) -> dict[str, object]:
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True)
    except ValueError as err:
        raise _Invalid(f"Malformed form body: {err}") from None
    properties = ""
    array_fields: set[str] = set()
    if media.schema is not None:
        _, where = api.schemas.resolve(media.schema)
        properties = f"{where}/properties"
        array_fields = {
            name for name, _ in pairs if "array" in api.schemas.types(f"{properties}/{escape_pointer(name)}")
        }
    form: dict[str, object] = {}
    repeated: dict[str, list[object]] = {}
    for name, raw in pairs:
        if name in array_fields:
            _, field = api.schemas.resolve(f"{properties}/{escape_pointer(name)}")
            repeated.setdefault(name, []).append(api.schemas.coerce(f"{field}/items", raw))
        elif name not in form:
            form[name] = api.schemas.coerce(f"{properties}/{escape_pointer(name)}", raw) if properties else raw
    form.update(repeated)
    return form
