"""RedisTokenStore's async side on redis.asyncio, and lifecycles sharing one login through it."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import redis
from token_lifecycle import AsyncTokenStore, ClientCredentials, RedisTokenStore, StoredToken, TokenStore

from tests.redis_server import RedisServer

from ._support import BASE_URL, USERNAME, FakeService, make_lifecycle, sent_token
from .test_redis_store import SUBJECT, Raw, down, token

ITEMS = f"{BASE_URL}/items"


@pytest.fixture
def stores() -> Iterator[Callable[..., RedisTokenStore]]:
    """Build root stores, closed after the test (their sync clients: async ones are closed by the tests)."""
    built: list[RedisTokenStore] = []

    def build(*args: Any, **kwargs: Any) -> RedisTokenStore:
        built.append(RedisTokenStore(*args, **kwargs))
        return built[-1]

    yield build
    for root in built:
        root.close()


class SyncCallsForbidden(RedisTokenStore):
    """A RedisTokenStore whose sync I/O fails the test: the async flow must await the async side."""

    def load(self) -> StoredToken | None:
        raise AssertionError("sync load() on the event loop")

    def save(self, token: StoredToken) -> None:
        raise AssertionError("sync save() on the event loop")

    def discard(self, token: str) -> None:
        raise AssertionError("sync discard() on the event loop")


@pytest.mark.anyio
async def test_async_save_load_discard_and_lock(
    redis_server: RedisServer, stores: Callable[..., RedisTokenStore]
) -> None:
    """The async side reads what the sync side wrote, compare-and-invalidates, and excludes other holders."""
    store = stores(redis_server.url).bound(SUBJECT)
    other = stores(redis_server.url).bound(SUBJECT)
    store.save(token("tok-1"))
    loaded = await other.aload()
    assert loaded is not None
    assert loaded.token == "tok-1"
    await other.asave(token("tok-2"))
    await store.adiscard("tok-1")  # a late 401 on the old token
    again = store.load()
    assert again is not None
    assert again.token == "tok-2"
    async with store.alock(blocking=False) as held:
        assert held
        async with other.alock(blocking=False) as busy:
            assert not busy
        with other.lock(blocking=False) as busy_sync:
            assert not busy_sync
    async with other.alock(blocking=False) as free:
        assert free
    await other.adiscard("tok-2")
    assert await store.aload() is None


@pytest.mark.anyio
async def test_async_side_fails_open(
    own_redis: RedisServer, stores: Callable[..., RedisTokenStore], caplog: pytest.LogCaptureFixture
) -> None:
    """Redis killed under the async side: one warning, the memory copy serves, the lock is the memory one."""
    store = stores(own_redis.url).bound(SUBJECT)
    await store.asave(token("tok-1"))
    own_redis.kill()
    with caplog.at_level(logging.WARNING):
        loaded = await store.aload()
        async with store.alock(blocking=False) as held:
            assert held
        await store.asave(token("tok-2"))
        again = await store.aload()
    assert loaded is not None
    assert loaded.token == "tok-1"
    assert again is not None
    assert again.token == "tok-2"
    assert down(store)
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1


def test_two_lifecycles_on_one_redis_log_in_once(
    redis_server: RedisServer, stores: Callable[..., RedisTokenStore]
) -> None:
    """Two lifecycles (two processes' worth) with their own store objects: the second adopts the first's token."""
    service = FakeService()
    first = make_lifecycle(store=stores(redis_server.url))
    second = make_lifecycle(store=stores(redis_server.url))
    with (
        httpx.Client(auth=first, transport=service.transport()) as one,
        httpx.Client(auth=second, transport=service.transport()) as two,
    ):
        assert sent_token(one.get(ITEMS)) == "tok-1"
        assert sent_token(two.get(ITEMS)) == "tok-1"
    assert service.logins == 1
    assert second.stats.store_hits == 1


def test_a_rejected_token_is_discarded_only_if_still_stored(
    redis_server: RedisServer, stores: Callable[..., RedisTokenStore]
) -> None:
    """After a 401 one lifecycle logs in and replaces the token; the other's late 401 adopts it, not a login."""
    service = FakeService()
    first = make_lifecycle(store=stores(redis_server.url))
    second = make_lifecycle(store=stores(redis_server.url))
    with (
        httpx.Client(auth=first, transport=service.transport()) as one,
        httpx.Client(auth=second, transport=service.transport()) as two,
    ):
        one.get(ITEMS)
        two.get(ITEMS)
        service.revoke_all()
        assert sent_token(one.get(ITEMS)) == "tok-2"  # 401, login, replay
        assert sent_token(two.get(ITEMS)) == "tok-2"  # 401 on tok-1: tok-2 is stored, adopted
    assert service.logins == 2
    raw = Raw(redis_server.url)
    try:
        assert len(raw.keys()) == 1
    finally:
        raw.close()


@pytest.mark.anyio
async def test_the_async_flow_awaits_the_async_store(redis_server: RedisServer) -> None:
    """Async clients sharing a RedisTokenStore log in once, and never call its blocking sync I/O."""
    service = FakeService()
    root = SyncCallsForbidden(redis_server.url)
    lifecycles = [make_lifecycle(store=root) for _ in range(2)]
    clients = [httpx.AsyncClient(auth=auth, transport=service.async_transport()) for auth in lifecycles]
    responses = await asyncio.gather(*(client.get(ITEMS) for client in clients for _ in range(3)))
    for client in clients:
        await client.aclose()
    assert {sent_token(response) for response in responses} == {"tok-1"}
    assert service.logins == 1
    service.revoke_all()
    async with httpx.AsyncClient(auth=lifecycles[0], transport=service.async_transport()) as client:
        assert sent_token(await client.get(ITEMS)) == "tok-2"
    stored = await root.bound(f"{USERNAME}@{BASE_URL}").aload()
    assert stored is not None
    assert stored.token == "tok-2"


def test_each_event_loop_leaves_no_connection_behind(
    redis_server: RedisServer, stores: Callable[..., RedisTokenStore]
) -> None:
    """One ``asyncio.run()`` after another: every async operation closes its connection (no ResourceWarning)."""
    store = stores(redis_server.url).bound(SUBJECT)

    async def one(value: str) -> str | None:
        await store.asave(token(value))
        async with store.alock(blocking=False) as held:
            assert held
        loaded = await store.aload()
        return None if loaded is None else loaded.token

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert [asyncio.run(one(f"tok-{index}")) for index in range(3)] == ["tok-0", "tok-1", "tok-2"]
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


@pytest.mark.anyio
async def test_a_paused_redis_fails_the_async_side_open(
    own_redis: RedisServer, stores: Callable[..., RedisTokenStore], caplog: pytest.LogCaptureFixture
) -> None:
    """A stalled Redis (SIGSTOP): the async operation times out at the bound and the memory copy serves."""
    store = stores(own_redis.url, timeout=0.2).bound(SUBJECT)
    await store.asave(token("tok-1"))
    with own_redis.paused(), caplog.at_level(logging.WARNING):
        loaded = await asyncio.wait_for(store.aload(), 30.0)  # 30 s: a hang fails the test, not the run
        async with store.alock(blocking=False) as held:
            assert held
    assert loaded is not None
    assert loaded.token == "tok-1"
    assert down(store)
    warnings_ = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings_) == 1
    assert "Timeout" in warnings_[0]


