"""A copy of a document with changes applied to some of its nodes, sharing everything they do not touch.

The mending pass (:mod:`._mend`) decides its changes on the loaded document, by the identity of
the node each one changes, and never changes the loaded document itself. This module makes the
copy: a container is copied when it or something below it changes, once however many aliases
(YAML anchors) reach it, so the copy keeps the document's sharing and costs only the changed paths.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from ._jsonish import as_list, as_mapping

__all__ = ["Fix", "copy_fixed"]

Fix = Callable[[dict[str, Any]], None]
"""A change to a copied node (a fresh dict, already holding its copied children)."""


def copy_fixed(root: object, fixes: dict[int, list[Fix]]) -> object:
    """``root`` with each node's ``fixes`` (by the node's id) applied to a copy of it; ``root`` itself is unchanged."""
    return _copy(root, fixes, {}, {})


def _dirty(node: object, fixes: dict[int, list[Fix]], memo: dict[int, bool]) -> bool:
    """True when ``node`` or anything below it is to be changed."""
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = False  # a document holds no cycles (load_document refuses them); this only ends a walk
    if isinstance(node, dict):
        values: list[object] = list(as_mapping(cast(object, node)).values())
    elif isinstance(node, list):
        values = as_list(cast(object, node))
    else:
        return False
    result = key in fixes
    for value in values:
        result = _dirty(value, fixes, memo) or result
    memo[key] = result
    return result


def _copy(node: object, fixes: dict[int, list[Fix]], dirty: dict[int, bool], copies: dict[int, object]) -> object:
    """``node`` with the fixes applied: changed containers are fresh, untouched subtrees shared (aliases kept)."""
    if not _dirty(node, fixes, dirty):
        return node
    key = id(node)
    if key in copies:
        return copies[key]
    if isinstance(node, list):
        fresh_list: list[object] = []
        copies[key] = fresh_list
        fresh_list.extend(_copy(item, fixes, dirty, copies) for item in as_list(cast(object, node)))
        return fresh_list
    fresh: dict[str, Any] = {}
    copies[key] = fresh
    for name, value in as_mapping(node).items():
        fresh[name] = _copy(value, fixes, dirty, copies)
    for change in fixes.get(key, []):
        change(fresh)
    return fresh
