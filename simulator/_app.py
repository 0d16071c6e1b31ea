"""The Starlette application: one route per operation of the document, one pipeline for all of them.

Every request to a protected operation goes through the same steps, in this order, and the
first that fails answers:

1. **401** — no alternative of the operation's security is met: the credentials of its schemes
   are missing, in another form, wrong, or name an unknown, expired or revoked token
   (:mod:`._auth`); **403** ``insufficient_scope`` when the token lacks an OAuth2 scope;
2. the request's query is remembered in the token's context;
3. **503** with ``Retry-After`` — the customer account used up its rate limit;
4. **403** — the principal's permissions do not include the operation;
5. **400** — a parameter or the body breaks the document;
6. the success answer.

A login operation of ``x-token-lifecycle`` checks its parameters (400), then the credentials
(401), then issues a new token, in the body, a JSON field, a header or a cookie as the scheme
says. OAuth2 token endpoints are answered by :class:`~simulator._oauth.TokenService`. Public
operations skip steps 1-4. Nothing here knows any particular API: routes, parameters, shapes and
schemes come from :class:`~simulator._api.Api`.

With a token port, the same application also listens on a second socket that stands for an
identity provider on another origin: there only the token endpoints answer. Every request is
searched for credentials and tokens and counted per origin (:mod:`._exposure`).

The access log names method, path and status only: the query string is left out because a
login URL may carry the password, and tokens are never logged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from generator._jsonish import as_mapping
from generator._security import SchemeSpec

from ._api import Api, Operation, TokenEndpoint
from ._auth import Refused, authenticate, basic_credentials, challenge
from ._control import CONTROL_PREFIX, control_routes
from ._exposure import observe
from ._fixtures import Fixtures
from ._oauth import TokenService
from ._requests import MAX_BODY_BYTES, Accepted, Incoming, check_request
from ._responses import Responder
from ._state import SimulatorState, retry_after_header

__all__ = ["ACCESS_LOGGER", "API_ORIGIN", "IDP_ORIGIN", "build_app"]

Endpoint = Callable[[Request], Awaitable[Response]]
ACCESS_LOGGER = logging.getLogger("simulator.access")
API_ORIGIN = "api"
IDP_ORIGIN = "idp"
"""The names the control API's statistics give the API's port and the token port."""
_TEMPLATE_PARAMETER = re.compile(r"\{([^{}]+)\}")
_TOKEN_PORT = "simulator.token_port"  # noqa: S105 - a scope key, not a secret
"""The ASGI scope key under which the token port travels to the endpoints."""
_ACCOUNT = "simulator.account"
"""The ASGI scope key under which the customer account a request acts for travels back to the access log,
which counts its answer for that account (a 503 or a 2xx)."""


def build_app(
    api: Api, fixtures: Fixtures, state: SimulatorState, *, control: bool, token_port: int | None = None
) -> Starlette:
    """The simulator of ``api`` serving ``fixtures`` under the path of its first server (``api.base_path``);
    with ``control``, the control API under ``<base path>/_control/``; with ``token_port``, requests that
    arrive on that port reach the token endpoints only."""
    pipeline = _Pipeline(api, fixtures, state)
    # One route per path, so that a 405 lists every method of the path in Allow. Literal segments
    # win over templates (`/tests/search` before `/tests/{id}`), as OpenAPI says.
    handlers: dict[str, dict[str, Endpoint]] = {}
    for operation in sorted(api.operations, key=lambda op: len(_TEMPLATE_PARAMETER.findall(op.path))):
        path, names = _route_path(operation.path)
        handlers.setdefault(path, {})[operation.method] = pipeline.endpoint(operation, names)
    routes: list[BaseRoute] = [
        Route(api.base_path + path, _dispatch(by_method), methods=list(by_method))
        for path, by_method in handlers.items()
    ]
    for endpoint in api.token_endpoints:
        if endpoint.operation is None:
            routes.append(Route(endpoint.path, pipeline.token_endpoint(endpoint), methods=["POST"]))
    if control:
        routes.extend(control_routes(state, fixtures, api.base_path))

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        headers = exc.headers if isinstance(exc, HTTPException) else None
        del request
        reason = {404: f"No operation of {api.display} has this path.", 405: "This path has no such method."}
        message = reason.get(status, "The request could not be served.")
        return pipeline.responder.error(None, status, message, headers)

    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error})
    # A path the spec does not have is a 404, as the service would answer, not a redirect to a near one.
    app.router.redirect_slashes = False
    app.add_middleware(_AccessLog, state=state, control_prefix=api.base_path + CONTROL_PREFIX)
    if token_port is not None:
        paths = frozenset(endpoint.path for endpoint in api.token_endpoints)
        app.add_middleware(_TokenPortOnly, port=token_port, paths=paths)
    return app


def _dispatch(by_method: Mapping[str, Endpoint]) -> Endpoint:
    """The endpoint of a path: the operation of the request's method (HEAD is served as GET)."""

    async def dispatch(request: Request) -> Response:
        method = request.method if request.method in by_method else "GET"
        return await by_method[method](request)

    return dispatch


