"""Immutable value classes built by hand: importing a client must stay as cheap as importing a stock one.

attrs writes and compiles the methods of each class it builds, about 0.6 ms per class at import
time; the runtime's seven value classes cost more than the rest of it together. A subclass of
`Value` lists its fields in ``__slots__`` and sets them in ``__init__`` with `Value._init`; it is
then frozen, compared and hashed by its fields in order, copied and pickled like any value, and
shown by ``__repr__`` with the field renderers of ``_repr_fields`` (a renderer of None hides the
field: tokens and passwords never reach a repr).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, NoReturn, cast

__all__ = ["Value"]


class Value:
    """Frozen, equal by fields, hashable, and shown without secrets (see the module)."""

    __slots__ = ()
    _repr_fields: ClassVar[Mapping[str, Callable[[Any], str] | None]] = {}
    """Field → how ``repr()`` shows it; a field missing here is shown with ``repr``, None hides it."""

    def _init(self, **fields: object) -> None:
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    def _names(self) -> tuple[str, ...]:
        # Every subclass lists its fields in __slots__ (the base's own is empty).
        return cast(tuple[str, ...], type(self).__slots__)

    def _fields(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self._names())

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"{type(self).__name__} is immutable: build a new one instead of setting {name!r}")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"{type(self).__name__} is immutable: {name!r} cannot be deleted")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Value) or type(other) is not type(self):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash((type(self).__qualname__, *self._fields()))

    def __repr__(self) -> str:
        shown: list[str] = []
        for name in self._names():
            render = self._repr_fields.get(name, repr)
            if render is not None:
                shown.append(f"{name}={render(getattr(self, name))}")
        return f"{type(self).__name__}({', '.join(shown)})"

    def __getstate__(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self._names()}

    def __setstate__(self, state: dict[str, object]) -> None:
        self._init(**state)
