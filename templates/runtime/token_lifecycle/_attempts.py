"""Finished logins and the last failure: what the callers that waited on a login share, and the back-off.

A caller notes `LoginAttempts.finished` before it waits for the single flight of logins. When it
gets its turn, a failure that finished after that note is the failure of the login it waited on:
it raises that (its own instance) instead of trying again. A failure younger than the back-off is
raised to every caller, so a crash-looping pool of workers does not hammer the login endpoint.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

from ._errors import LoginError
from ._fork import renew_after_fork


def interruption(exit_: BaseException) -> BaseException | None:
    """The exception that closed the flow mid-login (the context of the GeneratorExit), if any."""
    cause = exit_.__context__
    for _ in range(8):  # a short chain: GeneratorExit of the driver, then the one of the steps
        if not isinstance(cause, GeneratorExit):
            return cause
        cause = cause.__context__
    return None


class LoginAttempts:
    """How many logins have finished, and the last failure: (its number, the error, when on ``clock``)."""

    def __init__(self, *, clock: Callable[[], float], backoff: float) -> None:
        self._clock = clock
        self._backoff = backoff
        self._lock = threading.Lock()  # never held across I/O or a yield
        renew_after_fork(self, _lock=threading.Lock)
        self.finished = 0
        self._failure: tuple[int, LoginError, float] | None = None

    def succeeded(self) -> None:
        """A login succeeded: its failure, if any, is no longer shared."""
        with self._lock:
            self.finished += 1
            self._failure = None

    def failed(self, error: LoginError, *, back_off: bool) -> None:
        """A login failed with ``error``; ``back_off`` when the service refused (not for a broken wire)."""
        with self._lock:
            self.finished += 1
            self._failure = (self.finished, error, self._clock() if back_off else -math.inf)

    def forget_failure(self) -> None:
        """End the back-off: the next caller logs in (``invalidate()``)."""
        with self._lock:
            self._failure = None

    def is_last_failure(self, error: BaseException | None) -> bool:
        """Whether ``error`` is the failure recorded last (so not to be recorded again)."""
        failure = self._failure
        return failure is not None and failure[1] is error

    def raise_failure(self, seen: int) -> None:
        """Raise the last failure instead of a new login, when it applies to a caller that noted ``seen``.

        It applies when the failed attempt finished after the caller noted ``seen`` (the caller
        waited on it), or when it is younger than the back-off. Each caller gets its own instance.
        """
        failure = self._failure
        if failure is None:
            return
        attempt, error, at = failure
        if attempt > seen or self._clock() - at < self._backoff:
            raise LoginError(
                error.args[0], username=error.username, status_code=error.status_code, error_code=error.error_code
            )

    def backing_off(self) -> bool:
        """Tell whether a login failed less than the back-off ago (an advisory refresh then waits)."""
        failure = self._failure
        return failure is not None and self._clock() - failure[2] < self._backoff
