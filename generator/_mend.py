"""Mend what real documents get wrong (or right, in ways openapi-python-client cannot follow): a copy and warnings.

Real API descriptions are sloppy in a few recurring ways that openapi-python-client either
refuses or models wrongly, although the intent is plain. Each is mended here, in a **copy** of
the document (the loaded one is never changed), with a warning naming its JSON pointer:

- a ``default`` that does not fit its schema (``default: null`` on a non-nullable integer, a string
  on an integer, a value outside the enum) is dropped;
- enum values that would become one Python member get distinct names (see :mod:`._enum_names`),
  handed to openapi-python-client as ``x-enum-varnames``; so do ``x-enum-varnames`` entries that
  are no Python name;
- an array without ``items`` (valid in OpenAPI 3.1) gets ``items: {}``, a list of anything;
- component schemas whose ``title`` gives two of them one class name lose the title, so the class
  is named after the component's key (openapi-python-client would generate one class, then fail on
  every reference to the other with "Could not find reference");
- a union (``anyOf``/``oneOf``) whose arms are all arrays (or ``null``) becomes one array whose
  items are the union of the arms' items: openapi-python-client tells its arms apart by
  ``isinstance(value, list)``, true of each, so it applied the first arm's item code to all;
- a schema ``$ref`` to anything but ``#/components/schemas/<name>`` (into an ``allOf`` member, a
  property, ...) is replaced by what it points to; openapi-python-client only follows references
  to components, and reported each such reference on every operation that used it.

Under ``strict``, what is a defect of the document (a bad default, enum names that clash, a 3.0
array without ``items``, a union of arrays) is an error instead, and nothing is mended.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, cast

from openapi_python_client.strings import ClassName

from ._array_unions import arrays_only, merge_arrays
from ._document import MAX_DEPTH, Document, height, target
from ._enum_names import plan_members
from ._fixed_copy import Fix, copy_fixed
from ._jsonish import as_list, as_mapping
from ._pointer import join_pointer, split_ref
from ._problems import Problem, Severity

__all__ = ["mend_document", "schema_nodes"]


_SCHEMA_ONE = (
    "items",
    "additionalProperties",
    "not",
    "contains",
    "if",
    "then",
    "else",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "additionalItems",
    "contentSchema",
)
_SCHEMA_LIST = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_MAP = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_NOT_DOCUMENT = ("example", "examples", "default", "enum", "const")
"""Keys whose values are data, not parts of the description."""
_QUOTE_CHARS = 60


def schema_nodes(document: Document) -> Iterator[tuple[str, dict[str, Any]]]:
    """(pointer, node) of every schema object of the document, each (shared) node once, references not followed.

    Schemas are what ``components/schemas`` holds, what any ``schema`` field holds (parameters,
    media types, headers), and the subschemas of those.
    """
    stack: list[tuple[str, object, bool]] = [("", document, False)]
    seen: set[int] = set()
    while stack:
        pointer, node, is_schema = stack.pop()
        identity = id(node)
        if identity in seen or not isinstance(node, dict | list):
            continue
        seen.add(identity)
        children: list[tuple[str, object, bool]] = []
        if isinstance(node, list):
            if not is_schema:
                children = [
                    (join_pointer(pointer, i), item, False) for i, item in enumerate(as_list(cast(object, node)))
                ]
        elif is_schema:
            yield pointer, cast(dict[str, Any], node)
            children = list(_subschemas(pointer, cast(dict[str, Any], node)))
        else:
            for raw_key, value in cast(dict[object, Any], node).items():
                key = str(raw_key)
                if key in _NOT_DOCUMENT or key.startswith("x-"):
                    continue
                child = join_pointer(pointer, key)
                if key == "schema":
                    children.append((child, value, True))
                elif pointer == "/components" and key == "schemas":
                    children += [(join_pointer(child, str(k)), v, True) for k, v in as_mapping(value).items()]
                else:
                    children.append((child, value, False))
        stack.extend(reversed(children))  # popped in document order


def _subschemas(pointer: str, node: dict[str, Any]) -> Iterator[tuple[str, object, bool]]:
    for key in _SCHEMA_ONE:
        if isinstance(node.get(key), dict):
            yield join_pointer(pointer, key), node[key], True
    for key in _SCHEMA_LIST:
        for index, item in enumerate(as_list(node.get(key))):
            yield join_pointer(pointer, key, index), item, True
    for key in _SCHEMA_MAP:
        for name, item in as_mapping(node.get(key)).items():
            yield join_pointer(pointer, key, str(name)), item, True


def _quote(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= _QUOTE_CHARS else text[: _QUOTE_CHARS - 1] + "…"


class _Mender:
    """Collects fixes (by the id of the node they change) and the problems that explain them."""

    def __init__(self, document: Document, display: str, strict: bool, literal_enums: bool) -> None:
        self.document = document
        self.display = display
        self.strict = strict
        self.literal_enums = literal_enums
        self.v30 = str(document.get("openapi", "")).startswith("3.0.")
        self.fixes: dict[int, list[Fix]] = {}
        self.problems: list[Problem] = []
        self.schemas = list(schema_nodes(document))

    def fix(self, node: dict[str, Any], change: Fix) -> None:
        self.fixes.setdefault(id(node), []).append(change)

    def report(self, pointer: str, message: str, *, defect: bool = True) -> bool:
        """Record a problem; True when the construct is to be mended (it is not, for a defect under strict)."""
        error = defect and self.strict
        self.problems.append(Problem(self.display, pointer, message, Severity.ERROR if error else Severity.WARNING))
        return not error

    def mend(self) -> None:
        for pointer, node, reason in _misfits(self.document, [(p, n) for p, n in self.schemas if "default" in n]):
            if self.report(
                join_pointer(pointer, "default"),
                f"the default {_quote(node['default'])} does not fit its schema ({reason})"
                + ("" if self.strict else "; it is dropped"),
            ):
                self.fix(node, lambda mended: mended.pop("default", None))
        for pointer, node in self.schemas:
            self.items(pointer, node)
            if not self.literal_enums and isinstance(node.get("enum"), list):
                self.enum(pointer, node)
            self.list_unions(pointer, node)
        self.titles()
        self.deep_references()

    def items(self, pointer: str, node: dict[str, Any]) -> None:
        kind = node.get("type")
        is_array = kind == "array" or (isinstance(kind, list) and "array" in cast(list[object], kind))
        if not is_array or "items" in node or "prefixItems" in node or "$ref" in node:
            return
        if self.v30 and not self.report(
            pointer, "an array schema without 'items' (OpenAPI 3.0 requires it); it is generated as a list of anything"
        ):
            return
        self.fix(node, lambda mended: mended.setdefault("items", {}))

    def list_unions(self, pointer: str, node: dict[str, Any]) -> None:
        """A union whose arms are all arrays becomes one array of the union of their items.

        openapi-python-client tells the arms apart by ``isinstance(value, list)``, true of each, so
        it calls the first arm's item methods on items of the others (``str.to_dict``) and cannot
        parse the later arms; ``list[A | B]`` dispatches on each item instead.
        """
        for key in ("anyOf", "oneOf"):
            arms = node.get(key)
            if not isinstance(arms, list) or "discriminator" in node:
                continue
            listed = cast(list[object], arms)
            if not arrays_only(listed):
                continue
            if self.report(
                join_pointer(pointer, key),
                "a union of array types cannot be told apart by their values"
                + ("" if self.strict else "; it is generated as one array whose items are the union of their items"),
            ):
                self.fix(node, merge_arrays(key))

    def enum(self, pointer: str, node: dict[str, Any]) -> None:
        """An empty enum is dropped, a repeated value kept once, members that meet named apart."""
        values = as_list(node["enum"])
        if not values:
            if self.report(
                join_pointer(pointer, "enum"),
                "an empty enum allows no value" + ("" if self.strict else "; it is dropped"),
            ):
                self.fix(node, lambda mended: mended.pop("enum", None))
            return
        kept: dict[str, int] = {}
        repeated = False
        for index, value in enumerate(values):
            first = kept.setdefault(json.dumps(value, sort_keys=True, default=repr), index)
            if first != index:
                repeated = self.report(
                    join_pointer(pointer, "enum", index),
                    f"the enum value {_quote(value)} is listed again (first at index {first})"
                    + ("" if self.strict else "; it is kept once"),
                )
        if repeated:
            self.fix(node, _keep(sorted(kept.values())))
        # openapi-python-client names the non-null values, and reads x-enum-varnames as one name per such value.
        non_null = [index for index in range(len(values)) if values[index] is not None]
        kept_non_null = [index for index in sorted(kept.values()) if values[index] is not None]
        varnames = as_list(node.get("x-enum-varnames"))
        aligned = len(varnames) == len(non_null)
        position = {index: number for number, index in enumerate(non_null)}
        names = [varnames[position[index]] for index in kept_non_null] if aligned else []
        plan = plan_members([values[index] for index in kept_non_null], names)
        if plan is None:
            if aligned and len(kept_non_null) < len(non_null):
                self.fix(node, _set_varnames(names))
            return
        mend = True
        for clash in plan.clashes:
            quoted = " and ".join(map(repr, clash.values))
            mend &= self.report(
                join_pointer(pointer, "enum", kept_non_null[clash.index]),
                f"the enum values {quoted} would {'both' if len(clash.values) == 2 else 'all'} become the member "
                f"{clash.member}"
                + (
                    ", and one would be lost; set x-enum-varnames, or openapi-python-client's literal_enums option"
                    if self.strict
                    else f"; they are generated as {', '.join(clash.names)} (set x-enum-varnames to choose)"
                ),
            )
        for index, name in plan.invalid:
            where = position[kept_non_null[index]]
            mend &= self.report(
                join_pointer(pointer, "x-enum-varnames", where),
                f"{_quote(varnames[where])} is no Python name"
                + ("" if self.strict else f"; the member is generated as {name}"),
            )
        if mend:
            self.fix(node, _set_varnames(plan.names))

    def titles(self) -> None:
        """Component schemas that the ``title`` gives one class name: named after their keys instead."""
        components = as_mapping(as_mapping(self.document.get("components")).get("schemas"))
        by_class: dict[str, list[str]] = {}
        for key, schema in components.items():
            title = as_mapping(schema).get("title")
            by_class.setdefault(_class_name(title if isinstance(title, str) and title else str(key)), []).append(key)
        for name, keys in by_class.items():
            titled = [key for key in keys if "title" in as_mapping(components[key]) and _class_name(key) != name]
            if len(keys) < 2 or not titled:
                continue
            for key in titled:
                self.report(
                    join_pointer("/components/schemas", key, "title"),
                    f"the schemas {', '.join(map(repr, keys))} would all be the class {name} (by title); "
                    f"{key!r} is generated as {_class_name(key)}, after its key",
                    defect=False,
                )
                self.fix(cast(dict[str, Any], components[key]), lambda mended: mended.pop("title", None))

    def deep_references(self) -> None:
        """Schema ``$ref``s to anything but a component schema: replaced by a copy of what they point to."""
        uses: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for pointer, node in self.schemas:
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/") and not _is_component_ref(ref):
                uses.setdefault(ref, []).append((pointer, node))
        if not uses:
            return
        targets: dict[str, dict[str, Any]] = {}
        for ref in uses:
            found = target(self.document, ref)
            if not isinstance(found, str) and isinstance(found[0], dict):
                targets[ref] = cast(dict[str, Any], found[0])
        looping = _looping(targets, uses)
        for ref, places in sorted(uses.items()):
            where = join_pointer(places[0][0], "$ref")
            count = f"{len(places)} references" if len(places) > 1 else "a reference"
            if ref not in targets:
                continue  # not a schema: openapi-python-client reports it
            if ref in looping:
                self.problems.append(
                    Problem(
                        self.display,
                        where,
                        f"{count} to {ref!r}, inside another schema, which refers back to itself through such "
                        "references; openapi-python-client follows only references to components/schemas: "
                        "move that schema to components/schemas",
                    )
                )
                continue
            self.report(
                where,
                f"{count} to {ref!r}, inside another schema: openapi-python-client follows only references to "
                "components/schemas, so a copy of that schema is generated in place of each "
                "(move it to components/schemas for one shared class)",
                defect=False,
            )
            for _, node in places:
                self.fix(node, _inline(self, targets[ref]))


def _misfits(
    document: Document, schemas: list[tuple[str, dict[str, Any]]]
) -> Iterator[tuple[str, dict[str, Any], str]]:
    """(pointer, schema, why) of each schema whose ``default`` does not fit it, as openapi-spec-validator checks it."""
    if not schemas:
        return
    # Imported here: the validators take a fifth of a second to import, and `check --help` needs none.
    from openapi_spec_validator.validation.keywords import (
        OpenAPIV30ValueValidator,
        OpenAPIV31ValueValidator,
    )
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    checker = (
        OpenAPIV30ValueValidator if str(document.get("openapi", "")).startswith("3.0.") else OpenAPIV31ValueValidator
    )
    resolver = Registry[Any]().with_resource("", DRAFT202012.create_resource(document)).resolver(base_uri="")
    for pointer, node in schemas:
        value = node["default"]
        if value is None and node.get("nullable") is True:
            continue
        try:
            validator = checker.value_validator_cls(
                node, _resolver=resolver, format_checker=checker.value_validator_format_checker
            )
            error = next(iter(validator.iter_errors(value)), None)
        except Exception:  # noqa: BLE001, S112 - a schema the validator cannot use: the OpenAPI validation reports it
            continue
        if error is not None:
            yield pointer, node, error.message[: _QUOTE_CHARS * 3]


def _keep(indexes: list[int]) -> Fix:
    def change(mended: dict[str, Any]) -> None:
        values = as_list(mended.get("enum"))
        mended["enum"] = [values[index] for index in indexes]

    return change


def _set_varnames(names: list[object] | list[str]) -> Fix:
    def change(mended: dict[str, Any]) -> None:
        mended["x-enum-varnames"] = list(names)

    return change


def _inline(mender: _Mender, node: dict[str, Any]) -> Fix:
    def change(mended: dict[str, Any]) -> None:
        siblings = {key: value for key, value in mended.items() if key != "$ref"}
        mended.clear()
        mended.update(cast(dict[str, Any], copy_fixed(node, mender.fixes)))
        mended.update(siblings)

    return change


def _class_name(text: str) -> str:
    return str(ClassName(text.rsplit("/", 1)[-1], "field_"))


def _is_component_ref(ref: str) -> bool:
    tokens = split_ref(ref)
    return len(tokens) == 3 and tokens[:2] == ["components", "schemas"]


def _looping(targets: dict[str, dict[str, Any]], uses: dict[str, list[tuple[str, dict[str, Any]]]]) -> set[str]:
    """The targets that contain (without following references) a reference that leads back to them."""
    inside: dict[str, set[str]] = {}
    for ref, node in targets.items():
        inside[ref] = {other for other, places in uses.items() if any(_contains(node, use) for _, use in places)}
    looping: set[str] = set()
    for start in targets:
        frontier, reached = set(inside[start]), set[str]()
        while frontier:
            ref = frontier.pop()
            if ref == start:
                looping.add(start)
                break
            if ref not in reached:
                reached.add(ref)
                frontier |= inside.get(ref, set())
    return looping


def _contains(root: object, needle: object) -> bool:
    stack, seen = [root], set[int]()
    while stack:
        node = stack.pop()
        if node is needle:
            return True
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            stack.extend(as_mapping(cast(object, node)).values())
        elif isinstance(node, list):
            stack.extend(as_list(cast(object, node)))
    return False


def mend_document(
    document: Document, display: str, *, strict: bool = False, literal_enums: bool = False
) -> tuple[Document, list[Problem]]:
    """The mended copy of ``document`` (``document`` itself when nothing needs mending) and the problems found."""
    mender = _Mender(document, display, strict, literal_enums)
    mender.mend()
    if not mender.fixes:
        return document, mender.problems
    # References into other schemas, each copied into the next, can nest past the depth load_document allows.
    too_deep = "the schemas that references into other schemas copy in nest too deeply"
    try:
        mended = cast(Document, copy_fixed(document, mender.fixes))
    except RecursionError:
        return document, [*mender.problems, Problem(display, "", too_deep)]
    levels = height(mended)
    if levels > MAX_DEPTH:
        return document, [*mender.problems, Problem(display, "", f"{too_deep} ({levels} levels; at most {MAX_DEPTH})")]
    return mended, mender.problems
