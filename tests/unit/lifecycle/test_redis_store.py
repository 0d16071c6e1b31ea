"""RedisTokenStore against a real redis-server: keys, values, the fleet's lock, compare-and-invalidate."""

from __future__ import annotations

import json
import logging
import math
import os
import signal
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import redis
from token_lifecycle import RedisTokenStore, StoredToken
from token_lifecycle._redis_backend import masked_url
from token_lifecycle._redis_store import KEY_HASH_CHARS

from tests.redis_server import RedisServer

from ._support import BASE_URL, PASSWORD, FakeService, make_lifecycle

SUBJECT = "alice@https://api.example.com/v1"


def token(value: str = "tok-1", *, lifetime: float = 3600.0, subject: str = SUBJECT) -> StoredToken:
    now = time.time()
    return StoredToken(token=value, expires_at_wall=now + lifetime, obtained_at_wall=now, subject=subject)


class Raw:
    """A plain redis-py client, typed for the few commands the tests use to look at (or tamper with) Redis."""

    def __init__(self, url: str) -> None:
        self._client: Any = redis.Redis.from_url(url)  # pyright: ignore[reportUnknownMemberType]  # untyped kwargs

    def keys(self) -> list[str]:
        return sorted(key.decode() for key in self._client.keys("*"))

    def get(self, key: str) -> bytes | None:
        value: bytes | None = self._client.get(key)
        return value

    def set(self, key: str, value: str | bytes, *, px: int | None = None) -> None:
        self._client.set(key, value, px=px)

    def pttl(self, key: str) -> int:
        return int(self._client.pttl(key))

    def exists(self, key: str) -> bool:
        return bool(self._client.exists(key))

    def close(self) -> None:
        self._client.close()


@pytest.fixture
def raw(redis_server: RedisServer) -> Iterator[Raw]:
    """A plain client to look at (and tamper with) what the store wrote."""
    client = Raw(redis_server.url)
    yield client
    client.close()


def down(store: RedisTokenStore) -> bool:
    """Whether the store works from memory now (a function: mypy would keep a narrowed property)."""
    return store.fell_back


@pytest.fixture
def stores() -> Iterator[Callable[..., RedisTokenStore]]:
    """Build root stores (like ``RedisTokenStore(...)``), closed after the test (no socket left open)."""
    built: list[RedisTokenStore] = []

    def build(*args: Any, **kwargs: Any) -> RedisTokenStore:
        built.append(RedisTokenStore(*args, **kwargs))
        return built[-1]

    yield build
    for root in built:
        root.close()


@pytest.fixture
def store(redis_server: RedisServer, stores: Callable[..., RedisTokenStore]) -> RedisTokenStore:
    """The store of SUBJECT on the run's Redis."""
    return stores(redis_server.url).bound(SUBJECT)


def test_a_saved_token_is_loaded_by_another_store_object(
    store: RedisTokenStore, redis_server: RedisServer, stores: Callable[..., RedisTokenStore]
) -> None:
    """What one process saves, another one (another store object, another connection) loads."""
    saved = token()
    store.save(saved)
    other = stores(redis_server.url).bound(SUBJECT)
    loaded = other.load()
    assert loaded is not None
    assert loaded.token == "tok-1"
    assert loaded.subject == SUBJECT
    assert loaded.expires_at_wall == pytest.approx(saved.expires_at_wall, abs=2.0)
    assert loaded.obtained_at_wall is not None
    assert loaded.expires_at_wall - loaded.obtained_at_wall == pytest.approx(3600.0, abs=0.01)


def test_the_key_lives_as_long_as_the_token(store: RedisTokenStore, raw: Raw) -> None:
    """The key's TTL ends with the token: an expired token is gone from Redis by itself."""
    store.save(token(lifetime=120.0))
    ttl = raw.pttl(store.key)
    assert isinstance(ttl, int)
    assert 100_000 < ttl <= 120_000
    store.save(token("tok-2", lifetime=-1.0))  # already expired: not written
    assert json.loads(raw.get(store.key) or b"{}")["token"] == "tok-1"


def test_expiry_is_read_from_redis_ttl_not_the_writers_clock(store: RedisTokenStore, raw: Raw) -> None:
    """A writer whose wall clock is an hour ahead does not make the token look fresh to the others."""
    skewed = token(lifetime=3600.0 + 3600.0)  # expiry as a clock one hour ahead would write it
    raw.set(store.key, json.dumps({**_json(skewed), "version": 1}), px=60_000)  # Redis: 60 s left
    loaded = store.load()
    assert loaded is not None
    assert loaded.expires_at_wall - time.time() == pytest.approx(60.0, abs=5.0)


