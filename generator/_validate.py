"""Validate a loaded document against the OpenAPI 3.0/3.1 schema, every violation a Problem with its pointer.

Separate from :mod:`._document` because the validators take a fifth of a second to import: only
the commands that validate import them, when they first validate.

A valid document costs little: jsonschema-rs checks it against the OpenAPI schema and each schema
object against its dialect's meta schema, and :mod:`._semantic_walk` repeats in plain code the few
rules openapi-spec-validator's keyword walk adds (unique operationIds, path parameters, defaults,
...). Only a document that fails, or that the plain walk does not reproduce exactly, goes through
the reference validator, whose messages are the ones reported.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, cast

from jsonschema.exceptions import SchemaError
from jsonschema.protocols import Validator
from jsonschema_path import SchemaPath
from openapi_schema_validator._dialects import OAS31_BASE_DIALECT_ID
from openapi_spec_validator.schemas.backend.jsonschema import create_validator as create_reference_validator
from openapi_spec_validator.schemas.backend.jsonschema_rs import create_validator as create_rs_validator
from openapi_spec_validator.schemas.backend.jsonschema_rs import has_jsonschema_rs_validators
from openapi_spec_validator.schemas.utils import get_schema_content
from openapi_spec_validator.validation import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from openapi_spec_validator.validation.keywords import (
    OpenAPIV30SchemaValidator,
    OpenAPIV31SchemaValidator,
)

from ._document import MAX_DEPTH, Document, target, walk
from ._jsonish import as_list, as_mapping
from ._pointer import join_pointer
from ._problems import Problem
from ._semantic_walk import OAS30_META, fast_meta_check, semantic_verdict

if TYPE_CHECKING:
    pass

__all__ = ["validate_openapi"]

_UNDEFINED_REQUIRED = re.compile(r"^Required list has not defined properties: \[(?P<names>.*)\]$")
_DUPLICATE_OPERATION_ID = re.compile(
    r"^Operation ID '(?P<id>.*)' for '(?P<method>\w+)' in '(?P<path>.*)' is not unique$"
)


def _quoted_names(quoted: str) -> list[object] | None:
    """The names of the validator's message (the inside of a Python list), or None when it cannot be read."""
    try:
        return as_list(ast.literal_eval(f"[{quoted}]"))
    except (ValueError, SyntaxError):
        return None


def _requiring(document: Document, quoted: str) -> str:
    """The pointer of the first ``required`` list of an ``allOf`` schema that holds every name of ``quoted`` (the
    message's Python list), or ''. The validator reports such a list without a location."""
    names = _quoted_names(quoted)
    if names is None:
        return ""
    for pointer, node, is_key in walk(document):
        if is_key or not isinstance(node, dict):
            continue
        mapping = as_mapping(cast(object, node))
        required = as_list(mapping.get("required"))
        if "allOf" in mapping and all(name in required for name in names):
            return join_pointer(pointer, "required")
    return ""


def _in_order(quoted: str, message: str) -> str:
    """The undefined-required message with its names sorted: the validator lists them in set order,
    which changes from run to run (hash randomisation), and a message must read the same every time."""
    names = _quoted_names(quoted)
    if names is None:
        return message
    return f"Required list has not defined properties: [{', '.join(sorted(map(repr, names)))}]"


def _default_holding(document: Document, instance: object) -> str:
    """The pointer of the first schema ``default`` equal to ``instance``, or ''.

    The validator checks each default against its schema but reports the violation without a
    location; the value it quotes is enough to find it again.
    """
    if isinstance(instance, dict | list):
        return ""
    for pointer, node, is_key in walk(document):
        if is_key or not isinstance(node, dict):
            continue
        mapping = as_mapping(cast(object, node))
        if "default" in mapping and type(mapping["default"]) is type(instance) and mapping["default"] == instance:
            return join_pointer(pointer, "default")
    return ""


class _FastSchema30(OpenAPIV30SchemaValidator):
    def _get_schema_checker(self, schema: SchemaPath, schema_value: Any) -> Callable[[Any], None]:
        return fast_meta_check(OAS30_META)


class _FastSchema31(OpenAPIV31SchemaValidator):
    def _get_schema_checker(self, schema: SchemaPath, schema_value: Any) -> Callable[[Any], None]:
        if self._get_schema_dialect_id(schema, schema_value) != OAS31_BASE_DIALECT_ID:
            return super()._get_schema_checker(schema, schema_value)
        return fast_meta_check(OAS31_BASE_DIALECT_ID)


