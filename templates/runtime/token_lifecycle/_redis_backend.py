"""The Redis connections of a fleet's shared parts: bounded clients, and the health of the Redis behind them.

`RedisBackend` builds (or takes) the sync and async redis-py clients and holds the `FailOpen` of the
Redis they talk to. Clients built from a URL are bounded: ``socket_timeout`` and
``socket_connect_timeout`` are the backend's ``timeout`` (`REDIS_TIMEOUT_SECONDS`), and they retry
once, at once, only a dropped connection (a restarted server), never a timeout (that would double the
wait on a stalled server). The sync client pools its connections (redis-py's pool checks the pid, so
a forked child opens its own). A ``redis.asyncio`` connection belongs to the event loop that opened
it, so async operations each use a fresh client, closed when the operation ends (`async_session`).

Callers see the clients through `Commands` and `AsyncCommands`, the few commands they use, typed.
redis is imported here only inside functions: the module loads with the store, never before.
"""

from __future__ import annotations

import contextlib
import urllib.parse
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol, cast

from ._fail_open import FailOpen

if TYPE_CHECKING:
    import redis
    import redis.asyncio


class Commands(Protocol):
    """The sync redis-py commands the fleet's parts use."""

    def set(self, name: str, value: bytes | str, *, nx: bool = ..., px: int | None = ...) -> object: ...

    def eval(self, script: str, numkeys: int, *keys_and_args: str) -> object: ...

    def delete(self, *names: str) -> object: ...

    def close(self) -> None: ...


class AsyncCommands(Protocol):
    """The ``redis.asyncio`` commands the fleet's parts use."""

    def set(self, name: str, value: bytes | str, *, nx: bool = ..., px: int | None = ...) -> Awaitable[object]: ...

    def eval(self, script: str, numkeys: int, *keys_and_args: str) -> Awaitable[object]: ...

    def delete(self, *names: str) -> Awaitable[object]: ...

    def aclose(self) -> Awaitable[None]: ...


def masked_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for reprs and log lines)."""
    parts = urllib.parse.urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at:
        return url
    user, colon, _ = userinfo.partition(":")
    # A lone user part is masked too: some write the password there (redis://secret@host).
    shown = f"{user}:***" if colon else "***"
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{shown}@{host}"))


def bounded_options(timeout: float, retry_class: Callable[..., object]) -> dict[str, Any]:
    """redis-py client options that bound every command (the store's and the limiter's clients alike).

    Connect and answer each within ``timeout``; a dropped connection (a restarted server) is retried
    once, at once, by ``retry_class`` (redis-py's sync or asyncio ``Retry``); a timeout never is, which
    would double the wait on a stalled server.
    """
    from redis.backoff import NoBackoff
    from redis.exceptions import ConnectionError as DroppedConnection

    return {
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "health_check_interval": 0,  # no extra PING round trip: a dead connection fails the command
        "retry": retry_class(NoBackoff(), 1, supported_errors=(DroppedConnection,)),
    }


class RedisBackend:
    """One Redis as this process sees it: its clients and its health (see the module docstring)."""

    def __init__(
        self,
        url: str | None,
        client: redis.Redis | None,
        async_client: redis.asyncio.Redis | None,
        *,
        timeout: float,
        recheck: float,
        what: str,
    ) -> None:
        import redis.exceptions

        self.url = url
        self.timeout = timeout
        #: What a failed or timed-out command raises (redis-py wraps most socket errors, not all).
        self.errors: tuple[type[BaseException], ...] = (redis.exceptions.RedisError, OSError)
        self.client: Commands | None = None
        if client is not None:
            self.client = cast("Commands", client)
        elif url is not None:
            self.client = self._sync_from_url(url)
        self.given_async: AsyncCommands | None = None if async_client is None else cast("AsyncCommands", async_client)
        self.health = FailOpen(what, recheck=recheck)

    def _sync_from_url(self, url: str) -> Commands:
        import redis
        from redis.retry import Retry

        client: object = redis.Redis.from_url(  # pyright: ignore[reportUnknownMemberType]  # untyped **kwargs
            url, **bounded_options(self.timeout, Retry)
        )
        return cast("Commands", client)

    @property
    def has_async(self) -> bool:
        """Whether async callers can await Redis (a url, or an async client handed in)."""
        return self.given_async is not None or self.url is not None

    @contextlib.asynccontextmanager
    async def async_session(self) -> AsyncGenerator[AsyncCommands, None]:
        """An async client for one operation: the one handed in, else a fresh one closed right after.

        A fresh connection per operation costs a connect, but the store only talks to Redis around a
        login; in exchange no connection outlives the event loop that opened it (each ``asyncio.run()``
        would otherwise leave one behind, unclosed).
        """
        if self.given_async is not None:
            yield self.given_async
            return
        if self.url is None:
            raise RuntimeError("no async Redis client: give a url or an async_client")
        client = self._async_from_url(self.url)
        try:
            yield client
        finally:
            await client.aclose()

    def _async_from_url(self, url: str) -> AsyncCommands:
        import redis.asyncio
        from redis.asyncio.retry import Retry

        client: object = redis.asyncio.Redis.from_url(  # pyright: ignore[reportUnknownMemberType]  # untyped **kwargs
            url, **bounded_options(self.timeout, Retry)
        )
        return cast("AsyncCommands", client)

    def close(self) -> None:
        """Close the sync client built from the url (a client handed in is its owner's to close)."""
        if self.url is not None and self.client is not None:
            self.client.close()
