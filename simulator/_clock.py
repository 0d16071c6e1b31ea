"""The simulator's clock: ``time.monotonic()`` plus an offset that the control API moves forward.

Token expiry and the rate-limit window read this clock and nothing else, so tests travel in time
with ``POST /_control/clock/advance`` instead of sleeping. The clock can also be frozen, so a
test that must not see the rate-limit window slide can say so instead of hoping it runs fast.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["Clock"]


class Clock:
    """Monotonic seconds that only ever move forward, by real time or by :meth:`advance`."""

    def __init__(self, source: Callable[[], float] = time.monotonic) -> None:
        self._source = source
        self._lock = threading.Lock()
        self._offset = 0.0
        self._frozen_at: float | None = None

    def now(self) -> float:
        """The current server time in seconds (an arbitrary origin, like ``time.monotonic``)."""
        with self._lock:
            return self._now_locked()

    def _now_locked(self) -> float:
        if self._frozen_at is not None:
            return self._frozen_at + self._offset
        return self._source() + self._offset

    @property
    def offset(self) -> float:
        """Server time minus ``time.monotonic()``: what :meth:`advance` added, less any time spent frozen."""
        with self._lock:
            return self._offset

    @property
    def frozen(self) -> bool:
        """True while real time does not move this clock."""
        with self._lock:
            return self._frozen_at is not None

    def advance(self, seconds: float) -> float:
        """Move the clock forward by ``seconds`` (never backward); returns the new time."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds
            return self._now_locked()

    def freeze(self, frozen: bool) -> float:
        """Stop (or restart) real time moving the clock; :meth:`advance` still works. Returns the time."""
        with self._lock:
            if frozen and self._frozen_at is None:
                self._frozen_at = self._source()
            elif not frozen and self._frozen_at is not None:
                # Keep the time seen while frozen: the gap of real time is absorbed into the offset.
                self._offset += self._frozen_at - self._source()
                self._frozen_at = None
            return self._now_locked()

    def reset(self) -> None:
        """Forget every advance and thaw; only the control API's reset calls this, with no state left to expire."""
        with self._lock:
            self._offset = 0.0
            self._frozen_at = None