class _LocatedSchema30(OpenAPIV30SchemaValidator):
    def _validate_schema_meta(self, schema: SchemaPath, schema_value: Any) -> OpenAPIValidationError | None:
        return _located(schema, super()._validate_schema_meta(schema, schema_value))


class _LocatedSchema31(OpenAPIV31SchemaValidator):
    def _validate_schema_meta(self, schema: SchemaPath, schema_value: Any) -> OpenAPIValidationError | None:
        return _located(schema, super()._validate_schema_meta(schema, schema_value))


class _HybridSchema30(_LocatedSchema30):
    """The reference wording of a schema object's violation, checked first by jsonschema-rs (most objects pass)."""

    def _get_schema_checker(self, schema: SchemaPath, schema_value: Any) -> Callable[[Any], None]:
        return _hybrid(fast_meta_check(OAS30_META), super()._get_schema_checker(schema, schema_value))


class _HybridSchema31(_LocatedSchema31):
    """As :class:`_HybridSchema30`, for the 3.1 base dialect (other dialects only by the reference)."""

    def _get_schema_checker(self, schema: SchemaPath, schema_value: Any) -> Callable[[Any], None]:
        reference = super()._get_schema_checker(schema, schema_value)
        if self._get_schema_dialect_id(schema, schema_value) != OAS31_BASE_DIALECT_ID:
            return reference
        return _hybrid(fast_meta_check(OAS31_BASE_DIALECT_ID), reference)


def _hybrid(fast: Callable[[Any], None], reference: Callable[[Any], None]) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        try:
            fast(value)
        except SchemaError:
            reference(value)  # raises the worded error

    return check


def _located(schema: SchemaPath, error: OpenAPIValidationError | None) -> OpenAPIValidationError | None:
    """The reference backend words a schema object's violation relative to that object: say where it is."""
    if error is not None:
        error.path.extendleft(reversed(schema.parts))
    return error


@functools.cache
def _openapi_schema_validator(version: str, fast: bool) -> Validator:
    """The OpenAPI ``version`` schema's validator: jsonschema-rs when ``fast``, else the reference jsonschema.

    Chosen here rather than by openapi-spec-validator, which picks jsonschema-rs whenever it is
    installed unless an environment variable says otherwise: the reference words the messages,
    and they must not depend on what else is installed (nor on the caller's environment).
    """
    content = dict(get_schema_content(version))
    # Either backend implements the part of jsonschema's Validator protocol the spec validator uses.
    return cast(Validator, create_rs_validator(content) if fast else create_reference_validator(content))


class _ReportingV30(OpenAPIV30SpecValidator):
    """The reference 3.0 validator, its schema-object violations located in the document.

    Each schema object is checked by jsonschema-rs first and worded by the reference backend only
    when it fails; the document is checked against the OpenAPI schema by the reference backend only
    when jsonschema-rs found it invalid. An invalid document otherwise spent most of its time
    re-checking in Python what jsonschema-rs had passed (18 of 22 s on a 730-operation document).
    """

    keyword_validators = {**OpenAPIV30SpecValidator.keyword_validators, "schema": _HybridSchema30}  # noqa: RUF012 - overrides the base class's dict

    def __init__(self, document: Document, *, schema_valid: bool) -> None:
        super().__init__(document)
        self.schema_validator = _openapi_schema_validator("3.0", fast=schema_valid)


class _ReportingV31(OpenAPIV31SpecValidator):
    """As :class:`_ReportingV30`, for OpenAPI 3.1."""

    keyword_validators = {**OpenAPIV31SpecValidator.keyword_validators, "schema": _HybridSchema31}  # noqa: RUF012 - overrides the base class's dict

    def __init__(self, document: Document, *, schema_valid: bool) -> None:
        super().__init__(document)
        self.schema_validator = _openapi_schema_validator("3.1", fast=schema_valid)


def _document_pointer(document: Document, parts: Iterable[object]) -> str:
    """The pointer of ``parts`` in the document as written: the validator follows local ``$ref``s as if
    the target were inlined, so a path through one continues at the target's own pointer."""
    node: object = document
    pointer = ""
    for part in parts:
        for _ in range(MAX_DEPTH):
            mapping = as_mapping(node)
            ref = mapping.get("$ref")
            if not isinstance(ref, str) or not ref.startswith("#") or part in mapping:
                break
            found = target(document, ref)
            if isinstance(found, str):
                break
            node, pointer = found
        pointer = join_pointer(pointer, str(part))
        items = as_list(node)
        node = items[part] if isinstance(part, int) and 0 <= part < len(items) else as_mapping(node).get(str(part))
    return pointer


