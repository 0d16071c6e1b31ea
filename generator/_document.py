"""Read an OpenAPI document from disk and validate it, turning every failure into a Problem.

YAML anchors let a small file describe an astronomically large tree (the "billion laughs"
document). Loading itself is cheap because aliases share objects, so the tree is measured as
it would be expanded — memoised per object, linear in the file — and refused above a limit
before any validator walks it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, cast

# openapi-spec-validator picks a backend when first imported: jsonschema-rs when installed (a test
# dependency pulls it in), which words messages differently and may omit the location. Messages
# must not depend on what else is installed, so the reference backend is chosen before the import.
os.environ.setdefault("OPENAPI_SPEC_VALIDATOR_SCHEMA_VALIDATOR_BACKEND", "jsonschema")

from openapi_spec_validator.validation import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator
from ruamel.yaml.error import YAMLError

from ._jsonish import as_list, as_mapping, load_yaml
from ._problems import Problem, join_pointer

__all__ = ["MAX_DOCUMENT_BYTES", "MAX_EXPANDED_NODES", "Document", "load_document", "validate_openapi"]

MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
"""Refuse files larger than this: generous for real descriptions (the largest public ones are ~20 MB)."""
MAX_EXPANDED_NODES = 5_000_000
"""Refuse documents whose tree, with every YAML alias expanded, has more nodes than this."""

Document = dict[str, Any]


def load_document(path: Path, display: str) -> Document | Problem:
    """Parse a YAML or JSON document; the problem names ``display`` as the file."""
    try:
        raw = path.read_bytes() if path.stat().st_size <= MAX_DOCUMENT_BYTES else None
    except OSError as err:
        return Problem(display, "", f"cannot read the file: {err.strerror or err}")
    if raw is None:
        return Problem(display, "", f"the file is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        return Problem(display, "", f"the file is not UTF-8 text (byte {err.start})")
    try:
        data: object = json.loads(text) if path.suffix.lower() == ".json" else load_yaml(text)
    except json.JSONDecodeError as err:
        return Problem(display, "", f"invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}")
    except YAMLError as err:
        return Problem(display, "", f"invalid YAML: {err}")
    except RecursionError:
        return Problem(display, "", "the document is nested too deeply to parse")
    if not isinstance(data, dict):
        return Problem(display, "", "the document must be a mapping with an 'openapi' field")
    document = cast(Document, data)
    size = _expanded_size(document)
    if size is None:
        return Problem(display, "", "the document contains a recursive YAML alias")
    if size > MAX_EXPANDED_NODES:
        return Problem(
            display,
            "",
            f"the document expands to more than {MAX_EXPANDED_NODES:,} nodes through YAML aliases; refusing it",
        )
    return document


def _children(node: object) -> list[object] | None:
    """The values of a mapping or the items of a list; None for a scalar."""
    if isinstance(node, dict):
        return list(as_mapping(cast(object, node)).values())
    if isinstance(node, list):
        return as_list(cast(object, node))
    return None


def _expanded_size(root: object) -> int | None:
    """Node count of ``root`` with aliases expanded, or None when a container contains itself."""
    sizes: dict[int, int] = {}
    in_progress: set[int] = set()
    # An explicit stack: documents may be nested deeper than Python's recursion limit.
    stack: list[tuple[object, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        children = _children(node)
        if children is None:
            continue
        key = id(node)
        if children_done:
            in_progress.discard(key)
            sizes[key] = 1 + sum(sizes.get(id(child), 1) for child in children)
            continue
        if key in sizes:
            continue
        in_progress.add(key)
        stack.append((node, True))
        for child in children:
            if _children(child) is not None:
                if id(child) in in_progress:
                    return None
                stack.append((child, False))
    return sizes.get(id(root), 1)


def validate_openapi(document: Document, display: str) -> list[Problem]:
    """Validate against the OpenAPI 3.0/3.1 schema; one problem per violation, with its pointer."""
    version = document.get("openapi")
    if not isinstance(version, str):
        hint = " (Swagger 2.0 documents are not supported)" if "swagger" in document else ""
        return [Problem(display, "/openapi", f"missing or non-string 'openapi' version field{hint}")]
    if version.startswith("3.0."):
        validator: OpenAPIV30SpecValidator | OpenAPIV31SpecValidator = OpenAPIV30SpecValidator(document)
    elif version.startswith("3.1."):
        validator = OpenAPIV31SpecValidator(document)
    else:
        return [Problem(display, "/openapi", f"unsupported OpenAPI version {version!r}; use 3.0.x or 3.1.x")]
    problems: list[Problem] = []
    try:
        for error in validator.iter_errors():
            pointer = join_pointer("", *[str(part) for part in error.absolute_path])
            problems.append(Problem(display, pointer, error.message))
    except RecursionError:
        problems.append(Problem(display, "", "the document is nested too deeply (or recursive) to validate"))
    except Exception as err:  # noqa: BLE001 - the validator raises many unrelated types on hostile input (unresolvable $ref, ...); each is a problem with the document, not a bug here.
        problems.append(Problem(display, "", f"the OpenAPI validator could not process the document: {err}"))
    return problems[:50]
