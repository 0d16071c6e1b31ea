"""The Redis connections of a fleet's shared parts: bounded clients, one async client per event loop, health.

`RedisBackend` builds (or takes) the sync and async redis-py clients and holds the `FailOpen` of the
Redis they talk to. Clients built from a URL are bounded: ``socket_timeout`` and
``socket_connect_timeout`` are the backend's ``timeout`` (`REDIS_TIMEOUT_SECONDS`), and they retry
once, at once, only a dropped connection (a restarted server), never a timeout (that would double the
wait on a stalled server). ``redis.asyncio`` clients belong to the event loop that first used them,
so there is one per running loop (those of closed loops are forgotten); a forked child starts without
any (redis-py's pools themselves reconnect in a child: they check the pid).

Callers see the clients through `Commands` and `AsyncCommands`, the few commands they use, typed.
redis is imported here only inside functions: the module loads with the store, never before.
"""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Protocol, cast

from ._fail_open import FailOpen
from ._fork import renew_after_fork

if TYPE_CHECKING:
    import asyncio

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
        self._async_clients: dict[asyncio.AbstractEventLoop, AsyncCommands] = {}
        self._async_lock = threading.Lock()
        # A forked child must not talk over its parent's sockets, nor its parent's event loops.
        renew_after_fork(self, _async_clients=dict, _async_lock=threading.Lock)

    def _options(self) -> dict[str, Any]:
        from redis.backoff import NoBackoff
        from redis.exceptions import ConnectionError as DroppedConnection

        return {
            "socket_timeout": self.timeout,
            "socket_connect_timeout": self.timeout,
            "health_check_interval": 0,  # no extra PING round trip: a dead connection fails the command
            "retry_parts": (NoBackoff(), 1, (DroppedConnection,)),
        }

    def _sync_from_url(self, url: str) -> Commands:
        import redis
        from redis.retry import Retry

        options = self._options()
        backoff, retries, errors = options.pop("retry_parts")
        client: object = redis.Redis.from_url(  # pyright: ignore[reportUnknownMemberType]  # untyped **kwargs
            url, retry=Retry(backoff, retries, supported_errors=errors), **options
        )
        return cast("Commands", client)

    def async_client(self) -> AsyncCommands | None:
        """The async client of the running loop (redis.asyncio clients are bound to one loop)."""
        if self.given_async is not None or self.url is None:
            return self.given_async
        import asyncio

        loop = asyncio.get_running_loop()
        with self._async_lock:
            client = self._async_clients.get(loop)
            if client is None:
                # Forget the clients of closed loops (e.g. one asyncio.run() per test) so none piles up.
                self._async_clients = {key: value for key, value in self._async_clients.items() if not key.is_closed()}
                client = self._async_clients[loop] = self._async_from_url(self.url)
            return client

    def _async_from_url(self, url: str) -> AsyncCommands:
        import redis.asyncio
        from redis.asyncio.retry import Retry

        options = self._options()
        backoff, retries, errors = options.pop("retry_parts")
        client: object = redis.asyncio.Redis.from_url(  # pyright: ignore[reportUnknownMemberType]  # untyped **kwargs
            url, retry=Retry(backoff, retries, supported_errors=errors), **options
        )
        return cast("AsyncCommands", client)

    def close(self) -> None:
        """Close the sync client built from the url (a client handed in is its owner's to close)."""
        if self.url is not None and self.client is not None:
            self.client.close()

    async def aclose(self) -> None:
        """Close the running loop's async client (call before the loop ends, to free its sockets)."""
        import asyncio

        with self._async_lock:
            client = self._async_clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()
