"""Read an OpenAPI document from disk and validate it, turning every failure into a Problem.

YAML anchors let a small file describe an astronomically large tree (the "billion laughs"
document). Loading itself is cheap because aliases share objects, so the tree is measured as
it would be expanded — memoised per object, linear in the file — and refused above a limit
before any validator walks it. The same pass measures nesting depth, so that every later step
(validator, openapi-python-client, the generated code) works on a tree of bounded depth.

Nothing outside the document is ever read: a ``$ref`` to another file or a URL is refused
before the validator sees it (its resolver would otherwise open files and fetch URLs), and a
local ``$ref`` that points nowhere is reported with its own pointer instead of the validator's
quote of the whole document.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any, cast

import attrs
from ruamel.yaml.error import YAMLError

from ._jsonish import as_list, as_mapping, load_yaml
from ._pointer import join_pointer, split_ref
from ._problems import Problem, Severity

__all__ = [
    "MAX_DEPTH",
    "MAX_DOCUMENT_BYTES",
    "MAX_EXPANDED_NODES",
    "Document",
    "check_references",
    "height",
    "load_document",
    "path_shape",
    "target",
    "walk",
]

MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
"""Refuse files larger than this: generous for real descriptions (the largest public ones are ~20 MB)."""
MAX_EXPANDED_NODES = 5_000_000
"""Refuse documents whose tree, with every YAML alias expanded, has more nodes than this."""
MAX_DEPTH = 256
"""Refuse documents nested deeper than this many mappings and lists (real descriptions stay under ~30).

Validating and modelling a document recurse once or more per level; the pipeline raises Python's
recursion limit for this depth (see ``_pipeline``), so a deeper document is refused here, by pointer."""
_PARSE_FRAMES_PER_LEVEL = 4
"""Python frames the YAML and JSON parsers use per nesting level, generously: the parse gets this many
per allowed level and fails fast beyond (ruamel.yaml slows down quadratically with depth)."""
_POINTER_TOKENS = 12
"""A problem about depth points this far down the deepest branch: enough to name the schema, not 256 levels."""
_MAX_VALUE_PROBLEMS = 10

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
    previous_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(_stack_depth() + _PARSE_FRAMES_PER_LEVEL * MAX_DEPTH)
    try:
        data: object = json.loads(text) if path.suffix.lower() == ".json" else load_yaml(text)
    except json.JSONDecodeError as err:
        return Problem(display, "", f"invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}")
    except YAMLError as err:
        return Problem(display, "", f"invalid YAML: {err}")
    except RecursionError:
        return Problem(display, "", "the document is nested too deeply to parse")
    except ValueError as err:
        # Both parsers refuse integers longer than Python's int/str conversion limit (4300 digits).
        return Problem(display, "", f"the document holds a value Python cannot read: {err}")
    finally:
        sys.setrecursionlimit(previous_limit)
    if not isinstance(data, dict):
        return Problem(display, "", "the document must be a mapping with an 'openapi' field")
    document = cast(Document, data)
    measured = _measure(document)
    if measured is None:
        return Problem(display, "", "the document contains a recursive YAML alias")
    size, heights = measured
    if size > MAX_EXPANDED_NODES:
        return Problem(
            display,
            "",
            f"the document expands to more than {MAX_EXPANDED_NODES:,} nodes through YAML aliases; refusing it",
        )
    height = heights.get(id(document), 0)
    if height > MAX_DEPTH:
        pointer, below = _deepest_pointer(document, heights)
        return Problem(
            display,
            pointer,
            f"mappings and lists nest {below} levels deep below here ({height} in all); "
            f"at most {MAX_DEPTH} levels are supported",
        )
    problems = list(_bad_values(document, text, display))
    return problems[0] if problems else document


def height(root: object) -> int:
    """How deep mappings and lists nest in ``root`` (0 for a scalar), measured without recursion."""
    measured = _measure(root)
    return 0 if measured is None else measured[1].get(id(root), 0)


def _entries(node: object) -> list[tuple[object, object]] | None:
    """(key, value) of a mapping or (index, item) of a list; None for a scalar."""
    if isinstance(node, dict):
        return list(as_mapping(cast(object, node)).items())
    if isinstance(node, list):
        return list(enumerate(as_list(cast(object, node))))
    return None


def _measure(root: object) -> tuple[int, dict[int, int]] | None:
    """Node count of ``root`` with aliases expanded, and the height of every container (by id).

    None when a container contains itself. Memoised per object, so linear in the parsed file
    however many times aliases repeat a subtree. Parsed YAML and JSON hold plain dicts and
    lists, which is all that is looked into (this runs on every node of every document).
    """
    sizes: dict[int, int] = {}
    heights: dict[int, int] = {}
    in_progress: set[int] = set()
    # An explicit stack: documents may be nested deeper than Python's recursion limit. A container
    # comes off it twice: first to push its children, then (with them) to add them up.
    stack: list[tuple[object, list[object] | None]] = [(root, None)]
    while stack:
        node, children = stack.pop()
        key = id(node)
        if children is not None:
            in_progress.discard(key)
            size, height = 1 + _length(node) - len(children), 0
            for child in children:
                size += sizes[id(child)]
                height = max(height, heights[id(child)])
            sizes[key], heights[key] = size, height + 1
            continue
        if key in sizes:
            continue
        in_progress.add(key)
        children = _containers_in(node)
        stack.append((node, children))
        for child in children:
            if id(child) in in_progress:
                return None
            stack.append((child, None))
    return sizes.get(id(root), 1), heights


def _containers_in(node: object) -> list[object]:
    """The values (of a dict) or items (of a list) that are themselves dicts or lists."""
    values = cast(dict[object, object], node).values() if type(node) is dict else cast(list[object], node)
    return [value for value in values if type(value) is dict or type(value) is list]


def _length(node: object) -> int:
    return len(cast(dict[object, object], node)) if type(node) is dict else len(cast(list[object], node))


def _deepest_pointer(root: object, heights: dict[int, int]) -> tuple[str, int]:
    """A pointer a few levels down the deepest branch, and how deep that branch goes below it."""
    pointer = ""
    node = root
    for _ in range(_POINTER_TOKENS):
        entries = _entries(node)
        if not entries:
            break
        token, child = max(entries, key=lambda entry: heights.get(id(entry[1]), 0))
        if _entries(child) is None:
            break
        node = child
        pointer = join_pointer(pointer, str(token))
    return pointer, heights.get(id(node), 0) - 1


def _stack_depth() -> int:
    """Frames on the calling thread's stack (the recursion limit counts from the bottom, not from here)."""
    depth = 0
    frame: FrameType | None = sys._getframe()  # pyright: ignore[reportPrivateUsage] # documented CPython API, the cheap way to count frames
    while frame is not None:
        depth += 1
        frame = frame.f_back
    return depth


