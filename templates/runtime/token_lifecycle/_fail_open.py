"""Failing open: when a shared backend (Redis) is unreachable or slow, work without it until it is back.

The token store and the rate limiter of a fleet only share work between processes; a client must not
fail, nor wait long, because their backend does. Each of them holds a `FailOpen` for its backend and
asks it before every remote operation:

- `FailOpen.usable` is True while the backend works, and again once `REMOTE_RECHECK_SECONDS` have
  passed since it last failed (the next operation then probes it);
- `FailOpen.failed` after an operation failed or timed out: the first failure of an outage logs one
  WARNING, and no caller touches the backend again before the recheck time;
- `FailOpen.succeeded` after an operation worked: the end of an outage logs one INFO line.

So an outage costs each caller at most one bounded timeout (the backend's own, e.g. ``socket_timeout``),
and then nothing until the recheck. What a caller does meanwhile (memory only) is its owner's choice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ._fork import renew_after_fork

#: Seconds after a failure during which nobody tries the backend again.
REMOTE_RECHECK_SECONDS = 5.0
#: Seconds one Redis command may take (connect, send, answer) before it counts as failed: the most a
#: call waits on Redis per operation, and only until the first failure of an outage (then none).
REDIS_TIMEOUT_SECONDS = 0.25

_logger = logging.getLogger(__name__)


class FailOpen:
    """The health of one shared backend, as seen by this process (see the module docstring)."""

    def __init__(
        self,
        what: str,
        *,
        recheck: float = REMOTE_RECHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        logger: logging.Logger = _logger,
    ) -> None:
        #: What the backend is, for the log lines ("the token store RedisTokenStore('redis://…')").
        self.what = what
        self.recheck = recheck
        self._clock = clock
        self._logger = logger
        self._down_since: float | None = None
        self._retry_at = -float("inf")
        self._lock = threading.Lock()
        renew_after_fork(self, _lock=threading.Lock)

    @property
    def down(self) -> bool:
        """Whether the last operation on the backend failed (the outage is not over)."""
        return self._down_since is not None

    def usable(self) -> bool:
        """Whether to try the backend now: it works, or its recheck time has come."""
        return self._down_since is None or self._clock() >= self._retry_at

    def failed(self, error: BaseException) -> None:
        """Record a failed or timed-out operation: WARNING once per outage, then no tries until the recheck."""
        with self._lock:
            now = self._clock()
            self._retry_at = now + self.recheck
            if self._down_since is not None:
                return
            self._down_since = now
        self._logger.warning(
            "%s is unavailable (%s: %s); working without it, in this process only, until it is back "
            "(next try in %.0fs)",
            self.what,
            type(error).__name__,
            error,
            self.recheck,
        )

    def succeeded(self) -> None:
        """Record a working operation: after an outage, say once that the backend is back."""
        if self._down_since is None:
            return  # the common case: no lock, no clock
        since = self._end_outage()
        if since is not None:  # None: another thread said it first
            self._logger.info("%s is back after %.1fs", self.what, self._clock() - since)

    def _end_outage(self) -> float | None:
        """Mark the backend as working; when the outage had started (and not yet been ended), its start."""
        with self._lock:
            since, self._down_since = self._down_since, None
            return since