@pytest.mark.parametrize("flow", ["sync", "async"])
def test_a_login_while_redis_is_stalled_works_with_one_warning(
    flow: str, own_redis: RedisServer, stores: Callable[..., RedisTokenStore], caplog: pytest.LogCaptureFixture
) -> None:
    """Redis paused through a whole login: the call succeeds, one warning, and Redis is asked once, not per step."""
    service = FakeService()
    root = stores(own_redis.url, timeout=0.2)
    auth = make_lifecycle(store=root)

    async def async_call() -> httpx.Response:
        async with httpx.AsyncClient(auth=auth, transport=service.async_transport()) as client:
            return await client.get(ITEMS)

    with own_redis.paused(), caplog.at_level(logging.WARNING):
        if flow == "sync":
            with httpx.Client(auth=auth, transport=service.transport()) as client:
                response = client.get(ITEMS)
        else:
            response = asyncio.run(asyncio.wait_for(async_call(), 30.0))
    assert sent_token(response) == "tok-1"
    assert service.logins == 1
    warnings_ = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings_) == 1
    assert "is unavailable (TimeoutError" in warnings_[0]
    assert down(root)


def test_an_oauth2_client_is_keyed_by_its_client_id(
    redis_server: RedisServer, stores: Callable[..., RedisTokenStore]
) -> None:
    """A client-credentials lifecycle stores its token under ``client_id@base_url``: one token per client."""
    service = FakeService(username="svc-1", password="client-secret")
    root = stores(redis_server.url)
    auth = make_lifecycle(store=root, credentials=ClientCredentials("svc-1", "client-secret"))
    with httpx.Client(auth=auth, transport=service.transport()) as client:
        assert sent_token(client.get(ITEMS)) == "tok-1"
    stored = root.bound(f"svc-1@{BASE_URL}").load()
    assert stored is not None
    assert stored.token == "tok-1"
    assert root.bound(f"{USERNAME}@{BASE_URL}").load() is None


@pytest.mark.anyio
async def test_a_store_on_a_given_sync_client_serves_both_flows(redis_server: RedisServer) -> None:
    """``RedisTokenStore(client=...)``: the sync client is used by both flows (the async one calls it)."""
    client: Any = redis.Redis.from_url(redis_server.url, socket_timeout=1.0)  # pyright: ignore[reportUnknownMemberType]
    try:
        store = RedisTokenStore(client=client).bound(SUBJECT)
        await store.asave(token("tok-1"))
        assert json.loads(client.get(store.key))["token"] == "tok-1"
        async with store.alock(blocking=False) as held:
            assert held
            assert client.exists(store.lock_key)
        loaded = store.load()
        assert loaded is not None
        assert loaded.token == "tok-1"
        store.close()  # the client is the caller's: not closed by the store
        assert client.ping()
    finally:
        client.close()


def both_protocols(store: RedisTokenStore) -> tuple[TokenStore, AsyncTokenStore]:
    """Type-checked only: mypy and pyright fail here if RedisTokenStore stops matching either protocol."""
    return store, store
