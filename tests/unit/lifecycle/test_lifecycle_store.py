"""FileTokenStore: private atomic file, wall-clock expiry, one login shared by several lifecycles."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from token_lifecycle import FileTokenStore, MemoryTokenStore, StoredToken

from ._support import BASE_URL, LIFETIME, FakeClock, FakeService, make_lifecycle, sent_token

ITEMS = f"{BASE_URL}/items"
WALL = 1_700_000_000.0


def _wall() -> float:
    return WALL


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_saved_file_and_lock_file_are_private(tmp_path: Path) -> None:
    """The token file and its lock file are created with mode 0600."""
    store = FileTokenStore(tmp_path / "token.json")
    with store.lock() as held:
        assert held
        store.save(StoredToken(token="tok-1", expires_at_wall=WALL))
    assert _mode(store.path) == 0o600
    assert _mode(store.lock_path) == 0o600
    assert store.load() == StoredToken(token="tok-1", expires_at_wall=WALL)


def test_save_replaces_the_file_atomically(tmp_path: Path) -> None:
    """A save writes a new file and renames it over the old one, leaving no temporary file behind."""
    store = FileTokenStore(tmp_path / "token.json")
    store.save(StoredToken(token="tok-1", expires_at_wall=WALL))
    first_inode = store.path.stat().st_ino
    store.save(StoredToken(token="tok-2", expires_at_wall=WALL))
    assert store.path.stat().st_ino != first_inode
    assert sorted(path.name for path in tmp_path.iterdir()) == ["token.json"]
    loaded = store.load()
    assert loaded is not None
    assert loaded.token == "tok-2"


def test_a_failed_save_keeps_the_old_token_and_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If the rename fails the previous file is intact and the temporary file is removed."""
    store = FileTokenStore(tmp_path / "token.json")
    store.save(StoredToken(token="tok-1", expires_at_wall=WALL))

    def broken_replace(source: str, target: os.PathLike[str]) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        store.save(StoredToken(token="tok-2", expires_at_wall=WALL))
    monkeypatch.undo()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["token.json"]
    loaded = store.load()
    assert loaded is not None
    assert loaded.token == "tok-1"


@pytest.mark.parametrize("content", [b"", b"{not json", b'{"version": 99}', b'{"version": 1, "token": 5}', b"[]"])
def test_an_unreadable_file_reads_as_no_token(tmp_path: Path, content: bytes) -> None:
    """Corrupt, foreign or wrongly typed files are ignored rather than trusted."""
    path = tmp_path / "token.json"
    path.write_bytes(content)
    assert FileTokenStore(path).load() is None


def test_clear_removes_the_file(tmp_path: Path) -> None:
    """``clear()`` deletes the token file and tolerates its absence."""
    store = FileTokenStore(tmp_path / "token.json")
    store.save(StoredToken(token="tok-1", expires_at_wall=WALL))
    store.clear()
    store.clear()
    assert store.load() is None


def test_the_file_stores_wall_clock_expiry(tmp_path: Path) -> None:
    """After a login the file holds ``time.time()``-based expiry, never the monotonic clock's value."""
    service, clock = FakeService(), FakeClock(5.0)
    store = FileTokenStore(tmp_path / "token.json")
    auth = make_lifecycle(clock, store=store, wall_clock=_wall)
    with httpx.Client(transport=service.transport(), auth=auth) as client:
        client.get(ITEMS)
    data = json.loads(store.path.read_text())
    assert data["expires_at_wall"] == WALL + LIFETIME
    assert data["obtained_at_wall"] == WALL
    assert data["subject"] == "alice@https://api.example/v1"


def test_two_lifecycles_sharing_a_file_log_in_once(tmp_path: Path) -> None:
    """A second lifecycle (as in another process) takes the stored token instead of logging in."""
    service = FakeService()
    path = tmp_path / "token.json"
    first = make_lifecycle(FakeClock(10.0), store=FileTokenStore(path), wall_clock=_wall)
    second = make_lifecycle(FakeClock(99_999.0), store=FileTokenStore(path), wall_clock=_wall)
    with httpx.Client(transport=service.transport(), auth=first) as one:
        assert sent_token(one.get(ITEMS)) == "tok-1"
    with httpx.Client(transport=service.transport(), auth=second) as two:
        assert sent_token(two.get(ITEMS)) == "tok-1"
    assert service.logins == 1
    assert (second.stats.logins, second.stats.store_hits) == (0, 1)


@pytest.mark.anyio
async def test_async_two_lifecycles_sharing_a_file_log_in_once(tmp_path: Path) -> None:
    """Async clients share the stored token as well."""
    service = FakeService()
    path = tmp_path / "token.json"
    first = make_lifecycle(store=FileTokenStore(path), wall_clock=_wall)
    second = make_lifecycle(store=FileTokenStore(path), wall_clock=_wall)
    async with httpx.AsyncClient(transport=service.async_transport(), auth=first) as one:
        await one.get(ITEMS)
    async with httpx.AsyncClient(transport=service.async_transport(), auth=second) as two:
        assert sent_token(await two.get(ITEMS)) == "tok-1"
    assert service.logins == 1


