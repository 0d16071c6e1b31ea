"""The runtime's exceptions. Catch `AuthError` to handle every authentication failure.

The tree::

    Exception
    ├── AuthError                     the client could not authenticate a request
    │   ├── CredentialsError          credentials are missing (e.g. an unset environment variable)
    │   ├── InsecureTransportError    refused to send credentials or a token over plain http
    │   ├── LoginError                the login operation failed or answered an unexpected shape
    │   ├── MissingCredentialsError   an operation needs a credential the client was not given
    │   ├── TokenRejectedError        the service rejected a token the client cannot replace
    │   └── UnreplayableRequestError  a rejected request had a streaming body that cannot be sent twice
    └── ServiceLimitError             the service kept answering a retryable status (e.g. 503)
        └── RateLimitTimeoutError     no slot under the account's service limit freed in time: never sent

No message, attribute or ``repr`` of these exceptions contains a password or a token: they name the
user, the status and a token fingerprint (``tok:1a2b3c4d``) instead, and URLs lose their query string.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._limits import ServiceLimits


class AuthError(Exception):
    """Catch this to handle any failure to authenticate a request."""


class CredentialsError(AuthError):
    """Set the named credential source (e.g. the environment variable) and try again."""


class InsecureTransportError(AuthError):
    """Use https, a loopback host, or pass ``allow_insecure_http=True`` to send secrets over plain http."""

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message)
        #: The refused URL without user info or query string.
        self.url = url


class LoginError(AuthError):
    """Check the credentials and the login operation; ``status_code`` is None when the shape was wrong."""

    def __init__(
        self, message: str, *, username: str, status_code: int | None = None, error_code: str | None = None
    ) -> None:
        super().__init__(message)
        self.username = username
        self.status_code = status_code
        #: The OAuth2 ``error`` of the answer (RFC 6749 §5.2: ``invalid_grant``, ``invalid_client``...), if any.
        self.error_code = error_code


class MissingCredentialsError(AuthError):
    """Pass what the message names (``token=``, ``tokens=``, ``credentials=``): raised before anything is sent."""

    def __init__(self, message: str, *, schemes: tuple[str, ...]) -> None:
        super().__init__(message)
        #: The security schemes any of which (with their AND partners) would have let the request go.
        self.schemes = schemes


class TokenRejectedError(AuthError):
    """The service rejected the token even after a fresh login, or a static token with no way to log in."""

    def __init__(self, message: str, *, status_code: int, token_fingerprint: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        #: ``fingerprint(token)`` of the rejected token, never the token itself.
        self.token_fingerprint = token_fingerprint


def static_token_rejected(status_code: int, token_fingerprint: str, description: str | None) -> TokenRejectedError:
    """The error of a rejected token the client cannot replace: named by ``description`` or its fingerprint."""
    if description is not None:  # e.g. "the HTTP Basic credentials of 'alice'"
        what, advice = description, "check them"
    else:
        what, advice = (
            f"the static token {token_fingerprint}",
            "pass credentials so the client can log in, or a fresh token",
        )
    return TokenRejectedError(
        f"the service rejected {what} with HTTP {status_code}; {advice}",
        status_code=status_code,
        token_fingerprint=token_fingerprint,
    )


class UnreplayableRequestError(AuthError):
    """Send the request again: its token was rejected and its streaming body could not be replayed."""

    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class ServiceLimitError(Exception):
    """Back off and retry later: the service kept answering a retryable status after every attempt."""

    def __init__(self, message: str, *, attempts: int, last_status: int | None, url: str) -> None:
        super().__init__(message)
        #: Requests sent (0: the call was never sent, see `RateLimitTimeoutError`).
        self.attempts = attempts
        #: The status of the last answer; None when nothing was sent, so nothing answered.
        self.last_status = last_status
        #: The request URL without user info or query string.
        self.url = url


class RateLimitTimeoutError(ServiceLimitError):
    """Send fewer calls or wait longer (``rate_limit_wait``): no slot under the service limit freed in time.

    Raised by the client-side rate limiter before the request went out: ``attempts`` is 0 and
    ``last_status`` None. ``limits`` is the limit the call was paced to, ``waited`` the seconds it waited.
    """

    def __init__(self, message: str, *, url: str, limits: ServiceLimits, waited: float) -> None:
        super().__init__(message, attempts=0, last_status=None, url=url)
        self.limits = limits
        self.waited = waited