def _route_path(template: str) -> tuple[str, dict[str, str]]:
    """A Starlette path for an OpenAPI path template, and its parameter names back to the document's.

    Document names may hold characters Starlette does not accept (``{user-id}``), so each becomes
    ``p0``, ``p1``, ...
    """
    names: dict[str, str] = {}

    def rename(match: re.Match[str]) -> str:
        key = f"p{len(names)}"
        names[key] = match.group(1)
        return "{" + key + "}"

    return _TEMPLATE_PARAMETER.sub(rename, template), names


class _Pipeline:
    """The steps every request goes through (see the module docstring)."""

    def __init__(self, api: Api, fixtures: Fixtures, state: SimulatorState) -> None:
        self.api = api
        self.fixtures = fixtures
        self.state = state
        self.responder = Responder(api, fixtures)
        self.tokens = TokenService(api, fixtures, state)

    def endpoint(self, operation: Operation, names: Mapping[str, str]) -> Endpoint:
        """The Starlette endpoint of ``operation``."""
        token_endpoint = self.api.token_endpoint(operation)
        login = self.api.login_scheme(operation)

        async def handle(request: Request) -> Response:
            incoming = await _read(request, names)
            if incoming is None:
                return self.responder.error(operation, 400, f"The request body is larger than {MAX_BODY_BYTES} bytes")
            observe(_origin(request), incoming, self.fixtures, self.state)
            if token_endpoint is not None:
                return self.tokens.answer(token_endpoint, incoming)
            if login is not None:
                return self._login(operation, login, incoming)
            refused = self._guard(operation, incoming, request.scope)
            if refused is not None:
                return refused
            checked = check_request(self.api, operation, incoming)
            if isinstance(checked, str):
                return self.responder.error(operation, 400, f"{checked}.")
            return self.responder.success(operation)

        return handle

    def token_endpoint(self, endpoint: TokenEndpoint) -> Endpoint:
        """The Starlette endpoint of a token endpoint the document has no operation for."""

        async def handle(request: Request) -> Response:
            incoming = await _read(request, {})
            if incoming is None:
                return self.responder.error(None, 400, f"The request body is larger than {MAX_BODY_BYTES} bytes")
            observe(_origin(request), incoming, self.fixtures, self.state)
            return self.tokens.answer(endpoint, incoming)

        return handle

    def _guard(self, operation: Operation, incoming: Incoming, scope: Scope) -> Response | None:
        """Steps 1-4: credentials, context, rate limit, permission; None when the request may go on.

        Once the principal is known, its account is written into ``scope`` for the access log."""
        verdict = authenticate(self.api, operation, incoming, self.fixtures, self.state)
        if isinstance(verdict, Refused):
            self.state.reject(verdict.scheme, verdict.user)
            headers = challenge(self.api, operation, verdict)
            if verdict.status == 403:
                message = f"Insufficient scope: {verdict.reason}."
            else:
                message = f"Authentication required: {verdict.reason}. Log in again and resend the request."
            return self.responder.error(operation, verdict.status, message, headers)
        user = verdict.user
        if user is None:
            return None
        scope[_ACCOUNT] = user.account
        if verdict.context is None:
            self.state.count_request(user)
        wait = self.state.admit(user.account)
        if wait is not None:
            return self.responder.error(
                operation,
                503,
                f"Server busy: the service limit of account {user.account} "
                f"({self.state.limit.count} requests per {self.state.limit.seconds:g} s) is used up. Try again later.",
                {"Retry-After": retry_after_header(wait)},
            )
        if not user.may(operation.key):
            return self.responder.error(
                operation, 403, f"Access denied: user {user.name!r} may not use {operation.key}."
            )
        return None

    def _login(self, operation: Operation, scheme: SchemeSpec, incoming: Incoming) -> Response:
        """A login operation of ``x-token-lifecycle``: credentials where the scheme says, then a new token."""
        login = scheme.login
        if login is None:  # pragma: no cover - login_scheme() only returns schemes with a login
            raise ValueError(f"the scheme {scheme.name!r} has no login")
        checked = check_request(self.api, operation, incoming)
        if isinstance(checked, str):
            return self.responder.error(operation, 400, f"{checked}.")
        basic = basic_credentials(incoming.headers.get("authorization"))
        values: list[str] = []
        for index, field in enumerate((login.username, login.password)):
            if field.location == "basic":
                value = basic[index] if basic is not None else None
                where = "an 'Authorization: Basic' header"
            else:
                value = _credential(checked, field.location, field.name)
                where = repr(field.name)
            if value is None:
                return self.responder.error(operation, 400, f"Missing {where}.")
            values.append(value)
        at = login.username.location if login.username.location != "basic" else login.password.location
        for name, expected in login.constants:
            if _credential(checked, at, name) != expected:
                return self.responder.error(operation, 400, f"{name!r} must be {expected!r}.")
        user = self.fixtures.authenticate(values[0], values[1])
        if user is None:
            self.state.login_failed()
            self.state.reject(scheme.name)
            return self.responder.error(operation, 401, "Authentication failed: invalid user name or password.")
        lifetime = self.state.lifetime_of(scheme.lifetime_seconds)
        context = self.state.issue(user, lifetime, issuer=scheme.name)
        return self.responder.login(operation, scheme, context.token, lifetime)


