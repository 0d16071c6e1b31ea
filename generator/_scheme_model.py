"""The resolved security of a document: plain frozen values the templates and the simulator read.

:func:`._security.resolve_security` builds them; nothing downstream reads the raw security
schemes or ``x-token-lifecycle`` again. They live in a module of their own so that the reader of
the extension (:mod:`._lifecycle`) and the resolver (:mod:`._security`) can both build them
without importing each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import attrs

from ._problems import Problem

__all__ = [
    "CredentialField",
    "CredentialLocation",
    "LoginOperation",
    "Placement",
    "Requirement",
    "Requirements",
    "SchemeKind",
    "SchemeSpec",
    "SecurityModel",
    "TokenSource",
]

SchemeKind = Literal["token", "basic", "login", "client_credentials"]
"""What a client needs for a scheme: a token it holds, a user name and password sent as HTTP Basic,
credentials exchanged for tokens by a login, or an OAuth 2.0 client's id and secret."""
CredentialLocation = Literal["query", "header", "cookie", "form", "json", "basic"]

Requirement = tuple[str, ...]
"""Names of schemes that must all be satisfied (AND); ``()`` is the empty requirement ``{}`` (anonymous)."""
Requirements = tuple[Requirement, ...]
"""Alternatives (OR) in document order; ``()`` means the operation has no security at all."""


@attrs.frozen
class Placement:
    """Where the token travels in a protected request, and the value it is sent as."""

    location: Literal["header", "query", "cookie"]
    name: str
    """The header, query parameter or cookie name."""
    template: str
    """The value, with exactly one ``{token}`` and no other brace: ``"Bearer {token}"``, ``"{token}"``."""


@attrs.frozen
class CredentialField:
    """Where one credential travels in the login request (``basic``: HTTP Basic on the login request)."""

    location: CredentialLocation
    name: str


@attrs.frozen
class TokenSource:
    """Where the token is in a successful login answer."""

    source: Literal["body", "json", "header", "cookie"]
    pointer: str | None
    """JSON pointer to the token when ``source`` is ``json``."""
    name: str | None
    """The header or cookie name when ``source`` is ``header`` or ``cookie``."""


@attrs.frozen
class LoginOperation:
    """How to obtain a token: an operation of the document, or an OAuth 2.0 token endpoint."""

    operation_id: str | None
    """None for a ``tokenUrl`` that is no operation of the document."""
    method: str
    url: str
    """A path of the document (joined to the client's base URL) or an absolute URL (an identity provider)."""
    username: CredentialField
    """client_credentials: where the client id goes."""
    password: CredentialField
    """client_credentials: where the client secret goes."""
    constants: tuple[tuple[str, str], ...]
    """Fixed fields sent with the credentials, e.g. ``(("grant_type", "password"),)``."""

    def is_endpoint(self, method: str, path: str) -> bool:
        """Whether the endpoint ``method path`` of the document is this login operation."""
        return method.lower() == self.method.lower() and path == self.url


@attrs.frozen
class SchemeSpec:
    """One security scheme some operation uses, with everything a client needs to satisfy it."""

    name: str
    """The name under ``components/securitySchemes``."""
    kind: SchemeKind
    placement: Placement
    login: LoginOperation | None
    token: TokenSource | None
    expires_in_pointer: str | None
    refresh_token_pointer: str | None
    lifetime_seconds: float
    """How long a token lives when the login answer does not say."""
    invalid_on: tuple[int, ...]
    scopes: tuple[str, ...]
    """The scopes requested (OAuth 2.0: every scope an operation requires of this scheme)."""
    oauth2: bool
    """The login follows RFC 6749: error answers per §5.2, refresh per §6."""


@attrs.frozen
class ServiceLimitsSpec:
    """``x-service-limits``: at most ``requests`` calls per ``per`` seconds, counted per customer account."""

    requests: int
    per: float
    pointer: str
    """Where the document declares it (a JSON pointer)."""


@attrs.frozen
class SecurityModel:
    """Every scheme the operations use, the document-wide default and each operation's requirements."""

    schemes: tuple[SchemeSpec, ...]
    default: Requirements
    operations: Mapping[tuple[str, str], Requirements]
    """(document path, lowercase method) → effective requirements."""
    warnings: tuple[Problem, ...] = ()
    """What the client will not do as the document says (a requirement it ignores), with where."""
    service_limits: ServiceLimitsSpec | None = None
    """The account-wide limit the document declares (``x-service-limits``), which the client paces itself to."""

    def requirements(self, path: str, method: str) -> Requirements:
        """The effective requirements of the operation ``method path`` (``()`` when it has none)."""
        return self.operations.get((path, method.lower()), ())

    def scheme(self, name: str) -> SchemeSpec:
        """The scheme called ``name`` (KeyError when no operation uses it)."""
        for spec in self.schemes:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @property
    def login_schemes(self) -> tuple[SchemeSpec, ...]:
        """The schemes whose tokens come from a login (kind login or client_credentials)."""
        return tuple(spec for spec in self.schemes if spec.kind in ("login", "client_credentials"))
