"""RFC 6901 JSON pointers: the one place that escapes, joins, splits and follows them.

Every problem the toolkit reports names its place in the document by a JSON pointer, and the
simulator reads fixtures and responses by pointer; all of them go through these functions.
(The runtime embedded in generated clients has its own reader: it may import nothing of ours.)
"""

from __future__ import annotations

from typing import cast
from urllib.parse import unquote

__all__ = ["escape_pointer", "join_pointer", "node_at", "split_pointer", "split_ref"]


def escape_pointer(token: str | int) -> str:
    """Escape one reference token for a JSON pointer (``~`` → ``~0``, ``/`` → ``~1``)."""
    return str(token).replace("~", "~0").replace("/", "~1")


def join_pointer(base: str, *tokens: str | int) -> str:
    """Append reference tokens to a JSON pointer."""
    return base + "".join("/" + escape_pointer(token) for token in tokens)


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def split_pointer(pointer: str) -> list[str]:
    """The unescaped reference tokens of ``pointer`` (``""``, the whole document, has none)."""
    if not pointer:
        return []
    return [_unescape(token) for token in pointer.split("/")[1:]]


def split_ref(ref: str) -> list[str]:
    """The reference tokens of a local ``$ref`` (``#/a/b``): a URI fragment, so percent-decoded first."""
    if not ref.startswith("#/"):
        return []
    # Split before decoding: a %2F inside a token is part of the name, not a separator.
    return [_unescape(unquote(token)) for token in ref[2:].split("/")]


def node_at(document: object, tokens: list[str]) -> object:
    """The node ``tokens`` lead to in parsed JSON/YAML (``$ref`` not followed), or None when there is none."""
    node = document
    for token in tokens:
        if isinstance(node, dict):
            node = cast(dict[str, object], node).get(token)
        elif isinstance(node, list):
            items = cast(list[object], node)
            node = items[int(token)] if token.isdigit() and int(token) < len(items) else None
        else:
            return None
    return node
