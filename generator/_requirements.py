"""Which security each operation of a document requires: its own ``security``, else the document's.

openapi-python-client looks only at an operation's own ``security``. The effective requirements
are what OpenAPI says: the operation's ``security`` when it has one (``[]`` removes security), the
document-wide ``security`` otherwise; an empty requirement ``{}`` among the alternatives makes
credentials optional. Each requirement keeps the order of its schemes and the scopes it asks for.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from ._jsonish import as_list, as_mapping
from ._pointer import node_at, split_ref

__all__ = ["HTTP_METHODS", "RawRequirements", "effective_requirements", "operations", "protected_operations"]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@attrs.frozen
class RawRequirements:
    """The effective requirements of one operation as the document writes them, with where they are."""

    pointer: str
    """The ``security`` they come from (the operation's, or ``/security``); "" when there is none."""
    alternatives: tuple[tuple[tuple[str, tuple[str, ...]], ...], ...]
    """OR of AND of (scheme name, scopes)."""


def resolve_ref(document: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow local ``$ref`` chains (``#/components/...``); anything else is returned as is."""
    seen: set[str] = set()
    while isinstance(ref := node.get("$ref"), str) and ref.startswith("#/") and ref not in seen:
        seen.add(ref)
        node = as_mapping(node_at(document, split_ref(ref)))
    return node


def operations(document: Mapping[str, Any]) -> Iterator[tuple[str, str, Mapping[str, Any], Mapping[str, Any]]]:
    """Every (path, method, path item, operation) of the document."""
    for path, item in as_mapping(document.get("paths")).items():
        path_item = as_mapping(item)
        for method in HTTP_METHODS:
            if method in path_item:
                yield path, method, path_item, as_mapping(path_item[method])


def _parse(security: object) -> tuple[tuple[tuple[str, tuple[str, ...]], ...], ...]:
    alternatives: list[tuple[tuple[str, tuple[str, ...]], ...]] = []
    for requirement in as_list(security):
        alternatives.append(
            tuple(
                (str(name), tuple(str(scope) for scope in as_list(scopes)))
                for name, scopes in as_mapping(requirement).items()
            )
        )
    return tuple(alternatives)


def effective_requirements(document: Mapping[str, Any]) -> dict[tuple[str, str], RawRequirements]:
    """(path, method) → the requirements that apply to that operation, as written."""
    top = document.get("security")
    result: dict[tuple[str, str], RawRequirements] = {}
    for path, method, _, operation in operations(document):
        if "security" in operation:
            pointer = "/paths/" + path.replace("~", "~0").replace("/", "~1") + f"/{method}/security"
            result[path, method] = RawRequirements(pointer, _parse(operation["security"]))
        else:
            result[path, method] = RawRequirements("/security" if top is not None else "", _parse(top))
    return result


def document_requirements(document: Mapping[str, Any]) -> RawRequirements:
    """The document-wide ``security``."""
    top = document.get("security")
    return RawRequirements("/security" if top is not None else "", _parse(top))


def protected_operations(document: Mapping[str, Any]) -> frozenset[tuple[str, str]]:
    """(path, method) of every operation that cannot be called without credentials.

    An operation is protected when it has requirements and none of them is the empty one.
    """
    return frozenset(
        key for key, raw in effective_requirements(document).items() if raw.alternatives and all(raw.alternatives)
    )