def _json(stored: StoredToken) -> dict[str, object]:
    return {
        "token": stored.token,
        "expires_at_wall": stored.expires_at_wall,
        "obtained_at_wall": stored.obtained_at_wall,
        "subject": stored.subject,
    }


def test_each_subject_has_its_own_key(
    redis_server: RedisServer, raw: Raw, stores: Callable[..., RedisTokenStore]
) -> None:
    """Two users, or one user on two base URLs, never share a token; the key shows no user name."""
    root = stores(redis_server.url, namespace="fleet-a")
    subjects = ["alice@https://a.example/v1", "bob@https://a.example/v1", "alice@https://b.example/v1"]
    for index, subject in enumerate(subjects):
        root.bound(subject).save(token(f"tok-{index}", subject=subject))
    for index, subject in enumerate(subjects):
        loaded = root.bound(subject).load()
        assert loaded is not None
        assert loaded.token == f"tok-{index}"
    keys = raw.keys()
    assert len(keys) == 3
    assert all(key.startswith("fleet-a:token:") and len(key) == len("fleet-a:token:") + KEY_HASH_CHARS for key in keys)
    assert not any("alice" in key or "bob" in key for key in keys)
    assert root.bound(subjects[0]) is root.bound(subjects[0])


def test_a_value_of_another_subject_is_ignored(store: RedisTokenStore, raw: Raw) -> None:
    """A value under this key that names another subject is not handed out (nor deleted)."""
    raw.set(store.key, json.dumps({**_json(token(subject="mallory@x")), "version": 1}))
    assert store.load() is None
    assert raw.exists(store.key)


def test_the_value_holds_no_password(
    redis_server: RedisServer, raw: Raw, stores: Callable[..., RedisTokenStore]
) -> None:
    """Through a whole login, Redis only ever sees the token, its times and the subject."""
    root = stores(redis_server.url)
    service = FakeService()
    with httpx.Client(auth=make_lifecycle(store=root), transport=service.transport()) as client:
        assert client.get(f"{BASE_URL}/items").status_code == 200
    assert service.logins == 1
    keys = raw.keys()
    assert len(keys) == 1
    value = raw.get(keys[0]) or b""
    assert PASSWORD.encode() not in value
    assert set(json.loads(value)) == {"version", "token", "expires_at_wall", "obtained_at_wall", "subject"}


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"token": "has space"}, id="not-header-safe"),
        pytest.param({"token": "x" * 20_000}, id="too-long"),
        pytest.param({"expires_at_wall": "NaN"}, id="not-finite"),
    ],
)
def test_a_bad_value_is_discarded(store: RedisTokenStore, raw: Raw, value: dict[str, object]) -> None:
    """A value that would fail every process is deleted, with a warning, and the caller logs in."""
    body = {**_json(token()), "version": 1, **value}
    raw.set(store.key, json.dumps(body).replace('"NaN"', "NaN"))
    assert store.load() is None
    assert not raw.exists(store.key)


def test_garbage_and_other_versions_are_ignored(store: RedisTokenStore, raw: Raw) -> None:
    """Not JSON, or another format version: no token (the next login overwrites it)."""
    raw.set(store.key, b"\xff not json")
    assert store.load() is None
    raw.set(store.key, json.dumps({**_json(token()), "version": 99}))
    assert store.load() is None


def test_the_lock_excludes_other_store_objects(
    redis_server: RedisServer, stores: Callable[..., RedisTokenStore]
) -> None:
    """Only one holder across store objects (processes); it is free again once given back."""
    first = stores(redis_server.url).bound(SUBJECT)
    second = stores(redis_server.url).bound(SUBJECT)
    with first.lock(blocking=False) as held:
        assert held
        with second.lock(blocking=False) as other:
            assert not other
        with first.lock(blocking=False) as again:
            assert not again  # not reentrant: each take is its own owner
    with second.lock(blocking=False) as held:
        assert held


def test_first_release_after_expiry_keeps_the_successor(
    redis_server: RedisServer, raw: Raw, stores: Callable[..., RedisTokenStore]
) -> None:
    """Owner-only release: a holder that outlived its lease does not delete the lock someone else took."""
    first = stores(redis_server.url, lease=0.2).bound(SUBJECT)
    second = stores(redis_server.url, lease=30.0).bound(SUBJECT)
    holding = first.lock(blocking=False)
    assert holding.__enter__()
    time.sleep(0.4)  # a real lease expiry
    taken = second.lock(blocking=False)
    assert taken.__enter__()
    successor = raw.get(second.lock_key)
    holding.__exit__(None, None, None)  # the late release of the first holder
    assert raw.get(second.lock_key) == successor
    taken.__exit__(None, None, None)
    assert raw.get(second.lock_key) is None


