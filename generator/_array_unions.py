"""One array for a union of arrays: openapi-python-client cannot tell such arms apart.

It tells a union's arms apart by ``isinstance(value, list)``, true of every array arm, so it
applied the first arm's item code to the items of all (airflow's ``list[StructuredLogMessage] |
list[str]`` called ``to_dict`` on strings and never parsed the second arm). ``list[A | B]``
dispatches on each item instead, which is sound for writing and reading.
"""

from __future__ import annotations

from typing import Any, cast

from ._fixed_copy import Fix
from ._jsonish import as_list, as_mapping

__all__ = ["arrays_only", "merge_arrays"]


_ARRAY_ANNOTATIONS = frozenset(("type", "items", "title", "description", "nullable", "deprecated", "example"))


def _is_plain_array(arm: object) -> bool:
    """An inline ``type: array`` schema with nothing but ``items`` and annotations, so merging loses no constraint."""
    if not isinstance(arm, dict):
        return False
    schema = as_mapping(cast(object, arm))
    return schema.get("type") == "array" and all(name in _ARRAY_ANNOTATIONS for name in schema)


def arrays_only(arms: list[object]) -> bool:
    """Two or more plain arrays and nothing else but ``type: null``: the union that :func:`merge_arrays` mends."""
    arrays = [arm for arm in arms if _is_plain_array(arm)]
    return len(arrays) >= 2 and all(arm in arrays or _is_null(arm) for arm in arms)


def _is_null(arm: object) -> bool:
    return isinstance(arm, dict) and as_mapping(cast(object, arm)).get("type") == "null"


def merge_arrays(key: str) -> Fix:
    """The arrays among the arms become one array; ``type: null`` arms stay beside it."""

    def change(mended: dict[str, Any]) -> None:
        arms = [as_mapping(arm) for arm in as_list(mended.pop(key))]
        arrays = [arm for arm in arms if not _is_null(arm)]
        items: list[object] = []
        for arm in arrays:
            item = arm.get("items", {})
            if item not in items:
                items.append(item)
        merged: dict[str, Any] = {"type": "array", "items": items[0] if len(items) == 1 else {key: items}}
        if any(arm.get("nullable") is True for arm in arrays):
            merged["nullable"] = True
        if len(arrays) == len(arms):
            mended.update(merged)
        else:
            mended[key] = [merged, *(arm for arm in arms if _is_null(arm))]

    return change
