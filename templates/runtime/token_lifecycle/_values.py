"""The base of the runtime's value types: frozen, slotted dataclasses that never show a secret.

Each value type is declared as::

    @immutable
    @dataclasses.dataclass(frozen=True, slots=True)
    class TokenState(Value):
        token: str = dataclasses.field(repr=False)
        ...

The dataclass makes it frozen, compared and hashed by its fields in order, copied and pickled like
any value. `immutable` only rewords the error of an attempted change so that it says what to do.
Secrets are ``field(repr=False)``; a class that shows a secret's stand-in (``password='***'``, a token
fingerprint) writes its ``__repr__`` with `shown`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, NoReturn, TypeVar

ValueType = TypeVar("ValueType", bound="Value")


class Value:
    """The base class of the runtime's value types (see the module docstring)."""

    __slots__ = ()
    __dataclass_fields__: ClassVar[dict[str, Any]]  # set by the dataclass decorator on every subclass


def _refuse_set(self: Value, name: str, value: object) -> NoReturn:
    raise dataclasses.FrozenInstanceError(
        f"{type(self).__name__} is immutable: build a new one instead of setting {name!r}"
    )


def _refuse_delete(self: Value, name: str) -> NoReturn:
    raise dataclasses.FrozenInstanceError(f"{type(self).__name__} is immutable: {name!r} cannot be deleted")


def immutable(cls: type[ValueType]) -> type[ValueType]:
    """Reword a frozen dataclass's refusal to change: ``X is immutable: build a new one ...``."""
    setattr(cls, "__setattr__", _refuse_set)  # noqa: B010 - replacing the dataclass's method is the point
    setattr(cls, "__delattr__", _refuse_delete)  # noqa: B010
    return cls


def shown(value: Value, **stand_ins: str) -> str:
    """Return ``Name(field=..., ...)``: each field's ``repr``, a stand-in for those named, none of the hidden."""
    parts = [
        f"{field.name}={stand_ins[field.name]}"
        if field.name in stand_ins
        else f"{field.name}={getattr(value, field.name)!r}"
        for field in dataclasses.fields(value)
        if field.repr or field.name in stand_ins
    ]
    return f"{type(value).__name__}({', '.join(parts)})"