def walk(root: object) -> Iterator[tuple[str, object, bool]]:
    """Every (pointer, value, is a key) of the document, each shared (aliased) container visited once."""
    seen: set[int] = set()
    stack: list[tuple[str, object, bool]] = [("", root, False)]
    while stack:
        pointer, node, is_key = stack.pop()
        yield pointer, node, is_key
        entries = _entries(node)
        if entries is None or id(node) in seen:
            continue
        seen.add(id(node))
        for token, value in reversed(entries):
            child = join_pointer(pointer, str(token))
            stack.append((child, value, False))
            if isinstance(node, dict):
                stack.append((child, token, True))


_MAYBE_BAD_VALUE = re.compile(
    r"\\[uU]0{0,4}[dD][89a-fA-F]|NaN|Infinity|\.(?i:nan|inf)|[\d._][eE][+-]?\d{3}|\d[\d_]{199}"
)
"""Text without a match cannot hold a lone surrogate or a float that is not finite (an escape such as
``\\ud800``, JSON's NaN and Infinity, YAML's .nan and .inf, a number too large for a float). A float
overflows past 1e308: a three-digit exponent after a digit, point or YAML's ``_`` separator, or a run
of 200 digits and separators before a shorter one. Words such as ``page100`` do not match, so most
documents skip the walk."""


def _bad_values(document: Document, text: str, display: str) -> Iterator[Problem]:
    """Values no JSON document can hold and no generated file could be written with."""
    if _MAYBE_BAD_VALUE.search(text) is None:
        return
    found = 0
    for pointer, value, is_key in walk(document):
        message: str | None = None
        if isinstance(value, str) and not _encodable(value):
            what = "key" if is_key else "text"
            message = f"this {what} holds a lone UTF-16 surrogate (an escape such as \\ud800), which is not text"
        elif isinstance(value, float) and not math.isfinite(value):
            message = f"{value} is not a JSON number; OpenAPI documents must be representable as JSON"
        if message is not None:
            yield Problem(display, pointer, message)
            found += 1
            if found >= _MAX_VALUE_PROBLEMS:
                return


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_NAME_MAPS = frozenset(
    {
        "$defs",
        "callbacks",
        "content",
        "definitions",
        "dependentSchemas",
        "encoding",
        "examples",
        "headers",
        "links",
        "mapping",
        "parameters",
        "pathItems",
        "paths",
        "patternProperties",
        "properties",
        "requestBodies",
        "responses",
        "schemas",
        "scopes",
        "securitySchemes",
        "variables",
        "webhooks",
    }
)
"""Mappings whose keys are names chosen by the author (a property ``example``, a header ``x-request-id``)."""