def test_discard_deletes_only_the_rejected_token(store: RedisTokenStore, raw: Raw) -> None:
    """Compare-and-invalidate: a late 401 on an old token never deletes the new one."""
    store.save(token("tok-new"))
    store.discard("tok-old")
    loaded = store.load()
    assert loaded is not None
    assert loaded.token == "tok-new"
    store.discard("tok-new")
    assert store.load() is None
    assert not raw.exists(store.key)


def test_the_repr_masks_the_password() -> None:
    """No password of the Redis URL in a repr, hence in no log line."""
    store = RedisTokenStore("redis://:hunter2@127.0.0.1:1/0")
    assert "hunter2" not in repr(store)
    assert "***" in repr(store)
    assert masked_url("redis://user:hunter2@h:1/0") == "redis://user:***@h:1/0"
    assert masked_url("redis://h:1/0") == "redis://h:1/0"


def test_redis_killed_fails_open_with_one_warning(
    own_redis: RedisServer, caplog: pytest.LogCaptureFixture, stores: Callable[..., RedisTokenStore]
) -> None:
    """Redis gone: one WARNING, every call works from this process's memory, Redis used again once back."""
    store = stores(own_redis.url, recheck=0.0).bound(SUBJECT)
    store.save(token("tok-1"))
    own_redis.kill()
    with caplog.at_level(logging.WARNING):
        for index in range(1, 4):
            with store.lock(blocking=False) as held:
                assert held  # the memory lock
                loaded = store.load()
                assert loaded is not None
                assert loaded.token == f"tok-{index}"  # this process's copy
                store.save(token(f"tok-{index + 1}"))
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "is unavailable" in warnings[0].getMessage()
    assert down(store)
    own_redis.restart()  # empty
    assert store.load() is None  # Redis again (recheck=0): the empty one
    assert not down(store)
    store.save(token("tok-3"))
    other = stores(own_redis.url).bound(SUBJECT).load()
    assert other is not None
    assert other.token == "tok-3"


def test_no_tries_before_the_recheck(own_redis: RedisServer, stores: Callable[..., RedisTokenStore]) -> None:
    """After a failure the store does not touch Redis until the recheck time, even if it is back."""
    store = stores(own_redis.url, recheck=3600.0).bound(SUBJECT)
    own_redis.kill()
    store.save(token("tok-1"))
    own_redis.restart()
    loaded = store.load()
    assert loaded is not None
    assert loaded.token == "tok-1"  # memory: Redis (empty now) was not asked


def test_a_paused_redis_costs_each_operation_one_timeout(
    own_redis: RedisServer, caplog: pytest.LogCaptureFixture, stores: Callable[..., RedisTokenStore]
) -> None:
    """A stalled Redis (SIGSTOP) fails the operation at the command timeout: fall back, one warning."""
    store = stores(own_redis.url, timeout=0.2).bound(SUBJECT)
    store.save(token("tok-1"))
    with own_redis.paused(), caplog.at_level(logging.WARNING):
        loaded = store.load()  # times out after 0.2 s, then memory
        with store.lock(blocking=False) as held:
            assert held
        store.discard("tok-1")
        assert store.load() is None
    assert loaded is not None
    assert loaded.token == "tok-1"
    assert down(store)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "TimeoutError" in warnings[0]


def test_constructor_needs_exactly_one_source() -> None:
    """A url or clients, not both, not neither."""
    with pytest.raises(ValueError, match="url"):
        RedisTokenStore()
    with pytest.raises(ValueError, match="url"):
        RedisTokenStore("redis://h", client=redis.Redis())  # never connected
    assert math.isfinite(RedisTokenStore("redis://h").lease)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork")
def test_a_forked_child_talks_to_redis_on_its_own_connection(store: RedisTokenStore) -> None:
    """A child forked after the parent used the store works, and the parent's connection stays in step."""
    store.save(token("tok-1"))  # the parent's pooled connection is open now
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: forking a threaded process
        pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            loaded = store.load()
            with store.lock(blocking=False) as held:
                store.save(token("tok-child"))
            code = 0 if held and loaded is not None and loaded.token == "tok-1" else 2
        finally:
            os._exit(code)
    deadline = time.monotonic() + 30.0
    status = 0
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.02)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the forked child did not finish within 30 s")
    assert os.waitstatus_to_exitcode(status) == 0
    loaded = store.load()
    assert loaded is not None
    assert loaded.token == "tok-child"
    assert not down(store)