def _origin(request: Request) -> str:
    """Which origin a request reached: the token port (the identity provider) or the API's."""
    port = request.scope.get(_TOKEN_PORT)
    server = request.scope.get("server")
    return IDP_ORIGIN if port is not None and server is not None and server[1] == port else API_ORIGIN


def _credential(checked: Accepted, location: str, name: str) -> str | None:
    in_body = location in ("form", "json")
    value = as_mapping(checked.body).get(name) if in_body else checked.values.get((location, name))
    return None if value is None else str(value)


async def _read(request: Request, names: Mapping[str, str]) -> Incoming | None:
    """The request as :func:`check_request` reads it; None when the body is too large."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    content_type = request.headers.get("content-type")
    return Incoming(
        path_params={names.get(key, key): str(value) for key, value in request.path_params.items()},
        query=list(request.query_params.multi_items()),
        headers={key.lower(): value for key, value in request.headers.items()},
        cookies=dict(request.cookies),
        content_type=content_type.split(";")[0].strip().lower() if content_type else None,
        body=b"".join(chunks),
    )


class _AccessLog:
    """ASGI middleware: count every API answer by status and log ``METHOD /path STATUS`` (no query)."""

    def __init__(self, app: ASGIApp, state: SimulatorState, control_prefix: str) -> None:
        self.app = app
        self.state = state
        self.control_prefix = control_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            path = str(scope.get("path", ""))
            if not path.startswith(self.control_prefix):
                account = scope.get(_ACCOUNT)
                self.state.record(status, account if isinstance(account, str) else None)
            ACCESS_LOGGER.info("%s %s %d", scope.get("method", "?"), path, status)


class _TokenPortOnly:
    """ASGI middleware: on the token port, only the token endpoints answer (404 for anything else)."""

    def __init__(self, app: ASGIApp, port: int, paths: frozenset[str]) -> None:
        self.app = app
        self.port = port
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope[_TOKEN_PORT] = self.port
        server = scope.get("server")
        if server is not None and server[1] == self.port and scope.get("path") not in self.paths:
            body = b'{"message":"This origin serves the token endpoint only."}'
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 404, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)
