"""Token state and refresh decisions, as pure values: no clock reads, no locks, no I/O."""

from __future__ import annotations

import dataclasses
import enum
import math

from ._redaction import fingerprint
from ._values import Value, immutable, shown

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


@immutable
@dataclasses.dataclass(frozen=True, slots=True)
class TokenState(Value):
    """Hold one token and when it was obtained and expires, on the lifecycle's monotonic clock."""

    token: str = dataclasses.field(repr=False)
    obtained_at: float
    #: ``math.inf`` for a static token whose lifetime is unknown: it is never refreshed proactively.
    expires_at: float

    def __repr__(self) -> str:
        return shown(self, token=fingerprint(self.token))

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


@immutable
@dataclasses.dataclass(frozen=True, slots=True)
class LifecycleStats(Value):
    """A snapshot of the lifecycle's counters since it was created."""

    #: Successful logins, whatever triggered them (refreshes by refresh token are counted apart).
    logins: int = 0
    #: Logins that failed (non-2xx or a response of the wrong shape).
    failed_logins: int = 0
    #: Successful logins or refreshes triggered by the advisory or mandatory window of a token that still existed.
    proactive_refreshes: int = 0
    #: Tokens dropped because a response said they were no longer valid.
    invalidations: int = 0
    #: Requests sent a second time with a fresh token after an invalid-token status.
    replays: int = 0
    #: Tokens taken from the token store instead of logging in.
    store_hits: int = 0
    #: Tokens obtained with a refresh token (RFC 6749 §6) instead of a login.
    token_refreshes: int = 0
    #: Refreshes by refresh token that failed, each followed by a full login.
    failed_token_refreshes: int = 0