def test_the_file_lock_is_held_during_the_login_and_a_concurrent_lifecycle_waits(tmp_path: Path) -> None:
    """While one lifecycle logs in, the cross-process lock is taken, and a second lifecycle reuses its token."""
    service = FakeService()
    path = tmp_path / "token.json"
    first = make_lifecycle(store=FileTokenStore(path), wall_clock=_wall)
    second = make_lifecycle(store=FileTokenStore(path), wall_clock=_wall)
    held_during_login: list[bool] = []

    def probe() -> None:
        fd = os.open(f"{path}.lock", os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            held_during_login.append(True)
        else:
            held_during_login.append(False)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    service.login_gate = probe
    with (
        httpx.Client(transport=service.transport(), auth=first) as one,
        httpx.Client(transport=service.transport(), auth=second) as two,
        ThreadPoolExecutor(2) as pool,
    ):
        results = [pool.submit(one.get, ITEMS), pool.submit(two.get, ITEMS)]
        assert [sent_token(future.result(timeout=10)) for future in results] == ["tok-1", "tok-1"]
    assert held_during_login == [True]
    assert service.logins == 1


def test_a_stored_token_is_converted_to_the_monotonic_clock(tmp_path: Path) -> None:
    """A stored token with 2000 s left is used now and refreshed once this clock has moved 1800 s."""
    service, clock = FakeService(), FakeClock(123.0)
    store = FileTokenStore(tmp_path / "token.json")
    service.valid.add("shared")
    store.save(
        StoredToken(
            token="shared",
            expires_at_wall=WALL + 2000,
            obtained_at_wall=WALL + 2000 - LIFETIME,
            subject="alice@https://api.example/v1",
        )
    )
    auth = make_lifecycle(clock, store=store, wall_clock=_wall)
    with httpx.Client(transport=service.transport(), auth=auth) as client:
        assert sent_token(client.get(ITEMS)) == "shared"
        clock.advance(1800)  # 200 s left: mandatory
        assert sent_token(client.get(ITEMS)) == "tok-1"


def test_a_stored_token_of_another_user_is_ignored(tmp_path: Path) -> None:
    """A token stored for another subject is never handed to this user."""
    service = FakeService()
    store = FileTokenStore(tmp_path / "token.json")
    store.save(StoredToken(token="bobs", expires_at_wall=WALL + 9999, subject="bob@https://api.example/v1"))
    auth = make_lifecycle(store=store, wall_clock=_wall)
    with httpx.Client(transport=service.transport(), auth=auth) as client:
        assert sent_token(client.get(ITEMS)) == "tok-1"


def test_a_rejected_stored_token_is_cleared_and_never_adopted_again(tmp_path: Path) -> None:
    """When the service rejects the shared token, one lifecycle logs in and the other adopts the new one."""
    service = FakeService()
    path = tmp_path / "token.json"
    first = make_lifecycle(store=FileTokenStore(path), wall_clock=_wall)
    second = make_lifecycle(store=FileTokenStore(path), wall_clock=_wall)
    with (
        httpx.Client(transport=service.transport(), auth=first) as one,
        httpx.Client(transport=service.transport(), auth=second) as two,
    ):
        one.get(ITEMS)
        two.get(ITEMS)
        service.revoke_all()
        assert sent_token(two.get(ITEMS)) == "tok-2"
        assert sent_token(one.get(ITEMS)) == "tok-2"
    assert service.logins == 2
    assert (first.stats.store_hits, first.stats.replays) == (1, 1)


def test_memory_store_is_the_default_and_round_trips() -> None:
    """MemoryTokenStore keeps the last saved token and always grants its lock."""
    store = MemoryTokenStore()
    with store.lock(blocking=False) as held:
        assert held
    store.save(StoredToken(token="t", expires_at_wall=1.0))
    assert store.load() == StoredToken(token="t", expires_at_wall=1.0)
    store.clear()
    assert store.load() is None


def test_stored_token_repr_shows_a_fingerprint_only() -> None:
    """``repr(StoredToken)`` never shows the token."""
    assert "secret-token" not in repr(StoredToken(token="secret-token", expires_at_wall=1.0))


@pytest.mark.anyio
async def test_async_flow_polls_a_busy_file_lock_without_blocking_the_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While another process holds the lock the async flow keeps the loop free, then adopts its token."""

    monkeypatch.setattr("token_lifecycle._store_io.STORE_LOCK_POLL_SECONDS", 0.0)
    service = FakeService()
    service.valid.add("from-elsewhere")
    store = FileTokenStore(tmp_path / "token.json")
    auth = make_lifecycle(store=FileTokenStore(store.path), wall_clock=_wall)
    other_process = os.open(store.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(other_process, fcntl.LOCK_EX)
    try:
        async with httpx.AsyncClient(transport=service.async_transport(), auth=auth) as client:
            task = asyncio.create_task(client.get(ITEMS))
            for _ in range(50):
                await asyncio.sleep(0)  # the loop keeps running: this test itself gets turns
            assert not task.done()
            store.save(
                StoredToken(token="from-elsewhere", expires_at_wall=WALL + 9999, subject="alice@https://api.example/v1")
            )
            fcntl.flock(other_process, fcntl.LOCK_UN)
            assert sent_token(await asyncio.wait_for(task, timeout=10)) == "from-elsewhere"
    finally:
        os.close(other_process)
    assert service.logins == 0


class _BrokenStore(MemoryTokenStore):
    """A store whose disk is gone."""

    def load(self) -> StoredToken | None:
        raise PermissionError("denied")

    def save(self, token: StoredToken) -> None:
        raise OSError("disk full")


def test_store_errors_are_logged_and_do_not_fail_the_request(caplog: pytest.LogCaptureFixture) -> None:
    """An unreadable or unwritable store costs a warning and a login, never the request."""
    service = FakeService()
    auth = make_lifecycle(store=_BrokenStore())
    with httpx.Client(transport=service.transport(), auth=auth) as client:
        assert sent_token(client.get(ITEMS)) == "tok-1"
    assert "cannot read the token store" in caplog.text
    assert "cannot write the token store" in caplog.text
