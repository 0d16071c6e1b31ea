"""Waiting for a lock, always with a bound: the helpers the sync and async drivers of `._auth` share.

Every wait for another caller's login ends by a deadline (``TokenLifecycle.login_wait``); a
non-blocking take never waits at all. asyncio is imported only where an async flow needs it, so a
sync-only client does not pay for importing it.
"""

from __future__ import annotations

import contextlib
import math
import sys
import threading
import time
from collections.abc import AsyncGenerator, Generator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncio


def may_block_here() -> bool:
    """Whether a sync flow may wait for the store's lock: not on a thread that runs an event loop.

    A sync client called from async code would otherwise wait for a login that its own (blocked)
    loop holds the lock for: it logs in without the lock instead.
    """
    if "asyncio" not in sys.modules:
        return True  # never imported, so no loop runs anywhere (and importing it costs ~10 ms)
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return True
    return False


def cancellation() -> BaseException | None:
    """A CancelledError when the current asyncio task is being cancelled, else None."""
    import asyncio

    try:
        task = asyncio.current_task()
    except RuntimeError:
        return None
    return asyncio.CancelledError() if task is not None and task.cancelling() else None


@contextlib.contextmanager
def held(lock: threading.Lock, *, blocking: bool, deadline: float = math.inf) -> Generator[bool, None, None]:
    """Hold ``lock`` (yield False at once if non-blocking and busy, or busy until ``deadline``)."""
    timeout = -1.0 if not blocking or deadline == math.inf else max(0.0, deadline - time.monotonic())
    if not lock.acquire(blocking=blocking, timeout=timeout):
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


@contextlib.asynccontextmanager
async def async_held(lock: asyncio.Lock, *, blocking: bool, deadline: float = math.inf) -> AsyncGenerator[bool, None]:
    """Hold ``lock`` (yield False at once if non-blocking and busy, or busy until ``deadline``)."""
    if not blocking and lock.locked():
        yield False
        return
    if lock.locked() and deadline != math.inf:
        import asyncio  # only async users pay for importing asyncio (import time of the client)

        try:
            await asyncio.wait_for(lock.acquire(), max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            got = False
        else:
            got = True
    else:
        await lock.acquire()  # a free lock is taken without suspending; a busy one is waited for
        got = True
    if not got:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()
