"""Token stores: where a token lives between logins, in memory (default) or in a file shared by processes."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import os
import stat
import sys
import tempfile
import threading
from collections.abc import Generator
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from pathlib import Path
from typing import Protocol, cast

from ._fork import renew_after_fork
from ._login import MAX_TOKEN_LENGTH, is_header_safe
from ._redaction import fingerprint
from ._values import Value, immutable, shown

#: Permissions of the token file and its lock file: the token is a credential, readable by its owner only.
STORE_FILE_MODE = 0o600

#: Permissions of a store directory the store has to create itself.
STORE_DIR_MODE = 0o700

#: Bumped when the file layout changes; files of another version are ignored (the client logs in again).
STORE_FORMAT_VERSION = 1

#: The most a token file may weigh: a valid one is a few hundred bytes; more is not read.
MAX_STORE_FILE_BYTES = 4 * MAX_TOKEN_LENGTH

_logger = logging.getLogger(__name__)


@immutable
@dataclasses.dataclass(frozen=True, slots=True)
class StoredToken(Value):
    """A token as stored, with WALL-clock times: monotonic clocks do not cross processes."""

    token: str = dataclasses.field(repr=False)
    #: ``time.time()`` at which the token expires.
    expires_at_wall: float
    #: ``time.time()`` at which the token was issued, when known (it sizes the refresh windows).
    obtained_at_wall: float | None = None
    #: Who the token belongs to (user and base URL): a store shared by mistake never hands one
    #: user's token to another.
    subject: str = ""

    def __repr__(self) -> str:
        return shown(self, token=fingerprint(self.token))


class TokenStore(Protocol):
    """Implement to keep tokens elsewhere; `TokenLifecycle` calls it only while holding ``lock()``.

    Two methods are optional, and used when a store has them:

    - ``bound(subject) -> TokenStore``: the store of one subject (``"user@base_url"``, the client id
      for an OAuth2 client), called once by each lifecycle. A store shared by many users keys its
      tokens by it (`RedisTokenStore`); a single-slot store (memory, file) does not need it.
    - ``discard(token: str) -> None``: compare-and-invalidate, i.e. forget the stored token only if it
      is still ``token`` (the one the service rejected). Without it the lifecycle calls ``clear()``,
      which under the store's lock means the same for a store whose lock every writer takes.

    A store may also be an `AsyncTokenStore`; the async flow then awaits those methods instead.
    """

    def load(self) -> StoredToken | None:
        """Return the stored token, or None when there is none or it is unreadable."""
        ...

    def save(self, token: StoredToken) -> None:
        """Replace the stored token."""
        ...

    def clear(self) -> None:
        """Forget the stored token."""
        ...

    def lock(self, *, blocking: bool = True) -> AbstractContextManager[bool]:
        """Return a context that holds the store's lock and yields whether it got it.

        The lifecycle holds it around "load → log in → save" so that every user of the store logs in
        once. With ``blocking=False`` it yields False at once when someone else holds the lock.
        """
        ...


class AsyncTokenStore(Protocol):
    """The awaitable form of a store's I/O, used by ``async_auth_flow`` when a store has it.

    Without it the async flow calls the sync methods on the event loop (fine for memory and a file;
    a network store must implement this so that the loop never blocks on it).
    """

    async def aload(self) -> StoredToken | None:
        """`TokenStore.load`, awaited."""
        ...

    async def asave(self, token: StoredToken) -> None:
        """`TokenStore.save`, awaited."""
        ...

    async def adiscard(self, token: str) -> None:
        """`TokenStore.discard` (compare-and-invalidate), awaited."""
        ...

    def alock(self, *, blocking: bool = True) -> AbstractAsyncContextManager[bool]:
        """`TokenStore.lock` as an async context manager (the flow only takes it non-blocking)."""
        ...


def encode_stored_token(token: StoredToken) -> bytes:
    """The stored form of ``token`` (JSON, with `STORE_FORMAT_VERSION`), shared by the file and Redis stores."""
    return json.dumps(
        {
            "version": STORE_FORMAT_VERSION,
            "token": token.token,
            "expires_at_wall": token.expires_at_wall,
            "obtained_at_wall": token.obtained_at_wall,
            "subject": token.subject,
        }
    ).encode("utf-8")


def decode_stored_token(raw: bytes) -> StoredToken | str | None:
    """Read the stored form back: the token, None (not a token of this version), or why to discard it.

    A problem is returned (not raised) for values that would fail every process that read them: a
    token that cannot be sent in a header, an expiry that is no finite time. The store deletes those.
    """
    try:
        data: object = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    data = cast("dict[str, object]", data)  # parsed JSON: object keys are strings
    if data.get("version") != STORE_FORMAT_VERSION:
        return None
    token, expires, obtained, subject = (
        data.get("token"),
        data.get("expires_at_wall"),
        data.get("obtained_at_wall"),
        data.get("subject"),
    )
    if not isinstance(token, str) or not isinstance(subject, str):
        return None
    if not isinstance(expires, int | float) or isinstance(expires, bool):
        return None
    if obtained is not None and (not isinstance(obtained, int | float) or isinstance(obtained, bool)):
        return None
    if not is_header_safe(token) or len(token) > MAX_TOKEN_LENGTH:
        # Sent as is, it would fail every request of every process until someone deleted it.
        return "holds a token that cannot be sent in a header"
    if not math.isfinite(expires) or (obtained is not None and not math.isfinite(obtained)):
        return "holds an expiry that is not a finite time"
    return StoredToken(
        token=token,
        expires_at_wall=float(expires),
        obtained_at_wall=None if obtained is None else float(obtained),
        subject=subject,
    )


class MemoryTokenStore:
    """Keep the token in this process only (the default); its lock is the one sync and async flows share."""

    def __init__(self) -> None:
        self._token: StoredToken | None = None
        self._lock = threading.Lock()
        renew_after_fork(self, _lock=threading.Lock)  # held by a login in another thread at fork time?

    def __repr__(self) -> str:
        return "MemoryTokenStore()"

    def load(self) -> StoredToken | None:
        """Return the token saved last, if any."""
        return self._token

    def save(self, token: StoredToken) -> None:
        """Remember ``token``."""
        self._token = token

    def clear(self) -> None:
        """Forget the token."""
        self._token = None

    def discard(self, token: str) -> None:
        """Forget the stored token if it is still ``token`` (compare-and-invalidate)."""
        stored = self._token
        if stored is not None and stored.token == token:
            self._token = None

    @contextlib.contextmanager
    def lock(self, *, blocking: bool = True) -> Generator[bool, None, None]:
        """Hold this store's lock (yield False if non-blocking and busy).

        Each flow's own lock serialises its logins; this one makes a sync and an async flow (or two
        event loops) sharing the store log in once between them.
        """
        if not self._lock.acquire(blocking=blocking):
            yield False
            return
        try:
            yield True
        finally:
            self._lock.release()


class FileTokenStore:
    """Share one token between processes of one machine through a JSON file (POSIX only).

    The file has mode 0600 and is replaced atomically (temporary file in the same directory, then
    ``os.replace``), so a reader sees the old token or the new one, never half of one. ``lock()`` takes
    ``fcntl.flock`` on a sibling ``<name>.lock`` file; each call opens its own descriptor, so it also
    excludes other threads and other store objects of this process. Expiry is stored as wall-clock time
    and converted back to the reader's monotonic clock on load.

    File I/O here is small and blocking. In ``async_auth_flow`` the lifecycle never blocks on the lock:
    it polls ``lock(blocking=False)`` with ``asyncio.sleep`` in between, so the event loop keeps running
    while another process logs in; only the short reads and writes happen on the loop.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        if sys.platform == "win32":
            raise NotImplementedError("FileTokenStore needs fcntl.flock (POSIX); use MemoryTokenStore on Windows")
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        # Set once the file cannot be used (a directory this process may not write, a symlinked lock):
        # from then on the token lives in this process only, as documented ("fail open").
        self._fallback: MemoryTokenStore | None = None
        self._fallback_lock = threading.Lock()
        renew_after_fork(self, _fallback_lock=threading.Lock)

    def __repr__(self) -> str:
        return f"FileTokenStore({str(self.path)!r})"

    def load(self) -> StoredToken | None:
        """Return the stored token, or None when the file is missing, unreadable or of another version."""
        fallback = self._fallback
        if fallback is not None:
            return fallback.load()
        try:
            raw = self._read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            return self._fail_open(exc).load()
        if raw is None:
            self._discard(f"is not a regular file of at most {MAX_STORE_FILE_BYTES} bytes")
            return None
        decoded = decode_stored_token(raw)
        if isinstance(decoded, str):
            self._discard(decoded)
            return None
        return decoded

    def _fail_open(self, exc: OSError) -> MemoryTokenStore:
        """Keep tokens in memory from now on, saying so once: a broken store must not break the client."""
        with self._fallback_lock:
            if self._fallback is None:
                self._fallback = MemoryTokenStore()
                _logger.warning(
                    "cannot use the token store %r (%s: %s); keeping tokens in this process only",
                    self,
                    type(exc).__name__,
                    exc.strerror or exc,
                )
            return self._fallback

    def _read(self) -> bytes | None:
        """Return the file's bytes; None when it is no regular file or too big to be a token file."""
        # O_NOFOLLOW: a symlink planted at the store's path must not feed this process someone's token.
        fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as file:
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_STORE_FILE_BYTES:
                return None
            return file.read(MAX_STORE_FILE_BYTES)

    def _discard(self, problem: str) -> None:
        """Delete a token file that can never be used, so the next login overwrites it (lock held)."""
        _logger.warning("the token store %r %s; discarded, logging in instead", self, problem)
        with contextlib.suppress(OSError):
            self.path.unlink()

    def _make_directory(self) -> None:
        """Create the store's directory and missing parents as 0700, whatever the umask."""
        missing: list[Path] = []
        directory = self.path.parent
        while not directory.exists() and directory != directory.parent:
            missing.append(directory)
            directory = directory.parent
        for created in reversed(missing):
            with contextlib.suppress(FileExistsError):
                created.mkdir(mode=STORE_DIR_MODE)
                os.chmod(created, STORE_DIR_MODE)  # the umask may have removed bits

    def save(self, token: StoredToken) -> None:
        """Write ``token`` to a 0600 temporary file beside the store and atomically move it into place."""
        fallback = self._fallback
        if fallback is not None:
            fallback.save(token)
            return
        # A failure here (disk full) is the lifecycle's to log: the next login tries the file again.
        self._make_directory()
        payload = encode_stored_token(token)
        fd, temp_name = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            # mkstemp already creates 0600; say so explicitly rather than rely on it.
            os.fchmod(fd, STORE_FILE_MODE)
            with os.fdopen(fd, "wb") as file:
                file.write(payload)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp_name, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)
            raise

    def clear(self) -> None:
        """Delete the token file if it exists."""
        fallback = self._fallback
        if fallback is not None:
            fallback.clear()
            return
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def discard(self, token: str) -> None:
        """Delete the token file if it still holds ``token`` (compare-and-invalidate; lock held)."""
        stored = self.load()
        if stored is not None and stored.token == token:
            self.clear()

    @contextlib.contextmanager
    def lock(self, *, blocking: bool = True) -> Generator[bool, None, None]:
        """Hold an exclusive ``flock`` on the sibling lock file; yield False if non-blocking and busy."""
        import fcntl  # here, not at the top: the package must still import on Windows

        fallback, fd = self._fallback, -1
        if fallback is None:
            try:
                fd = self._open_lock_file()
            except OSError as exc:
                fallback = self._fail_open(exc)
        if fallback is not None:
            with fallback.lock(blocking=blocking) as held:
                yield held
            return
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _open_lock_file(self) -> int:
        """Open (creating it 0600) the lock file; refuse a symlink or anything but a regular file."""
        self._make_directory()
        # O_NOFOLLOW: a symlink planted as the lock file must not make this process create or open its target.
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, STORE_FILE_MODE)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise OSError(f"{self.lock_path} is not a regular file")
            if stat.S_IMODE(info.st_mode) & ~STORE_FILE_MODE and info.st_uid == os.geteuid():
                os.fchmod(fd, STORE_FILE_MODE)  # created under a lax umask, or by an older version
        except BaseException:
            os.close(fd)
            raise
        return fd
