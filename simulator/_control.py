"""The control API under ``/_control/`` of the API's base path: time travel, statistics, contexts, revocation, reset.

Mounted only with ``serve --control``, and answering only clients on a loopback address (403 to
anyone else, even when ``--allow-remote`` exposes the API itself):

- ``POST /_control/clock/advance?seconds=S`` — move the server clock forward by S seconds (S ≥ 0);
- ``POST /_control/clock/freeze?frozen=true|false`` — stop (default) or restart real time
  moving the clock, so a rate-limit window cannot slide during a test;
- ``GET /_control/clock`` — ``{"now", "offset", "frozen"}``;
- ``GET /_control/stats`` — logins (token grants) per account and user, and under ``grants`` per
  OAuth2 client and per grant type (``login`` for an ``x-token-lifecycle`` login), failed logins,
  refreshes per user or client (and failed ones), rejected credentials per scheme and per principal,
  requests per account and per status, the 401/403/503 counts
  (``unauthorized``, ``forbidden``, ``busy``), and per origin (``api``, and ``idp`` for the token
  port) how many requests carried credentials, access tokens or refresh tokens; under ``accounts``,
  per customer account, ``logins``, ``busy`` (503s answered) and ``ok`` (2xx answered);
- ``GET /_control/contexts`` — ``{"contexts": [...]}``, one per token, tokens as fingerprints;
- ``POST /_control/tokens/revoke?user=U`` — revoke every active token of user or client U;
  ``&refresh=true`` revokes its refresh tokens instead;
- ``POST /_control/reset`` — forget tokens, contexts, windows and counts; the clock returns to real time.

Answers are JSON; mistakes (a missing or malformed parameter, an unknown user) answer 400 or 404
with ``{"message": ...}``.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from token_lifecycle._urls import is_loopback_host

from ._fixtures import Fixtures
from ._state import SimulatorState

__all__ = ["CONTROL_PREFIX", "control_routes"]

CONTROL_PREFIX = "/_control/"

Endpoint = Callable[[Request], Awaitable[Response]]


def _message(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message}, status)


def _loopback_only(endpoint: Endpoint) -> Endpoint:
    async def guarded(request: Request) -> Response:
        client = request.client
        if client is None or not is_loopback_host(client.host):
            return _message(403, "the control API answers loopback clients only")
        return await endpoint(request)

    return guarded


def control_routes(state: SimulatorState, fixtures: Fixtures, base_path: str = "") -> list[BaseRoute]:
    """The routes of the control API, for one simulator's state, under ``base_path`` (the API's own)."""
    clock = state.clock

    def clock_view() -> dict[str, object]:
        return {"now": clock.now(), "offset": clock.offset, "frozen": clock.frozen}

    async def advance(request: Request) -> Response:
        raw = request.query_params.get("seconds")
        try:
            seconds = float(raw) if raw is not None else math.nan
        except ValueError:
            seconds = math.nan
        if not math.isfinite(seconds) or seconds < 0:
            return _message(400, f"seconds must be a finite number >= 0, not {raw!r}")
        clock.advance(seconds)
        return JSONResponse(clock_view())

    async def freeze(request: Request) -> Response:
        raw = request.query_params.get("frozen", "true").lower()
        if raw not in ("true", "false"):
            return _message(400, f"frozen must be true or false, not {raw!r}")
        clock.freeze(raw == "true")
        return JSONResponse(clock_view())

    async def show_clock(request: Request) -> Response:
        del request
        return JSONResponse(clock_view())

    async def stats(request: Request) -> Response:
        del request
        return JSONResponse(state.stats())

    async def contexts(request: Request) -> Response:
        del request
        return JSONResponse({"contexts": state.contexts()})

    async def revoke(request: Request) -> Response:
        user = request.query_params.get("user")
        if not user:
            return _message(400, "name the user whose tokens to revoke: ?user=NAME")
        if user not in fixtures.users and user not in fixtures.clients:
            return _message(404, f"no user or client named {user!r} in {fixtures.source}")
        refresh = request.query_params.get("refresh", "false").lower()
        if refresh not in ("true", "false"):
            return _message(400, f"refresh must be true or false, not {refresh!r}")
        return JSONResponse({"user": user, "revoked": state.revoke_user(user, refresh=refresh == "true")})

    async def reset(request: Request) -> Response:
        del request
        state.reset()
        return JSONResponse({"reset": True})

    table: list[tuple[str, str, Endpoint]] = [
        ("clock/advance", "POST", advance),
        ("clock/freeze", "POST", freeze),
        ("clock", "GET", show_clock),
        ("stats", "GET", stats),
        ("contexts", "GET", contexts),
        ("tokens/revoke", "POST", revoke),
        ("reset", "POST", reset),
    ]
    return [
        Route(base_path + CONTROL_PREFIX + path, _loopback_only(endpoint), methods=[method])
        for path, method, endpoint in table
    ]
