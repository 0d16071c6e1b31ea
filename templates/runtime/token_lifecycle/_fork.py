"""Fork safety: a forked child starts with fresh locks, whatever the parent's other threads held.

``os.fork()`` copies the whole memory but only the thread that forks. A lock that another thread
held at that moment (say, during a login) stays held in the child, with no thread left to release
it: the child's first call would wait forever. Every object of this package that owns a lock
registers it with `renew_after_fork`; in a forked child each registered attribute is replaced by a
fresh value. Nothing else changes: the token, the counters and the store stay as the parent left
them, so a pre-fork server's workers keep using the parent's token instead of logging in each.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable
from typing import Any

# id(ref) -> (a weak reference to the owner, attribute name -> factory of its fresh value).
_RENEWALS: dict[int, tuple[weakref.ref[Any], dict[str, Callable[[], object]]]] = {}


def renew_after_fork(owner: object, **factories: Callable[[], object]) -> None:
    """In a forked child, set ``owner.<name> = factory()`` for each of ``factories`` (while ``owner`` lives)."""

    def forget(ref: weakref.ref[Any]) -> None:
        _RENEWALS.pop(id(ref), None)

    ref = weakref.ref(owner, forget)
    _RENEWALS[id(ref)] = (ref, factories)


def _renew_in_child() -> None:
    for ref, factories in list(_RENEWALS.values()):
        owner = ref()
        if owner is not None:
            for name, factory in factories.items():
                setattr(owner, name, factory())


if hasattr(os, "register_at_fork"):  # absent where there is no fork (Windows)
    os.register_at_fork(after_in_child=_renew_in_child)
