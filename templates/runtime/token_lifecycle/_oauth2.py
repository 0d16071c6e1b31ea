"""OAuth2 (RFC 6749): what a token endpoint's error answer may say (§5.2), and the refresh token (§6).

A token endpoint that refuses a grant answers 400 (or 401) with ``{"error": "invalid_grant",
"error_description": "..."}``. The ``error`` code tells the user what to fix (``invalid_client``: the
client id or secret; ``invalid_grant``: the password or the refresh token; ``invalid_scope``), so the
`LoginError` names it. Both values are the server's text: only the characters §5.2 allows are kept,
and the description is cut short, so that an answer cannot forge log lines or flood a message.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import cast

import httpx

from ._fork import renew_after_fork
from ._redaction import SecretRedactionFilter

#: The longest ``error_description`` quoted in a `LoginError` (characters).
MAX_ERROR_DESCRIPTION = 200

#: The longest ``error`` code quoted (the RFC's codes are all far shorter).
MAX_ERROR_CODE = 64

#: Statuses of a token endpoint's error answer (§5.2: 400, or 401 for a failed client authentication).
ERROR_STATUSES = frozenset({400, 401})


def _allowed(text: str, limit: int) -> str:
    """``text`` reduced to the characters §5.2 allows (%x20-21 / %x23-5B / %x5D-7E), at most ``limit``."""
    kept = "".join(char for char in text if 0x20 <= ord(char) <= 0x7E and char not in '"\\')
    return kept if len(kept) <= limit else kept[: limit - 1] + "…"


def oauth2_error(response: httpx.Response, redact: Callable[[str], str] = str) -> tuple[str, str | None] | None:
    """The ``(error, error_description)`` of a read RFC 6749 §5.2 error answer; None when it is not one.

    Both pass through ``redact`` before they are cut to the allowed characters (which would change a
    secret the server echoed into a form the redaction no longer recognises).
    """
    if response.status_code not in ERROR_STATUSES:
        return None
    try:
        document: object = json.loads(response.content)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    fields = cast("dict[str, object]", document)
    code = fields.get("error")
    if not isinstance(code, str) or not code:
        return None
    description = fields.get("error_description")
    return (
        _allowed(redact(code), MAX_ERROR_CODE),
        _allowed(redact(description), MAX_ERROR_DESCRIPTION) if isinstance(description, str) and description else None,
    )


#: Request extension that marks a refresh by refresh token (RFC 6749 §6), as opposed to a full login.
REFRESH_EXTENSION = "token_lifecycle.refresh"


class RefreshToken:
    """The refresh token of one lifecycle: in memory only, redacted from every log while it is held.

    It is never written to the token store (which shares access tokens between processes; a refresh
    token outlives them and some servers rotate it on each use, so two processes using one would
    revoke each other's), never shown in a ``repr`` and never in a message.
    """

    __slots__ = ("__weakref__", "_current", "_lock", "_redaction")

    def __init__(self, redaction: SecretRedactionFilter) -> None:
        self._redaction = redaction
        self._current: str | None = None
        self._lock = threading.Lock()
        renew_after_fork(self, _lock=threading.Lock)

    def __repr__(self) -> str:
        return f"<RefreshToken {'held' if self._current is not None else 'none'}>"

    @property
    def current(self) -> str | None:
        """The refresh token to use, None when there is none."""
        return self._current

    def keep(self, token: str | None, *, drop: bool = False) -> None:
        """Hold ``token`` from a token answer; None keeps the one held (§6: a new one is optional).

        ``drop`` forgets the one held (rejected, or the user asked for a full login).
        """
        if token is None and not drop:
            return
        with self._lock:
            old, self._current = self._current, token
            if token is not None:
                self._redaction.pin(token)
            if old is not None:
                self._redaction.remember(old)  # a log line written soon after is still redacted
                self._redaction.unpin(old)
