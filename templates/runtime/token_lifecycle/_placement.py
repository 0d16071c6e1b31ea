"""Placement: where a token travels in a protected request (a header, a query parameter or a cookie) and how.

A scheme of the API document says it: ``apiKey`` names a header, query parameter or cookie and sends
the key as is; ``http bearer`` and OAuth2 send ``Authorization: Bearer <token>``; ``http basic``
sends ``Authorization: Basic <base64>``; some services want ``Authorization: Token token=<key>``.
`TokenPlacement` holds the three answers and puts a token in a request: the only place the runtime
writes a token into a request, so that a replay replaces the token the first try carried.
"""

from __future__ import annotations

import dataclasses
from typing import Literal, TypeAlias

import httpx

from ._values import Value, immutable

PlacementLocation: TypeAlias = Literal["header", "query", "cookie"]

#: The mark of the token in a placement's ``template``.
TOKEN_MARK = "{token}"  # noqa: S105 - a placeholder, not a token

_LOCATIONS = frozenset({"header", "query", "cookie"})


@immutable
@dataclasses.dataclass(frozen=True, slots=True)
class TokenPlacement(Value):
    """Where (``location``, ``name``) and how (``template``, with exactly one ``{token}``) a token travels."""

    location: PlacementLocation = "header"
    name: str = "Authorization"
    template: str = "Bearer {token}"

    def __post_init__(self) -> None:
        if self.location not in _LOCATIONS:
            raise ValueError(f"location must be one of {sorted(_LOCATIONS)}, got {self.location!r}")
        if not self.name or any(char in self.name for char in " \t\r\n;=,"):
            raise ValueError(f"name must be a non-empty token without spaces, ';', '=' or ',', got {self.name!r}")
        if self.template.count(TOKEN_MARK) != 1:
            raise ValueError(f"template must contain {TOKEN_MARK!r} exactly once, got {self.template!r}")
        if any(char in self.template for char in "\r\n"):
            raise ValueError("template must not contain a line break")

    @classmethod
    def header(cls, name: str = "Authorization", scheme: str | None = "Bearer") -> TokenPlacement:
        """The placement of ``<name>: <scheme> <token>`` (the bare token when ``scheme`` is None)."""
        return cls("header", name, TOKEN_MARK if scheme is None else f"{scheme} {TOKEN_MARK}")

    def value(self, token: str) -> str:
        """The value that carries ``token`` (the template filled in)."""
        return self.template.replace(TOKEN_MARK, token)

    @property
    def secret_header(self) -> str | None:
        """The request header that carries the token (``Cookie`` for a cookie), None for a query parameter."""
        return {"header": self.name, "cookie": "Cookie"}.get(self.location)

    def apply(self, request: httpx.Request, token: str) -> None:
        """Put ``token`` in ``request``, replacing a token this placement put there before (a replay)."""
        value = self.template.replace(TOKEN_MARK, token)
        if self.location == "header":
            request.headers[self.name] = value
        elif self.location == "query":
            request.url = request.url.copy_set_param(self.name, value)
        else:
            request.headers["Cookie"] = _with_cookie(request.headers.get("Cookie"), self.name, value)


def _with_cookie(header: str | None, name: str, value: str) -> str:
    """A ``Cookie`` header value with ``name=value``, and none of the earlier values of ``name``."""
    pair = f"{name}={value}"
    if not header:
        return pair
    kept = [part for part in (item.strip() for item in header.split(";")) if part and part.split("=", 1)[0] != name]
    return "; ".join([*kept, pair])
