"""The token's state and its refresh decisions as pure values: no clock reads, no locks, no I/O."""

from __future__ import annotations

import enum
import math
from typing import ClassVar

from ._redact import fingerprint
from ._value import Value

__all__ = [
    "ADVISORY_MAX_FRACTION",
    "ADVISORY_REFRESH_SECONDS",
    "MANDATORY_MAX_FRACTION",
    "MANDATORY_REFRESH_SECONDS",
    "LifecycleStats",
    "Need",
    "TokenState",
]

#: Seconds before expiry from which one caller refreshes while the others keep the current token.
ADVISORY_REFRESH_SECONDS = 900.0

#: Seconds before expiry from which every caller waits for a fresh token.
MANDATORY_REFRESH_SECONDS = 300.0

#: Largest share of a token's lifetime the advisory window may cover. Without it a token living less
#: than the window (e.g. ``expires_in: 60``) would be "expiring" from birth and trigger a login per call.
ADVISORY_MAX_FRACTION = 0.5

#: Largest share of a token's lifetime the mandatory window may cover (see `ADVISORY_MAX_FRACTION`).
MANDATORY_MAX_FRACTION = 0.25


class Need(enum.Enum):
    """What a caller must do about the token before sending a request."""

    NOTHING = "nothing"
    ADVISORY = "advisory"
    MANDATORY = "mandatory"


class TokenState(Value):
    """Hold one token and when it was obtained and expires, on the lifecycle's monotonic clock."""

    __slots__ = ("token", "obtained_at", "expires_at")  # noqa: RUF023 - the order of the fields (repr, equality)
    _repr_fields: ClassVar = {"token": fingerprint}
    token: str
    obtained_at: float
    #: ``math.inf`` for a static token whose lifetime is unknown: it is never refreshed proactively.
    expires_at: float

    def __init__(self, token: str, obtained_at: float, expires_at: float) -> None:
        self._init(token=token, obtained_at=obtained_at, expires_at=expires_at)

    @property
    def lifetime(self) -> float:
        """Return the token's whole lifetime in seconds."""
        return self.expires_at - self.obtained_at

    def remaining(self, now: float) -> float:
        """Return the seconds left before expiry at ``now`` (negative once expired)."""
        return self.expires_at - now

    def is_expired(self, now: float) -> bool:
        """Tell whether the token has expired at ``now``."""
        return now >= self.expires_at

    def _window(self, window: float, fraction: float) -> float:
        return min(window, self.lifetime * fraction) if math.isfinite(self.lifetime) else window

    def needs_mandatory_refresh(self, now: float, window: float) -> bool:
        """Tell whether every caller must wait for a fresh token at ``now``."""
        return self.remaining(now) <= self._window(window, MANDATORY_MAX_FRACTION)

    def needs_advisory_refresh(self, now: float, window: float) -> bool:
        """Tell whether one caller should refresh at ``now`` while the token is still usable."""
        return self.remaining(now) <= self._window(window, ADVISORY_MAX_FRACTION)

    def advisory_at(self, window: float) -> float:
        """Return the moment the advisory window opens: before it, the token needs nothing."""
        return self.expires_at - self._window(window, ADVISORY_MAX_FRACTION)

    def need(self, now: float, *, advisory_window: float, mandatory_window: float) -> Need:
        """Return the most urgent refresh this token needs at ``now``."""
        if self.needs_mandatory_refresh(now, mandatory_window):
            return Need.MANDATORY
        if self.needs_advisory_refresh(now, advisory_window):
            return Need.ADVISORY
        return Need.NOTHING


class LifecycleStats(Value):
    """A snapshot of the lifecycle's counters since it was created."""

    __slots__ = ("logins", "failed_logins", "proactive_refreshes", "invalidations", "replays", "store_hits")  # noqa: RUF023 - the order of the fields (repr, equality)

    #: Successful logins, whatever triggered them.
    logins: int
    #: Logins that failed (non-2xx or a response of the wrong shape).
    failed_logins: int
    #: Successful logins triggered by the advisory or mandatory window of a token that still existed.
    proactive_refreshes: int
    #: Tokens dropped because a response said they were no longer valid.
    invalidations: int
    #: Requests sent a second time with a fresh token after an invalid-token status.
    replays: int
    #: Tokens taken from the token store instead of logging in.
    store_hits: int

    def __init__(
        self,
        logins: int = 0,
        failed_logins: int = 0,
        proactive_refreshes: int = 0,
        invalidations: int = 0,
        replays: int = 0,
        store_hits: int = 0,
    ) -> None:
        self._init(
            logins=logins,
            failed_logins=failed_logins,
            proactive_refreshes=proactive_refreshes,
            invalidations=invalidations,
            replays=replays,
            store_hits=store_hits,
        )
