"""Distinct class names for component schemas that openapi-python-client would name like another class.

openapi-python-client names a component schema's class after its title or key, and an inline
schema after its parent's class and its place (``User``'s inline ``type`` becomes ``UserType``).
Names can meet: a component ``UserType`` beside ``User``'s inline ``type``, keys differing only in
case (``tempPassword``, ``TempPassword``), a component named like a union member
(``Thing_type_0``). It then refuses the second schema ("Attempted to generate duplicate models"),
and with it every operation that uses it, although nothing is wrong with the document.

Each such collision is resolved here by giving one component schema a ``title`` (in a copy of the
document) that makes its class, and so its inline schemas' classes, distinct: the component whose
own name is taken by the other's inline schema, or the second of two components whose names differ
only in case. A warning names both schemas. Two inline schemas that meet (a component and one
extending it by ``allOf`` both derive its inline property classes) no title separates: that is left
to the ordinary reporting (the schemas left out, listed, or the document refused when strict).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from typing import Any, cast

from openapi_python_client.parser import GeneratorData
from openapi_python_client.parser.errors import GeneratorError
from openapi_python_client.strings import ClassName

from ._document import Document
from ._fixed_copy import Fix, copy_fixed
from ._jsonish import as_mapping
from ._pointer import join_pointer, split_pointer
from ._problems import Problem, Severity
from ._upstream_errors import parse_errors

__all__ = ["distinct_models"]

_DUPLICATE = re.compile(r'Attempted to generate duplicate models with name "(?P<name>[^"]+)"')
_FAILED = re.compile(r"(?:parse|process) schema (?P<pointer>/components/schemas/[^\s:]+)")
_COMPONENT = "/components/schemas/"
_ROUNDS = 8
"""Each round renames what the last parse reported; a rename may uncover another collision behind it."""
_SUFFIX = "Model"

Parse = Callable[[Document], GeneratorData | GeneratorError]


def distinct_models(
    document: Document, parse: Parse, display: str
) -> tuple[GeneratorData | GeneratorError, list[Problem]]:
    """The model of ``document``, parsed by ``parse`` from a copy titled where classes would meet; a warning each."""
    components = as_mapping(as_mapping(document.get("components")).get("schemas"))
    titles: dict[str, str] = {}
    applied: list[str] = []
    hoisted: set[str] = set()
    fixes: dict[int, list[Fix]] = {}
    warnings: list[Problem] = []
    current = document
    data = parse(current)
    # What each component's class would be, by title or key: modelled or not, it holds that name.
    owners = {
        join_pointer("/components/schemas", str(key)): _own_class(schema, str(key))
        for key, schema in components.items()
    }
    for _ in range(_ROUNDS):
        if isinstance(data, GeneratorError):
            break
        classes = _component_classes(data)
        taken = {name.lower() for name in classes.values()} | {name.lower() for name in titles.values()}
        taken |= {str(model.class_info.name).lower() for model in [*data.models, *data.enums]}
        renamed = False
        before = len(warnings)
        for failed, name in _collisions(data):
            if failed is None or failed not in owners:
                hoisted |= _hoist(components, name, hoisted, taken, fixes, warnings, display)
                continue
            if failed in titles:
                continue
            others = [pointer for pointer, class_name in owners.items() if class_name == name and pointer != failed]
            own = owners[failed]
            if not others:
                continue  # two inline schemas (of a component and one that extends it by allOf): no title helps
            target = others[0] if own != name else failed
            if target in titles:
                continue
            base = classes.get(target) or owners[target]
            new = base + _SUFFIX
            number = 2
            while new.lower() in taken:
                new, number = f"{base}{_SUFFIX}{number}", number + 1
            taken.add(new.lower())
            titles[target] = new
            renamed = True
            other = failed if target != failed else others[0]
            warnings.append(
                Problem(
                    display,
                    target,
                    f"the schemas {target} and {other} would both be (or contain) the class {name} "
                    f"(openapi-python-client would refuse the second); {split_pointer(target)[-1]!r} is generated "
                    f"as {new} (give it a distinct title to choose another name)",
                    Severity.WARNING,
                )
            )
        renamed = renamed or len(warnings) > before
        if not renamed:
            break
        for pointer, title in list(titles.items())[len(applied) :]:
            applied.append(pointer)
            node: object = components[split_pointer(pointer)[-1]]
            if isinstance(node, dict):
                fixes.setdefault(id(cast(object, node)), []).append(_titled(title))
        current = cast(Document, copy_fixed(document, fixes))
        data = parse(current)
    return data, warnings


def _titled(title: str) -> Fix:
    def change(mended: dict[str, Any]) -> None:
        mended["title"] = title

    return change


def _collisions(data: GeneratorData) -> list[tuple[str | None, str]]:
    """(pointer of the component refused, the class name already taken) of each duplicate-model error."""
    found: list[tuple[str | None, str]] = []
    for error in parse_errors(data):
        text = f"{error.header} {error.detail or ''}"
        duplicate, failed = _DUPLICATE.search(text), _FAILED.search(text)
        if duplicate is not None:
            found.append((failed["pointer"] if failed is not None else None, duplicate["name"]))
    return found


def _component_classes(data: GeneratorData) -> dict[str, str]:
    """The class of each component schema openapi-python-client modelled, by its pointer."""
    classes: dict[str, str] = {}
    for model in [*data.models, *data.enums]:
        where = model.name.get_untrusted_value()
        if where.startswith(_COMPONENT):
            classes.setdefault(where, str(model.class_info.name))
    return classes


def _own_class(schema: object, key: str) -> str:
    title = as_mapping(schema).get("title")
    return str(ClassName(title if isinstance(title, str) and title else key, "field_"))


def _hoist(
    components: Mapping[str, Any],
    name: str,
    done: set[str],
    taken: set[str],
    fixes: dict[int, list[Fix]],
    warnings: list[Problem],
    display: str,
) -> set[str]:
    """Move the inline object schemas of the nullable component behind ``name`` to components of their own.

    openapi-python-client models a nullable object component as a union with a ``<Name>Type0``
    member, and derives that member's inline objects twice ("duplicate models"); as components of
    their own they are modelled once. Returns the keys of the components so changed.
    """
    for key, schema in components.items():
        prefix = _own_class(schema, str(key)) + "Type0"
        if key in done or not isinstance(schema, dict) or not name.startswith(prefix):
            continue
        fields = cast(dict[str, Any], schema)
        if fields.get("nullable") is not True:
            continue
        new: dict[str, Any] = {}
        hoisted = _hoisted(copy.deepcopy(fields), str(key), new, taken | {k.lower() for k in components})
        if not new:
            continue
        fixes.setdefault(id(fields), []).append(_replaced(hoisted))
        fixes.setdefault(id(components), []).append(_added(new))
        warnings.append(
            Problem(
                display,
                join_pointer(_COMPONENT.rstrip("/"), str(key)),
                f"openapi-python-client would model the inline object schemas of this nullable schema twice "
                f'(duplicate models such as "{name}"); they are generated as schemas of their own: '
                f"{', '.join(new)}",
                Severity.WARNING,
            )
        )
        return {str(key)}
    return set()


def _hoisted(node: dict[str, Any], key: str, new: dict[str, Any], taken: set[str]) -> dict[str, Any]:
    """``node`` (a copy) with each inline object schema below it replaced by a reference to a new component."""
    places: list[tuple[dict[str, Any], str, str]] = [
        (cast(dict[str, Any], node["properties"]), str(name), f"{key}_{name}")
        for name in as_mapping(node.get("properties"))
    ]
    if isinstance(node.get("additionalProperties"), dict):
        places.append((node, "additionalProperties", f"{key}_value"))
    if isinstance(node.get("items"), dict):
        places.append((node, "items", f"{key}_item"))
    for owner, field, wanted in places:
        child = owner[field]
        if not _inline_object(child):
            continue
        new_key, number = wanted, 2
        while new_key.lower() in taken or str(ClassName(new_key, "field_")).lower() in taken:
            new_key, number = f"{wanted}{number}", number + 1
        taken.update({new_key.lower(), str(ClassName(new_key, "field_")).lower()})
        new[new_key] = _hoisted(cast(dict[str, Any], child), new_key, new, taken)
        owner[field] = {"$ref": join_pointer("#/components/schemas", new_key)}
    return node


def _inline_object(schema: object) -> bool:
    fields = as_mapping(schema)
    if not fields or "$ref" in fields:
        return False
    return (
        fields.get("type") == "object" or "properties" in fields or isinstance(fields.get("additionalProperties"), dict)
    )


def _replaced(content: dict[str, Any]) -> Fix:
    def change(mended: dict[str, Any]) -> None:
        mended.clear()
        mended.update(content)

    return change


def _added(schemas: dict[str, Any]) -> Fix:
    def change(mended: dict[str, Any]) -> None:
        mended.update(schemas)

    return change
