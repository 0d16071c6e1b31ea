"""The httpx clients a generated client builds for itself: bound to one event loop, never shared with a fork.

httpx's pooled connections belong to the process and the event loop that opened them. A forked child
that used its parent's pool would read the parent's answers (and the other way round); an
``AsyncClient`` used on a second ``asyncio.run()`` fails with "Event loop is closed". `BuiltClients`
remembers which httpx clients a generated ``Client`` built itself, and which event loop its async one
serves, so that the client can build a fresh one where the old one would not work. Clients handed to
a generated client (``set_httpx_client``) are the user's and are never replaced.

Nothing is closed here: closing could write to the parent's connections, or to a loop that is gone.
"""

from __future__ import annotations

import weakref
from typing import Any, TypeVar

import httpx

HttpxClient = TypeVar("HttpxClient", httpx.Client, httpx.AsyncClient)


def running_loop() -> Any:
    """The running asyncio event loop, or None outside one (asyncio imported only when needed)."""
    import asyncio

    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class BuiltClients:
    """The httpx clients one generated client built itself, and the event loop its async one serves."""

    __slots__ = ("_built", "_loop")

    def __init__(self) -> None:
        self._built: weakref.WeakSet[httpx.Client | httpx.AsyncClient] = weakref.WeakSet()
        self._loop: weakref.ref[Any] | None = None

    def built(self, client: HttpxClient) -> HttpxClient:
        """Remember ``client`` as built by the generated client (an async one: bound to the running loop)."""
        self._built.add(client)
        if isinstance(client, httpx.AsyncClient):
            loop = running_loop()  # None outside a loop: bound by the first event loop that uses it
            self._loop = None if loop is None else weakref.ref(loop)
        return client

    def owns(self, client: object) -> bool:
        """Whether ``client`` was built here (so a forked child drops it), not handed in by the user."""
        return client in self._built

    def fits_running_loop(self, client: httpx.AsyncClient) -> bool:
        """Whether ``client`` may serve the running event loop (binding it to that loop on first use).

        A client handed in by the user always fits: it is used as it is.
        """
        if client not in self._built:
            return True
        loop = running_loop()
        if loop is None:
            return True  # asked for outside a loop: bound by the first loop that uses it
        if self._loop is None:
            self._loop = weakref.ref(loop)
            return True
        return self._loop() is loop
