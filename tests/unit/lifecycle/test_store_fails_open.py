"""Issue 13, item 5: `FileTokenStore` fails open, as documented, against a real loopback service.

A directory the process may not write, a stored token that cannot go in a header, a symlink planted
as the lock file and a umask of 000 must neither break the client nor weaken the store: the client
keeps working (memory only, with one warning), a bad entry is discarded and overwritten, and what the
store creates is private (0700 directories, 0600 files) and never a symlink's target.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from token_lifecycle import Credentials, FileTokenStore, TokenLifecycle

from tests.fault_server import FaultServer, Reply, Seen
from tests.unit.lifecycle._support import query_login

ROOT = Path(__file__).resolve().parents[3]
USERNAME, PASSWORD = "alice", "pw-fail-open-0042"
CHILD_TIMEOUT = 60.0
STORE_LOGGER = "token_lifecycle._stores"


def _service() -> FaultServer:
    """A token service: GET /login issues tok-1, tok-2, ...; other paths need the latest token."""
    serials = itertools.count(1)
    issued: list[str] = []

    def script(seen: Seen) -> Reply:
        if seen.path.startswith("/login"):
            issued.append(f"tok-{next(serials)}")
            return Reply(200, issued[-1].encode())
        if issued and seen.headers.get("authentication") == f"bearer {issued[-1]}":
            return Reply(200, b"{}", {"Content-Type": "application/json"})
        return Reply(401, b"no")

    return FaultServer(script)


def _lifecycle(url: str, store: FileTokenStore) -> TokenLifecycle:
    login = query_login()
    return TokenLifecycle(
        base_url=url,
        login=login,
        credentials=Credentials(USERNAME, PASSWORD),
        header_name="Authentication",
        scheme="bearer",
        lifetime=3600.0,
        store=store,
        logger_name="tests.store_fails_open.auth",
    )


@pytest.fixture
def service() -> Iterator[FaultServer]:
    with _service() as server:
        yield server


CHILD = textwrap.dedent(
    """
    import json, logging, sys
    import httpx
    from token_lifecycle import Credentials, FileTokenStore, LoginCall, TokenLifecycle

    url, path = sys.argv[1], sys.argv[2]
    records = []
    class Keep(logging.Handler):
        def emit(self, record):
            records.append((record.name, record.levelname, record.getMessage()))
    logging.getLogger().addHandler(Keep())
    logging.getLogger().setLevel(logging.INFO)
    login = LoginCall(method="GET", path="/login", username_in="query", username_name="user",
                      password_in="query", password_name="password", token_from="body")
    lifecycle = TokenLifecycle(base_url=url, login=login, credentials=Credentials("alice", "pw-fail-open-0042"),
                               header_name="Authentication", scheme="bearer", lifetime=3600.0,
                               store=FileTokenStore(path), logger_name="child.auth")
    outcomes = []
    with httpx.Client(base_url=url, auth=lifecycle, timeout=5) as client:
        for _ in range(3):
            try:
                outcomes.append(client.get("/items").status_code)
            except Exception as exc:
                outcomes.append(type(exc).__name__)
    print(json.dumps({"outcomes": outcomes, "records": records}))
    """
)


def _run_child(url: str, store_path: Path) -> tuple[list[object], list[tuple[str, str, str]]]:
    """Run CHILD in a new process; as root, without the capabilities that override file permissions."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: cannot make a directory unwritable")
        prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner"]
    completed = subprocess.run(
        [*prefix, sys.executable, "-B", "-c", CHILD, url, str(store_path)],
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
        env={**os.environ, "PYTHONPATH": str(ROOT / "templates" / "runtime")},
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    result = cast("dict[str, Any]", json.loads(completed.stdout))
    return list(result["outcomes"]), [(name, level, message) for name, level, message in result["records"]]


def test_a_directory_the_process_cannot_write_means_memory_only_and_one_warning(service: FaultServer) -> None:
    """The lock file cannot be created: the calls succeed, one login, one warning, no PermissionError."""
    directory = Path(tempfile.mkdtemp(prefix="store-ro-"))
    try:
        directory.chmod(0o555)  # the child (non-root, or root without DAC overrides) may not create files
        outcomes, records = _run_child(service.url, directory / "token.json")
    finally:
        directory.chmod(0o700)
        directory.rmdir()
    assert outcomes == [200, 200, 200]
    assert service.count("/login") == 1  # the token is kept in memory between calls
    warnings = [message for _name, level, message in records if level == "WARNING"]
    assert len(warnings) == 1, warnings
    assert "PermissionError" in warnings[0]
    assert "this process only" in warnings[0]


def _stored(path: Path, token: str, *, url: str, expires: float | None = None) -> None:
    payload = {
        "version": 1,
        "token": token,
        "expires_at_wall": time.time() + 3000 if expires is None else expires,
        "obtained_at_wall": time.time(),
        "subject": f"{USERNAME}@{url}/",  # what the lifecycle writes: user @ base URL
    }
    path.write_text(json.dumps(payload))
    path.chmod(0o600)


@pytest.mark.parametrize(
    "bad_token",
    ["tok-x\r\nX-Injected: 1", "tok with spaces", "tok-\u00e9", "t" * (16 * 1024 + 1)],
    ids=["crlf", "spaces", "non-ascii", "oversized"],
)
def test_a_stored_token_that_cannot_be_a_header_is_discarded_and_overwritten(
    service: FaultServer, tmp_path: Path, bad_token: str
) -> None:
    """Every new process used to fail with LocalProtocolError forever; now it logs in and repairs the file."""
    path = tmp_path / "token.json"
    _stored(path, bad_token, url=service.url)
    for process in range(2):  # two "new processes": a fresh store and lifecycle each
        lifecycle = _lifecycle(service.url, FileTokenStore(path))
        with httpx.Client(base_url=service.url, auth=lifecycle, timeout=5) as client:
            assert client.get("/items").status_code == 200, process
    assert service.count("/login") == 1  # the second process adopted the repaired entry
    assert json.loads(path.read_text())["token"] == "tok-1"
    assert all("\r" not in value and "\n" not in value for seen in service.requests for value in seen.headers.values())


def test_a_stored_expiry_that_is_not_finite_is_discarded(service: FaultServer, tmp_path: Path) -> None:
    """``NaN`` (valid to Python's json) as expiry is no time at all: discarded, logged in, overwritten."""
    path = tmp_path / "token.json"
    _stored(path, "tok-stale", url=service.url, expires=float("nan"))
    with httpx.Client(base_url=service.url, auth=_lifecycle(service.url, FileTokenStore(path)), timeout=5) as client:
        assert client.get("/items").status_code == 200
    assert service.count("/login") == 1
    assert json.loads(path.read_text())["token"] == "tok-1"


def test_a_symlink_planted_as_the_lock_file_is_not_followed(
    service: FaultServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The lock is opened with O_NOFOLLOW: its target is never created; the client carries on in memory."""
    store_dir, elsewhere = tmp_path / "store", tmp_path / "elsewhere"
    store_dir.mkdir(mode=0o700)
    elsewhere.mkdir()
    victim = elsewhere / "created-by-the-client"
    store = FileTokenStore(store_dir / "token.json")
    store.lock_path.symlink_to(victim)
    caplog.set_level(logging.WARNING, logger=STORE_LOGGER)
    with httpx.Client(base_url=service.url, auth=_lifecycle(service.url, store), timeout=5) as client:
        assert [client.get("/items").status_code for _ in range(3)] == [200, 200, 200]
    assert not victim.exists()
    assert service.count("/login") == 1
    assert len([record for record in caplog.records if record.name == STORE_LOGGER]) == 1


def test_a_symlink_planted_as_the_token_file_is_not_read(service: FaultServer, tmp_path: Path) -> None:
    """Someone else's token file, linked in, is not adopted: the client logs in as itself."""
    store_dir = tmp_path / "store"
    store_dir.mkdir(mode=0o700)
    planted = tmp_path / "planted.json"
    _stored(planted, "tok-of-someone-else", url=service.url)
    (store_dir / "token.json").symlink_to(planted)
    with httpx.Client(
        base_url=service.url, auth=_lifecycle(service.url, FileTokenStore(store_dir / "token.json")), timeout=5
    ) as client:
        assert client.get("/items").status_code == 200
    assert service.count("/login") == 1
    assert all(seen.headers.get("authentication") != "bearer tok-of-someone-else" for seen in service.requests)


def test_under_umask_000_what_the_store_creates_is_private(service: FaultServer, tmp_path: Path) -> None:
    """Missing parents too: 0700 directories and 0600 files whatever the umask."""
    path = tmp_path / "a" / "b" / "token.json"
    previous = os.umask(0)
    try:
        with httpx.Client(base_url=service.url, auth=_lifecycle(service.url, FileTokenStore(path)), timeout=5) as c:
            assert c.get("/items").status_code == 200
    finally:
        os.umask(previous)
    modes = {
        name: stat.S_IMODE(created.stat().st_mode)
        for name, created in {
            "a": tmp_path / "a",
            "b": tmp_path / "a" / "b",
            "token": path,
            "lock": path.with_name("token.json.lock"),
        }.items()
    }
    assert modes == {"a": 0o700, "b": 0o700, "token": 0o600, "lock": 0o600}
