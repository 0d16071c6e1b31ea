"""Fork safety: a forked child starts with fresh locks, whatever the parent's other threads held.

``os.fork()`` copies the whole memory but only the thread that forks. A lock that another thread
held at that moment (say, during a login) stays held in the child, with no thread left to release
it: the child's first call would wait forever. Every object of this package that owns a lock
registers it with `renew_after_fork`; in a forked child each registered attribute is replaced by a
fresh value. `after_fork_in_child` runs any other repair a child needs (a generated client drops
the httpx clients it built, whose pooled sockets it shares with the parent: see `._pools`).
Nothing else changes: the token, the counters and the store stay as the parent left them, so a
pre-fork server's workers keep using the parent's token instead of logging in each.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

# id(ref) -> (a weak reference to the owner, what to do with it in a forked child).
_AFTER_FORK: dict[int, tuple[weakref.ref[Any], Callable[[Any], None]]] = {}

Owner = TypeVar("Owner")


def after_fork_in_child(owner: Owner, action: Callable[[Owner], None]) -> None:
    """In a forked child, call ``action(owner)`` (while ``owner`` lives; ``action`` must not hold it)."""

    def forget(ref: weakref.ref[Any]) -> None:
        _AFTER_FORK.pop(id(ref), None)

    ref = weakref.ref(owner, forget)
    _AFTER_FORK[id(ref)] = (ref, action)


def renew_after_fork(owner: object, **factories: Callable[[], object]) -> None:
    """In a forked child, set ``owner.<name> = factory()`` for each of ``factories`` (while ``owner`` lives)."""

    def renew(fresh: object) -> None:
        for name, factory in factories.items():
            setattr(fresh, name, factory())

    after_fork_in_child(owner, renew)


def _in_child() -> None:
    for ref, action in list(_AFTER_FORK.values()):
        owner = ref()
        if owner is not None:
            action(owner)


if hasattr(os, "register_at_fork"):  # absent where there is no fork (Windows)
    os.register_at_fork(after_in_child=_in_child)
