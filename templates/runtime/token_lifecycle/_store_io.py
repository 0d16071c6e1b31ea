"""The token store's I/O for the two drivers: its steps carried out, its lock polled within a bound.

The steps of `._flow` say what to read and write (`Load`, `Save`, `Discard`); here they meet the
store. The sync driver calls the `TokenStore` methods. The async driver awaits the methods of an
`AsyncTokenStore` when the store is one (`RedisTokenStore`: the event loop never blocks on the
network), and otherwise calls the sync methods, which for memory and a local file are short.

Neither driver ever blocks on the store's lock: both poll its non-blocking form every
`STORE_LOCK_POLL_SECONDS` until the caller's deadline (``login_wait``), because the holder may be
another process that hangs or is stopped; after the deadline the caller logs in without it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncGenerator, Callable, Generator
from typing import cast

from ._flow import Load, Save, StoreStep
from ._keeper import TokenKeeper
from ._stores import AsyncTokenStore, StoredToken

#: Seconds between two tries of a busy store lock (which no driver waits on: its holder may hang).
STORE_LOCK_POLL_SECONDS = 0.05


def _async_side(keeper: TokenKeeper) -> AsyncTokenStore | None:
    store = keeper.store
    return cast("AsyncTokenStore", store) if hasattr(store, "aload") else None


def carry_out(keeper: TokenKeeper, step: StoreStep) -> StoredToken | None:
    """Do ``step`` on the keeper's store; return what `Load` read (None for the others, or on failure)."""
    store = keeper.store
    try:
        if isinstance(step, Load):
            return store.load()
        if isinstance(step, Save):
            store.save(step.token)
        elif (discard := cast("Callable[[str], None] | None", getattr(store, "discard", None))) is not None:
            discard(step.token)
        else:
            store.clear()  # under the store's lock, what a store without compare-and-invalidate can do
    except OSError as exc:
        keeper.store_failed("read" if isinstance(step, Load) else "write", exc)
    return None


async def acarry_out(keeper: TokenKeeper, step: StoreStep) -> StoredToken | None:
    """`carry_out` for the async driver: awaited on an `AsyncTokenStore`, else the sync calls."""
    store = _async_side(keeper)
    if store is None:
        return carry_out(keeper, step)
    try:
        if isinstance(step, Load):
            return await store.aload()
        if isinstance(step, Save):
            await store.asave(step.token)
        else:
            await store.adiscard(step.token)
    except OSError as exc:
        keeper.store_failed("read" if isinstance(step, Load) else "write", exc)
    return None


@contextlib.contextmanager
def sync_store_lock(keeper: TokenKeeper, *, blocking: bool, deadline: float) -> Generator[bool, None, None]:
    """Hold the store's lock, polling its non-blocking form until ``deadline`` (then yield False)."""
    while True:
        with keeper.store.lock(blocking=False) as held:
            if held or not blocking:
                yield held
                return
        if time.monotonic() >= deadline:
            keeper.store_wait_over()
            yield False
            return
        time.sleep(min(STORE_LOCK_POLL_SECONDS, max(0.0, deadline - time.monotonic())))


@contextlib.asynccontextmanager
async def _try_store_lock(keeper: TokenKeeper) -> AsyncGenerator[bool, None]:
    """One non-blocking try of the store's lock: awaited on an `AsyncTokenStore`, else the sync try."""
    store = _async_side(keeper)
    if store is None:
        with keeper.store.lock(blocking=False) as held:
            yield held
    else:
        async with store.alock(blocking=False) as held:
            yield held


@contextlib.asynccontextmanager
async def async_store_lock(keeper: TokenKeeper, *, blocking: bool, deadline: float) -> AsyncGenerator[bool, None]:
    """`sync_store_lock` with ``asyncio.sleep`` between tries, so the event loop never blocks."""
    while True:
        async with _try_store_lock(keeper) as held:
            if held or not blocking:
                yield held
                return
        if time.monotonic() >= deadline:
            keeper.store_wait_over()
            yield False
            return
        import asyncio  # only async users pay for importing asyncio (import time of the client)

        await asyncio.sleep(min(STORE_LOCK_POLL_SECONDS, max(0.0, deadline - time.monotonic())))