class _FastV30(OpenAPIV30SpecValidator):
    """The 3.0 validator with jsonschema-rs checking the OpenAPI schema and each schema object."""

    keyword_validators = {**OpenAPIV30SpecValidator.keyword_validators, "schema": _FastSchema30}  # noqa: RUF012 - overrides the base class's dict

    def __init__(self, document: Document) -> None:
        super().__init__(document)
        self.schema_validator = _openapi_schema_validator("3.0", fast=True)


class _FastV31(OpenAPIV31SpecValidator):
    """The 3.1 validator with jsonschema-rs checking the OpenAPI schema and each schema object."""

    keyword_validators = {**OpenAPIV31SpecValidator.keyword_validators, "schema": _FastSchema31}  # noqa: RUF012 - overrides the base class's dict

    def __init__(self, document: Document) -> None:
        super().__init__(document)
        self.schema_validator = _openapi_schema_validator("3.1", fast=True)


def _valid_against_schema(document: Document, version: str) -> bool:
    """True when jsonschema-rs finds the document valid against the OpenAPI schema (the keyword walk aside)."""
    if not has_jsonschema_rs_validators():
        return False
    return _openapi_schema_validator("3.0" if version.startswith("3.0.") else "3.1", fast=True).is_valid(document)


def _valid_by_fast_pass(document: Document, version: str) -> bool:
    """True when the document is valid, decided without the reference backend.

    The reference backend spends nearly all of a large document's validation in Python: checking
    the document against the OpenAPI schema and each schema object against its dialect's meta
    schema (jsonschema-rs does both in a fraction of that time), then walking the document through
    jsonschema-path for the rules beyond the schema (:mod:`._semantic_walk` does that in plain
    code). jsonschema-rs words messages differently and may lack locations, so this only decides
    "valid"; an invalid document is validated again by the reference backend for the report.
    """
    v30 = version.startswith("3.0.")
    if not _valid_against_schema(document, version):
        return False
    verdict = semantic_verdict(document, version)
    if verdict is not None:
        return verdict
    # A shape the plain walk leaves to the keyword walk: run that, with jsonschema-rs for its meta schemas.
    return (_FastV30 if v30 else _FastV31)(document).is_valid()


def validate_openapi(document: Document, display: str) -> list[Problem]:
    """Validate against the OpenAPI 3.0/3.1 schema; one problem per violation, with its pointer."""
    version = document.get("openapi")
    if not isinstance(version, str):
        hint = " (Swagger 2.0 documents are not supported)" if "swagger" in document else ""
        return [Problem(display, "/openapi", f"missing or non-string 'openapi' version field{hint}")]
    if not version.startswith(("3.0.", "3.1.")):
        return [Problem(display, "/openapi", f"unsupported OpenAPI version {version!r}; use 3.0.x or 3.1.x")]
    problems: list[Problem] = []
    try:
        if _valid_by_fast_pass(document, version):
            return []
        reporting = _ReportingV30 if version.startswith("3.0.") else _ReportingV31
        for error in reporting(document, schema_valid=_valid_against_schema(document, version)).iter_errors():
            pointer, message = _document_pointer(document, error.absolute_path), error.message
            duplicate = _DUPLICATE_OPERATION_ID.match(error.message) if not pointer else None
            if duplicate is not None:
                pointer = join_pointer("/paths", duplicate["path"], duplicate["method"], "operationId")
            elif not pointer and (undefined := _UNDEFINED_REQUIRED.match(error.message)) is not None:
                pointer = _requiring(document, undefined["names"])
                message = _in_order(undefined["names"], message)
            elif not pointer:
                pointer = _default_holding(document, cast(object, error.instance))
            problems.append(Problem(display, pointer, message))
    except RecursionError:
        problems.append(Problem(display, "", "the document is nested too deeply (or recursive) to validate"))
    except Exception as err:  # noqa: BLE001 - the validator raises many unrelated types on hostile input (unresolvable $ref, ...); each is a problem with the document, not a bug here.
        problems.append(Problem(display, "", f"the OpenAPI validator could not process the document: {err}"))
    return problems[:50]
