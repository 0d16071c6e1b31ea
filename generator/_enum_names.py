"""Member names for an enum whose values openapi-python-client would name alike: a readable, stable plan.

openapi-python-client names a string member after its value (``a-b`` → ``A_B``, ``asc`` → ``ASC``)
or after ``x-enum-varnames``; two values that meet become one member and a value is lost (or it
raises on the raw name). Real documents do this (``ASC``/``asc``, ``reactions-+1``/``reactions--1``),
so instead of refusing them, the names are chosen here and handed to openapi-python-client as
``x-enum-varnames`` on a mended copy of the document (see :mod:`._mend`):

- when the values differ only in punctuation, the punctuation that differs is spelled out
  (``reactions-+1`` → ``REACTIONS_PLUS_1``, ``reactions--1`` → ``REACTIONS_MINUS_1``);
- otherwise the first value keeps the name and the others are numbered in document order
  (``ASC``, ``ASC_2``, ``ASC_3``).

The plan is a pure function of the values, so a regeneration gives the same names.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
from openapi_python_client.strings import snake_case

__all__ = ["EnumPlan", "MemberClash", "plan_members", "upstream_member"]

_SPELLED = {
    "+": "PLUS",
    "-": "MINUS",
    ".": "DOT",
    "_": "UNDERSCORE",
    " ": "SPACE",
    "/": "SLASH",
    "\\": "BACKSLASH",
    "*": "STAR",
    "@": "AT",
    "#": "HASH",
    "$": "DOLLAR",
    "%": "PERCENT",
    "&": "AND",
    "=": "EQUALS",
    "<": "LT",
    ">": "GT",
    "!": "BANG",
    "?": "QUESTION",
    "~": "TILDE",
    ":": "COLON",
    ",": "COMMA",
    ";": "SEMICOLON",
    "|": "PIPE",
    "^": "CARET",
}
"""Punctuation spelled out when it is what tells two values apart."""


@attrs.frozen
class MemberClash:
    """Values that would have become one member, and the names they get instead."""

    index: int
    """Index in ``enum`` of the first value that met an earlier one."""
    values: tuple[str, ...]
    member: str
    """The one name openapi-python-client would have given them all."""
    names: tuple[str, ...]


@attrs.frozen
class EnumPlan:
    """The member names to write as ``x-enum-varnames`` (one per value), and why."""

    names: list[str]
    clashes: list[MemberClash]
    invalid: list[tuple[int, str]]
    """(index in ``x-enum-varnames``, the name given) of names that are no Python identifier."""


def _member(raw: str) -> str:
    return snake_case(raw).upper()


def _usable(name: str) -> bool:
    """A member name openapi-python-client keeps as it is (its sanitising leaves it unchanged)."""
    return bool(name) and name.isidentifier() and not name.startswith("_") and _member(name) == name


def upstream_member(value: str | int, index: int, varname: str | None) -> str:
    """The member name openapi-python-client gives ``value`` (the ``index``-th), as ``values_from_list`` does."""
    if varname is not None:
        return _member(varname)
    if isinstance(value, int):
        return f"VALUE_NEGATIVE_{-value}" if value < 0 else f"VALUE_{value}"
    return _member(value.upper()) if value and value[0].isalpha() else f"VALUE_{index}"


def _common_prefix(texts: Sequence[str]) -> str:
    """The longest text every one of ``texts`` starts with."""
    first, last = min(texts), max(texts)
    length = 0
    while length < len(first) and first[length] == last[length]:
        length += 1
    return first[:length]


def _spelled(values: Sequence[str]) -> list[str] | None:
    """Names that spell out the punctuation that tells ``values`` apart; None when that does not part them."""
    prefix = _common_prefix(list(values))
    rest = [value[len(prefix) :] for value in values]
    suffix = _common_prefix([value[::-1] for value in rest])[::-1]
    names: list[str] = []
    for value in rest:
        middle = value[: len(value) - len(suffix)]
        spelled = "".join(f" {_SPELLED[char]} " if char in _SPELLED else char for char in middle)
        names.append(_member(f"{prefix} {spelled} {suffix}".upper()))
    if len(set(names)) != len(names) or not all(map(_usable, names)):
        return None
    return names


def plan_members(values: Sequence[object], varnames: Sequence[object]) -> EnumPlan | None:
    """The names for an enum's (non-null) ``values``; None when openapi-python-client's own are fine.

    ``varnames`` is the schema's ``x-enum-varnames``; like openapi-python-client, it counts only
    when it has one entry per value. Enums other than all-string or all-integer are left alone.
    """
    if not values or len(set(map(repr, values))) != len(values):
        return None
    if not all(isinstance(value, str) for value in values) and not all(
        isinstance(value, int) and not isinstance(value, bool) for value in values
    ):
        return None
    typed = [value for value in values if isinstance(value, str | int)]
    use_varnames = len(varnames) == len(values)
    invalid: list[tuple[int, str]] = []
    members: list[str] = []
    for index, value in enumerate(typed):
        varname = varnames[index] if use_varnames else None
        member = upstream_member(value, index, varname if isinstance(varname, str) else None)
        if use_varnames and not (isinstance(varname, str) and _usable(member)):
            member = upstream_member(value, index, None)
            if not _usable(member):
                member = f"VALUE_{index}"
            invalid.append((index, member))
        elif not _usable(member):
            member = f"VALUE_{index}"
        members.append(member)
    names = list(members)
    clashes: list[MemberClash] = []
    groups: dict[str, list[int]] = {}
    for index, member in enumerate(members):
        groups.setdefault(member, []).append(index)
    taken = set(members)
    for member, indexes in groups.items():
        if len(indexes) < 2:
            continue
        texts = [str(typed[index]) for index in indexes]
        spelled = _spelled(texts) if all(isinstance(typed[i], str) for i in indexes) and not use_varnames else None
        if spelled is not None and not (set(spelled) & (taken - {member})):
            chosen = spelled
        else:
            chosen = [member]
            for _ in indexes[1:]:
                number = 2
                while f"{member}_{number}" in taken or f"{member}_{number}" in chosen:
                    number += 1
                chosen.append(f"{member}_{number}")
        taken |= set(chosen)
        for index, name in zip(indexes, chosen, strict=True):
            names[index] = name
        clashes.append(MemberClash(indexes[1], tuple(texts), member, tuple(chosen)))
    if not clashes and not invalid:
        return None
    return EnumPlan(names, clashes, invalid)