def _references(document: Document) -> Iterator[tuple[str, str, bool]]:
    """(pointer of the ``$ref``, its value, whether it is only in examples) for every reference that means one.

    A ``$ref`` inside an ``example`` value, a schema's ``examples`` list or an ``x-`` extension is
    data, not a reference: nothing resolves it (a real document quotes ``$ref``s in its examples).
    One among a media type's or parameter's ``examples`` is a reference nothing generated depends on.
    """
    seen: set[int] = set()
    stack: list[tuple[str, object, str, bool]] = [("", document, "", False)]
    while stack:
        pointer, node, parent_key, in_examples = stack.pop()
        identity = id(node)
        if identity in seen:
            continue
        if isinstance(node, list):
            seen.add(identity)
            items = as_list(cast(object, node))
            stack.extend(
                (join_pointer(pointer, i), item, "", in_examples) for i, item in reversed(list(enumerate(items)))
            )
            continue
        if not isinstance(node, dict):
            continue
        seen.add(identity)
        mapping = cast(dict[object, object], node)
        ref = mapping.get("$ref")
        if isinstance(ref, str):
            yield join_pointer(pointer, "$ref"), ref, in_examples
        for raw_key, value in reversed(mapping.items()):  # popped in document order
            key = str(raw_key)
            named = parent_key in _NAME_MAPS
            if not named and (key == "example" or key.startswith("x-")):
                continue
            if not named and key == "examples" and isinstance(value, list):
                continue
            if in_examples and not named and key == "value":
                continue  # an Example Object's value: data
            inner = in_examples or (not named and key == "examples")
            stack.append((join_pointer(pointer, key), value, key, inner))


def check_references(document: Document, display: str, *, strict: bool = True) -> list[Problem]:
    """Every ``$ref`` that leaves the document, points nowhere, or only points at other references in a loop.

    Runs before the OpenAPI validator, whose resolver would open files and fetch URLs named by
    a ``$ref`` and whose message for a dangling one quotes the whole document. One among
    ``examples`` that points nowhere is only a warning unless ``strict``: nothing generated uses it.
    """
    problems: list[Problem] = []
    for where, ref, in_examples in _references(document):
        problem: Problem | None = None
        if not ref.startswith("#"):
            problem = Problem(
                display,
                where,
                f"{ref!r} refers outside the document; bearer-codegen reads no other file and fetches nothing, "
                "and openapi-python-client cannot follow it: bundle the description into one document first",
            )
        elif ref == "#" or ref.startswith("#/"):
            problem = _follow(document, ref, display, where)
            if problem is not None and in_examples and not strict:
                problem = attrs.evolve(
                    problem,
                    message=f"{problem.message} (in examples, which are not generated)",
                    severity=Severity.WARNING,
                )
        if problem is not None:
            problems.append(problem)
        if sum(p.severity is Severity.ERROR for p in problems) >= _MAX_VALUE_PROBLEMS:
            break
    return problems


def target(document: Document, ref: str) -> tuple[object, str] | str:
    """The node a local ``$ref`` names and its pointer, or the part of the pointer that does not exist."""
    node: object = document
    pointer = ""
    for token in split_ref(ref):
        pointer = join_pointer(pointer, token)
        if isinstance(node, dict) and token in node:
            node = as_mapping(cast(object, node))[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(as_list(cast(object, node))):
            node = as_list(cast(object, node))[int(token)]
        else:
            return pointer
    return node, pointer


def _follow(document: Document, ref: str, display: str, where: str) -> Problem | None:
    """A problem when ``ref`` (local) does not resolve, or resolves only through a loop of references."""
    seen: list[str] = []
    while True:
        found = target(document, ref)
        if isinstance(found, str):
            named = ref if not seen else f"{ref!r} (reached through {seen[0]!r})"
            return Problem(display, where, f"{named} points to nothing: {found} does not exist in the document")
        node, pointer = found
        seen.append(ref)
        next_ref = as_mapping(node).get("$ref")
        if not isinstance(next_ref, str) or not next_ref.startswith("#"):
            return None
        if next_ref in seen:
            return Problem(
                display, where, f"references loop without reaching a schema: {' -> '.join(seen)} -> {next_ref}"
            )
        if pointer == "" or len(seen) > MAX_DEPTH:
            return None
        ref = next_ref


_PATH_PARAMETER = re.compile(r"\{+[^{}]*\}+")


def path_shape(path: str) -> str:
    """A path template with its parameter names blanked (``/a/{id}`` → ``/a/{}``).

    openapi-python-client renames path parameters (``{monitorId}`` → ``{monitor_id}``), and a
    rename is not a change of operation: paths are compared by shape. Doubled braces count as one
    template: a renamed endpoint path escapes literal braces that way (see ``_names``).
    """
    return _PATH_PARAMETER.sub("{}", path)
