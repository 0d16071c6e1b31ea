"""Who a request acts for: its operation's security requirements checked against what it carries.

Each scheme is checked the way its kind says (contract §1 of issue 14):

- ``token`` (apiKey in a header, query parameter or cookie; http bearer; oauth2 flows a client cannot
  run by itself): the value where the scheme's placement puts it must be a static token of the
  fixtures that this scheme accepts;
- ``basic``: ``Authorization: Basic base64(user:password)`` of a fixtures user;
- ``login`` / ``client_credentials``: a token this simulator issued for *this* scheme, still active.

A requirement (an AND of schemes) is met when every scheme in it is; an operation's alternatives
(OR) are tried in order and the first met wins. An empty requirement admits anonymous requests,
but only when no other alternative is met, so that a request that does authenticate is counted and
permitted as its principal. OAuth2 scopes an operation requires are checked against the scopes
granted to the token: missing scopes are a 403 ``insufficient_scope`` (RFC 6750 §3.1), not a 401.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from urllib.parse import unquote

import attrs

from generator._security import Placement, SchemeSpec

from ._api import Api, Operation, ScopedRequirement
from ._fixtures import Fixtures, User
from ._requests import Incoming
from ._state import SimulatorState, TokenContext

__all__ = ["Admitted", "Refused", "authenticate", "basic_credentials", "challenge", "placed_token"]


@attrs.frozen
class Admitted:
    """The request may go on, acting for ``user`` (None: anonymous, through an empty requirement)."""

    user: User | None
    context: TokenContext | None
    """The issued token's context when a login scheme authenticated the request."""


@attrs.frozen
class Refused:
    """The request is refused: 401 (no valid credentials) or 403 (valid, but missing OAuth2 scopes)."""

    status: int
    reason: str
    scheme: str
    """The scheme whose check failed (named in the challenge and counted in the statistics)."""
    missing_scopes: frozenset[str] = frozenset()
    user: User | None = None


@attrs.frozen
class _Met:
    user: User
    context: TokenContext | None
    scopes: frozenset[str] | None
    """Scopes granted; None when the scheme has no notion of scopes (static tokens, basic)."""


def authenticate(
    api: Api, operation: Operation, incoming: Incoming, fixtures: Fixtures, state: SimulatorState
) -> Admitted | Refused:
    """Check ``incoming`` against the requirements of ``operation`` (see the module docstring)."""
    first: Refused | None = None
    for requirement in operation.security:
        if not requirement:
            continue
        outcome = _requirement(api, requirement, incoming, fixtures, state)
        if isinstance(outcome, Admitted):
            return outcome
        # A request that authenticates but lacks scopes hears about the scopes, not about other schemes.
        if first is None or (outcome.status == 403 and first.status != 403):
            first = outcome
    if any(not requirement for requirement in operation.security) or not operation.security or first is None:
        return Admitted(None, None)
    return first


def _requirement(
    api: Api, requirement: ScopedRequirement, incoming: Incoming, fixtures: Fixtures, state: SimulatorState
) -> Admitted | Refused:
    principal: _Met | None = None
    for name, required in requirement:
        scheme = api.scheme(name)
        met = _scheme(scheme, incoming, fixtures, state)
        if isinstance(met, str):
            return Refused(401, met, name)
        missing = required - met.scopes if met.scopes is not None else frozenset[str]()
        if missing:
            return Refused(
                403, f"the token lacks the scope(s) {' '.join(sorted(missing))}", name, frozenset(missing), met.user
            )
        principal = principal or met
    if principal is None:  # pragma: no cover - empty requirements are handled by the caller
        return Admitted(None, None)
    return Admitted(principal.user, principal.context)


def _scheme(scheme: SchemeSpec, incoming: Incoming, fixtures: Fixtures, state: SimulatorState) -> _Met | str:
    """Who the request is for this one scheme, or why it is nobody."""
    if scheme.kind == "basic":
        pair = basic_credentials(incoming.headers.get("authorization"))
        if pair is None:
            return "no 'Authorization: Basic' header with a user name and password was sent"
        user = fixtures.authenticate(*pair)
        return "invalid user name or password" if user is None else _Met(user, None, None)
    token = placed_token(scheme.placement, incoming)
    if not isinstance(token, str):
        return token.reason
    if scheme.kind == "token":
        static = fixtures.tokens.get(token)
        if static is None or not static.accepted_by(scheme.name):
            return f"the {_where(scheme.placement)} does not carry a known token"
        return _Met(static.principal, None, None)
    context = state.authenticate(token, incoming.query, issuer=scheme.name)
    if isinstance(context, str):
        return context
    return _Met(context.user, context, context.scopes if scheme.oauth2 else None)


@attrs.frozen
class _NoToken:
    reason: str


def placed_token(placement: Placement, incoming: Incoming) -> str | _NoToken:
    """The token where ``placement`` puts it (the template's fixed text around it removed), or why there is none.

    The text before ``{token}`` is compared without regard to case (``bearer`` = ``Bearer``: auth-scheme
    names are case-insensitive, RFC 9110 §11.1).
    """
    prefix, _, suffix = placement.template.partition("{token}")
    where = _where(placement)
    if placement.location == "header":
        value = incoming.headers.get(placement.name.lower())
    elif placement.location == "query":
        value = next((v for name, v in incoming.query if name == placement.name), None)
    else:
        value = incoming.cookies.get(placement.name)
    if value is None:
        return _NoToken(f"no {where} was sent")
    fits = value[: len(prefix)].lower() == prefix.lower() and value.endswith(suffix)
    token = value[len(prefix) : len(value) - len(suffix)].strip() if fits else ""
    if not fits or not token:
        shape = placement.template.replace("{token}", "<token>")
        return _NoToken(f"the {where} must read '{shape}'")
    return token


def _where(placement: Placement) -> str:
    noun = {"header": "header", "query": "query parameter", "cookie": "cookie"}[placement.location]
    return f"{placement.name} {noun}"


_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """User name and password of an ``Authorization: Basic`` value; None when it is absent or malformed.

    Each half is percent-decoded as well, as OAuth2 client authentication requires (RFC 6749 §2.3.1);
    a plain user name or password without ``%`` is unchanged by that.
    """
    if header is None:
        return None
    word, _, encoded = header.strip().partition(" ")
    encoded = encoded.strip()
    if word.lower() != "basic" or not _BASE64.fullmatch(encoded):
        return None
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = decoded.partition(":")
    if not colon:
        return None
    return unquote(user), unquote(password)


def challenge(api: Api, operation: Operation, refused: Refused) -> Mapping[str, str]:
    """The ``WWW-Authenticate`` header of a refusal: one challenge per scheme the operation accepts."""
    if refused.status == 403:
        scope = " ".join(sorted(refused.missing_scopes))
        return {"WWW-Authenticate": f'Bearer realm="simulator", error="insufficient_scope", scope="{scope}"'}
    words: list[str] = []
    for requirement in operation.security:
        for name, _ in requirement:
            word = _challenge_word(api.scheme(name))
            if word not in words:
                words.append(word)
    return {"WWW-Authenticate": ", ".join(f'{word} realm="simulator"' for word in words)}


def _challenge_word(scheme: SchemeSpec) -> str:
    """The auth-scheme word of a challenge: the template's first word (``Bearer``, ``Token`` of
    ``Token token={token}``), else the header, parameter or cookie name (a bare API key)."""
    words = scheme.placement.template.partition("{token}")[0].split()
    return words[0] if words else scheme.placement.name
