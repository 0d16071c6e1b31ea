"""openapi-python-client's errors and warnings as problems that say where in the document they are.

Its warnings mean "this endpoint or model will be missing from the client"; a client that
silently lacks an operation is worse than a clear refusal, so every one of them is an error.
Its messages name endpoints as ``METHOD path`` and schemas by pointer, and some names as object
reprs; these are turned into JSON pointers and readable names here.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Callable, Sequence
from typing import TypeVar

from openapi_python_client.parser import GeneratorData
from openapi_python_client.parser.errors import ErrorLevel, GeneratorError
from openapi_python_client.strings import PythonIdentifier

from ._document import Document
from ._jsonish import as_mapping
from ._pointer import join_pointer, node_at, split_pointer
from ._problems import Problem

__all__ = ["guarded", "parse_errors", "problems_from"]

_T = TypeVar("_T")

_ENDPOINT_HEADER = re.compile(r"^WARNING parsing (?P<method>[A-Z]+) (?P<path>\S+) within ")
_SCHEMA_HEADER = re.compile(r"(?:parse|process) schema (?P<pointer>/components/\w+/[^\s:]+)")
_UNTRUSTED_REPR = re.compile(
    r"<openapi_python_client\.schema\.untrusted_string\.UntrustedString object at 0x[0-9a-f]+>"
)


def guarded(display: str, step: Callable[[], _T]) -> _T | Problem:
    """Run a step of openapi-python-client: its progress output swallowed, a crash on odd input a problem.

    It prints progress (noise for our CLI) and may raise on a document it cannot model; that is
    a problem with the input for the user, reported with the document's name, not a traceback.
    """
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return step()
    except RecursionError:
        return Problem(display, "", "openapi-python-client could not model the document: nested too deeply")
    except Exception as err:  # noqa: BLE001 - see the docstring: an upstream crash is reported as a problem with the input.
        return Problem(display, "", f"openapi-python-client failed on this document: {err!r}")


def parse_errors(data: GeneratorData) -> list[GeneratorError]:
    """Every error openapi-python-client recorded while modelling, each once."""
    errors: list[GeneratorError] = list(data.errors)
    for collection in data.endpoint_collections_by_tag.values():
        errors.extend(error for error in collection.parse_errors if error not in errors)
    return errors


def problems_from(display: str, errors: Sequence[GeneratorError], document: Document) -> list[Problem]:
    """openapi-python-client's errors as problems, located in the document; every one of them is fatal."""
    problems: list[Problem] = []
    for error in errors:
        header = error.header.strip()
        detail = (error.detail or "").strip()
        match = _ENDPOINT_HEADER.match(header)
        pointer = join_pointer("/paths", match["path"], match["method"].lower()) if match else ""
        schema = _SCHEMA_HEADER.search(f"{header} {detail}")
        if not match and schema is not None:
            pointer = schema["pointer"]
        elif not match and error.level is ErrorLevel.WARNING:
            pointer = "/components/schemas"
        if _UNTRUSTED_REPR.search(detail):
            # openapi-python-client formats some names as object reprs; say which names clash where we can.
            detail = _name_clashes(document, pointer) or _UNTRUSTED_REPR.sub("…", detail)
        text = f"{detail} (openapi-python-client: {header})" if match else f"{header} {detail}"
        problems.append(Problem(display, pointer, text.strip()))
    return problems


def _name_clashes(document: Document, pointer: str) -> str:
    """Which properties of the schema at ``pointer`` share a Python name (its message only shows object ids)."""
    node = node_at(document, split_pointer(pointer))
    by_python_name: dict[str, list[str]] = {}
    for name in as_mapping(as_mapping(node).get("properties")):
        by_python_name.setdefault(PythonIdentifier(str(name), "field_"), []).append(str(name))
    clashes = [
        f"{' and '.join(map(repr, names))} all become {python!r}"
        for python, names in by_python_name.items()
        if len(names) > 1
    ]
    if not clashes:
        return ""
    return f"properties share a Python attribute name: {'; '.join(clashes)}; rename one of each"
