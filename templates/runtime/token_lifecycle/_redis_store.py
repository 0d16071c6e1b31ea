"""A token shared by every process of a fleet, on any number of hosts, through Redis.

`RedisTokenStore` is a `TokenStore` (and an `AsyncTokenStore`, on ``redis.asyncio``). Each lifecycle
binds it to its subject (``user@base_url``, or the OAuth2 client id), which names two keys:

- ``{namespace}:token:{sha256(subject)[:32]}`` holds the token as JSON (the `FileTokenStore` form:
  version, token, wall-clock expiry and issue time, subject; never a password), with a Redis TTL that
  ends with the token;
- ``...:lock`` is the single flight of logins of the whole fleet: ``SET NX PX lease`` with a random
  owner, given back by a compare-and-delete script (only its owner deletes it). A holder that dies or
  hangs loses the lock when the lease runs out; waiters give up earlier anyway (``login_wait``) and
  log in without it.

A rejected token is compare-and-invalidated (`discard`): deleted only if it is still the stored one,
so a process that saw a 401 late never deletes the token another process has just obtained.

Expiry travels skew-free: a reader takes the remaining lifetime from Redis's own TTL (``PTTL``), not
from the writer's wall clock, so hosts whose clocks disagree still agree on when the token expires.

Failing open (`FailOpen`): every Redis command is bounded by ``timeout`` (connect and answer, no retry
but one reconnect after a dropped connection); an error or a timeout logs one WARNING per outage and
the store then keeps tokens in this process only (a `MemoryTokenStore` and its lock) until the
recheck time, when the next operation tries Redis again. Every save also goes to that memory copy,
so the lifecycles of this process still share a token during an outage. A call therefore waits on
Redis at most one command's bound per store operation, and only until the outage is noticed.

redis is an optional extra (``[redis]``): it is imported when a store is built, never before.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
import threading
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from typing import TYPE_CHECKING, cast

from ._auth import LOGIN_WAIT_MARGIN_SECONDS
from ._fail_open import REDIS_TIMEOUT_SECONDS, REMOTE_RECHECK_SECONDS
from ._fork import renew_after_fork
from ._keeper import LOGIN_TIMEOUT_SECONDS
from ._redis_backend import AsyncCommands, Commands, RedisBackend, masked_url
from ._stores import MemoryTokenStore, StoredToken, decode_stored_token, encode_stored_token

if TYPE_CHECKING:
    import redis
    import redis.asyncio

#: The prefix of every key: change it to keep two deployments apart on one Redis.
DEFAULT_NAMESPACE = "bearer-codegen"

#: Seconds the fleet's login lock lives unless given back: one legitimate login (each phase bounded by
#: `LOGIN_TIMEOUT_SECONDS`: connection, then answer) plus a margin, like the lifecycle's ``login_wait``.
#: A holder that dies holds the fleet back at most this long.
DEFAULT_LEASE_SECONDS = 2 * LOGIN_TIMEOUT_SECONDS + LOGIN_WAIT_MARGIN_SECONDS

#: Seconds between two tries of a busy lock when a caller asks for a blocking ``lock()`` itself.
LOCK_POLL_SECONDS = 0.05

#: Hex characters of sha256(subject) in a key: keys never show a user name, and never collide.
KEY_HASH_CHARS = 32

#: The token and its remaining life by Redis's clock, in one round trip.
_LOAD = "return {redis.call('get', KEYS[1]), redis.call('pttl', KEYS[1])}"

#: Only the owner deletes the lock: a holder whose lease ran out must not free its successor's lock.
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"

#: Compare-and-invalidate: delete the stored token only if it is still the rejected one (garbage too).
_DISCARD = """
local value = redis.call('get', KEYS[1])
if not value then return 0 end
local ok, stored = pcall(cjson.decode, value)
if ok and type(stored) == 'table' and stored['token'] ~= ARGV[1] then return 0 end
return redis.call('del', KEYS[1])
"""

_logger = logging.getLogger(__name__)


def _key_of(namespace: str, subject: str) -> str:
    digest = hashlib.sha256(subject.encode("utf-8")).hexdigest()[:KEY_HASH_CHARS]
    return f"{namespace}:token:{digest}"


class RedisTokenStore:
    """Share one token per subject across a fleet through Redis; fail open to memory (module docstring).

    Give ``url`` (``redis://[:password@]host:port/db``, ``rediss://`` for TLS) and the store builds
    its clients with ``socket_timeout = socket_connect_timeout = timeout`` (`._redis_backend`); or
    give your own ``client`` (sync) and ``async_client`` (one event loop only), whose timeouts are then
    yours to bound. With ``client`` alone the async flow calls it (blocking, within its timeouts); with
    ``async_client`` alone the sync flow keeps tokens in its process only. ``lease`` is the life of
    the fleet's login lock; ``recheck`` the seconds without Redis after a failure; ``namespace``
    prefixes every key. One store serves every user: each lifecycle takes its subject's `bound` view.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        client: redis.Redis | None = None,
        async_client: redis.asyncio.Redis | None = None,
        namespace: str = DEFAULT_NAMESPACE,
        timeout: float = REDIS_TIMEOUT_SECONDS,
        lease: float = DEFAULT_LEASE_SECONDS,
        recheck: float = REMOTE_RECHECK_SECONDS,
    ) -> None:
        if (url is None) == (client is None and async_client is None):
            raise ValueError("give a Redis url, or a client (and/or an async_client), not both")
        if not (timeout > 0 and lease > 0 and recheck >= 0):
            raise ValueError("timeout and lease must be > 0 seconds, recheck >= 0")
        self._url = url
        self.namespace = namespace
        self.lease = float(lease)
        what = f"the token store {self!r}"
        self._backend = RedisBackend(url, client, async_client, timeout=timeout, recheck=recheck, what=what)
        self._bind("")

    def _bind(self, subject: str) -> None:
        self._subject = subject
        self.key = _key_of(self.namespace, subject)
        self.lock_key = f"{self.key}:lock"
        # This process's copy, used while Redis is down; written through on every save.
        self._memory = MemoryTokenStore()
        self._views: dict[str, RedisTokenStore] = {}
        self._views_lock = threading.Lock()
        renew_after_fork(self, _views_lock=threading.Lock)

    def bound(self, subject: str) -> RedisTokenStore:
        """The store of ``subject`` (same Redis, same health): its own key, lock and memory copy."""
        with self._views_lock:
            view = self._views.get(subject)
            if view is None:
                view = object.__new__(type(self))  # a subclass's views are of that subclass
                view._url, view.namespace, view.lease, view._backend = (
                    self._url,
                    self.namespace,
                    self.lease,
                    self._backend,
                )
                view._bind(subject)
                self._views[subject] = view
            return view

    def __repr__(self) -> str:
        where = "client" if self._url is None else repr(masked_url(self._url))
        return f"RedisTokenStore({where}, namespace={self.namespace!r})"

    @property
    def fell_back(self) -> bool:
        """Whether Redis is failing right now (the store then keeps tokens in this process only)."""
        return self._backend.health.down

    def close(self) -> None:
        """Close the sync client's connections (a store built from a url; a given client is yours)."""
        self._backend.close()

    # -- helpers shared by both sides -------------------------------------------------------------

    def _command(self, run: Callable[[Commands], object]) -> tuple[bool, object]:
        """Run one command: (True, its answer), or (False, None) when Redis is down (memory then)."""
        backend = self._backend
        if backend.client is None or not backend.health.usable():
            return False, None
        try:
            answer = run(backend.client)
        except backend.errors as exc:
            backend.health.failed(exc)
            return False, None
        backend.health.succeeded()
        return True, answer

    async def _acommand(self, run: Callable[[AsyncCommands], Awaitable[object]]) -> tuple[bool, object]:
        """`_command`, awaited on a ``redis.asyncio`` client."""
        backend = self._backend
        if not backend.health.usable():
            return False, None
        try:
            async with backend.async_session() as client:
                answer = await run(client)
        except backend.errors as exc:
            backend.health.failed(exc)
            return False, None
        backend.health.succeeded()
        return True, answer

    def _read(self, answer: object) -> tuple[StoredToken | None, bool]:
        """The token of a `_LOAD` answer (its times on this host's clock), and whether to delete it."""
        reply = cast("list[object]", answer) if isinstance(answer, list) else []
        raw, pttl = (reply[0], reply[1]) if len(reply) == 2 else (None, None)
        if not isinstance(raw, bytes):
            return None, False
        decoded = decode_stored_token(raw)
        if isinstance(decoded, str):
            _logger.warning("the token store %r %s; discarded, logging in instead", self, decoded)
            return None, True
        if decoded is None or decoded.subject != self._subject:
            return None, False
        if not isinstance(pttl, int) or pttl < 0:
            return decoded, False  # no TTL (written by hand): the wall-clock expiry as stored
        # Skew-free: the remaining life by Redis's clock, placed on this host's wall clock.
        expires = time.time() + pttl / 1000
        obtained = decoded.obtained_at_wall
        if obtained is not None:
            obtained = expires - (decoded.expires_at_wall - obtained)
        return StoredToken(decoded.token, expires, obtained, decoded.subject), False

    def _ttl_ms(self, token: StoredToken) -> int:
        return int((token.expires_at_wall - time.time()) * 1000)

    # -- TokenStore ------------------------------------------------------------------------------

    def load(self) -> StoredToken | None:
        """The subject's token from Redis (from this process's copy while Redis is down)."""
        worked, answer = self._command(lambda client: client.eval(_LOAD, 1, self.key))
        if not worked:
            return self._memory.load()
        stored, delete = self._read(answer)
        if delete:
            self._command(lambda client: client.delete(self.key))
        return stored

    def save(self, token: StoredToken) -> None:
        """Store ``token`` until it expires (here and in this process's copy)."""
        self._memory.save(token)
        ttl = self._ttl_ms(token)
        if ttl > 0:
            self._command(lambda client: client.set(self.key, encode_stored_token(token), px=ttl))

    def clear(self) -> None:
        """Forget the subject's token, whoever stored it."""
        self._memory.clear()
        self._command(lambda client: client.delete(self.key))

    def discard(self, token: str) -> None:
        """Forget the stored token only if it is still ``token`` (compare-and-invalidate, one script)."""
        self._memory.discard(token)
        self._command(lambda client: client.eval(_DISCARD, 1, self.key, token))

    @contextlib.contextmanager
    def lock(self, *, blocking: bool = True) -> Generator[bool, None, None]:
        """Hold the fleet's login lock for at most the lease (blocking: wait up to one lease for it)."""
        owner, deadline, lease_ms = secrets.token_hex(16), time.monotonic() + self.lease, int(self.lease * 1000)
        while True:
            worked, got = self._command(lambda client: client.set(self.lock_key, owner, nx=True, px=lease_ms))
            if not worked:
                with self._memory.lock(blocking=blocking) as held:
                    yield held
                return
            if got:
                break
            if not blocking or time.monotonic() >= deadline:
                yield False
                return
            time.sleep(LOCK_POLL_SECONDS)
        try:
            yield True
        finally:
            # Failing here leaves the lock to its lease.
            self._command(lambda client: client.eval(_RELEASE, 1, self.lock_key, owner))

    # -- AsyncTokenStore -------------------------------------------------------------------------

    async def aload(self) -> StoredToken | None:
        """`load`, awaited on ``redis.asyncio``."""
        if not self._backend.has_async:
            return self.load()
        worked, answer = await self._acommand(lambda client: client.eval(_LOAD, 1, self.key))
        if not worked:
            return self._memory.load()
        stored, delete = self._read(answer)
        if delete:
            await self._acommand(lambda client: client.delete(self.key))
        return stored

    async def asave(self, token: StoredToken) -> None:
        """`save`, awaited on ``redis.asyncio``."""
        if not self._backend.has_async:
            return self.save(token)
        self._memory.save(token)
        ttl = self._ttl_ms(token)
        if ttl > 0:
            await self._acommand(lambda client: client.set(self.key, encode_stored_token(token), px=ttl))
        return None

    async def adiscard(self, token: str) -> None:
        """`discard`, awaited on ``redis.asyncio``."""
        if not self._backend.has_async:
            return self.discard(token)
        self._memory.discard(token)
        await self._acommand(lambda client: client.eval(_DISCARD, 1, self.key, token))
        return None

    @contextlib.asynccontextmanager
    async def alock(self, *, blocking: bool = True) -> AsyncGenerator[bool, None]:
        """`lock` on ``redis.asyncio``: a busy lock is polled with ``asyncio.sleep``, never blocking the loop.

        While Redis is down the memory lock is only tried (the flow polls it anyway).
        """
        if not self._backend.has_async:
            with self.lock(blocking=False) as held:  # polled by the flow: never blocks the loop
                yield held
            return
        import asyncio

        owner, deadline, lease_ms = secrets.token_hex(16), time.monotonic() + self.lease, int(self.lease * 1000)
        while True:
            worked, got = await self._acommand(lambda client: client.set(self.lock_key, owner, nx=True, px=lease_ms))
            if not worked:
                with self._memory.lock(blocking=False) as held:
                    yield held
                return
            if got:
                break
            if not blocking or time.monotonic() >= deadline:
                yield False
                return
            await asyncio.sleep(LOCK_POLL_SECONDS)
        try:
            yield True
        finally:
            await self._acommand(lambda client: client.eval(_RELEASE, 1, self.lock_key, owner))
