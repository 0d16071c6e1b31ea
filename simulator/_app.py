"""The Starlette application: one route per operation of the document, one pipeline for all of them.

Every request to a protected operation goes through the same steps, in this order, and the
first that fails answers:

1. **401** — the token header (the lifecycle's header name, ``<scheme> <token>``) is missing, in
   another form, or names an unknown, expired or revoked token;
2. the request's query is remembered in the token's context;
3. **503** with ``Retry-After`` — the customer account used up its rate limit;
4. **403** — the user's permissions do not include the operation;
5. **400** — a parameter or the body breaks the document;
6. the success answer.

The login operation checks its parameters (400), then the credentials (401), then issues a new
token. Public operations skip steps 1-4. Nothing here knows any particular API: routes,
parameters and shapes come from :class:`~simulator._api.Api`.

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
from generator._lifecycle import TokenLifecycleSpec

from ._api import Api, Operation
from ._control import CONTROL_PREFIX, control_routes
from ._fixtures import Fixtures
from ._requests import MAX_BODY_BYTES, Accepted, Incoming, check_request
from ._responses import Responder
from ._state import SimulatorState, retry_after_header

__all__ = ["ACCESS_LOGGER", "build_app"]

Endpoint = Callable[[Request], Awaitable[Response]]
ACCESS_LOGGER = logging.getLogger("simulator.access")
_TEMPLATE_PARAMETER = re.compile(r"\{([^{}]+)\}")


def build_app(api: Api, fixtures: Fixtures, state: SimulatorState, *, control: bool) -> Starlette:
    """The simulator of ``api`` serving ``fixtures`` under the path of its first server (``api.base_path``);
    with ``control``, the control API under ``<base path>/_control/``."""
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
        self.lifecycle = api.lifecycle
        self.login = api.login

    def endpoint(self, operation: Operation, names: Mapping[str, str]) -> Endpoint:
        """The Starlette endpoint of ``operation``."""

        async def handle(request: Request) -> Response:
            incoming = await _read(request, names)
            if incoming is None:
                return self.responder.error(operation, 400, f"The request body is larger than {MAX_BODY_BYTES} bytes")
            if operation is self.login:
                return self._login(operation, incoming)
            if operation.protected and self.lifecycle is not None:
                refused = self._guard(operation, incoming, self.lifecycle)
                if refused is not None:
                    return refused
            checked = check_request(self.api, operation, incoming)
            if isinstance(checked, str):
                return self.responder.error(operation, 400, f"{checked}.")
            return self.responder.success(operation)

        return handle

    def _guard(self, operation: Operation, incoming: Incoming, lifecycle: TokenLifecycleSpec) -> Response | None:
        """Steps 1-4: token, context, rate limit, permission; None when the request may go on."""
        token = _token(incoming.headers, lifecycle)
        context = self.state.authenticate(token if isinstance(token, str) else None, incoming.query)
        if isinstance(context, str):
            reason = token.reason if isinstance(token, _NoToken) else context
            word = lifecycle.scheme_word or lifecycle.header_name
            return self.responder.error(
                operation,
                401,
                f"Authentication required: {reason}. Log in again and resend the request.",
                {"WWW-Authenticate": f'{word} realm="simulator"'},
            )
        wait = self.state.admit(context.user.account)
        if wait is not None:
            return self.responder.error(
                operation,
                503,
                f"Server busy: the service limit of account {context.user.account} "
                f"({self.state.limit.count} requests per {self.state.limit.seconds:g} s) is used up. Try again later.",
                {"Retry-After": retry_after_header(wait)},
            )
        if not context.user.may(operation.key):
            return self.responder.error(
                operation, 403, f"Access denied: user {context.user.name!r} may not use {operation.key}."
            )
        return None

    def _login(self, operation: Operation, incoming: Incoming) -> Response:
        lifecycle = self.lifecycle
        if lifecycle is None:  # pragma: no cover - there is a login operation only with a lifecycle
            raise ValueError("the document has no token lifecycle")
        checked = check_request(self.api, operation, incoming)
        if isinstance(checked, str):
            return self.responder.error(operation, 400, f"{checked}.")
        login = lifecycle.login
        fields: dict[str, str] = {}
        for field in (login.username, login.password):
            value = _credential(checked, field.location, field.name)
            if value is None:
                return self.responder.error(operation, 400, f"Missing {field.name!r}.")
            fields[field.name] = value
        for name, expected in login.constants:
            if _credential(checked, login.username.location, name) != expected:
                return self.responder.error(operation, 400, f"{name!r} must be {expected!r}.")
        user = self.fixtures.authenticate(fields[login.username.name], fields[login.password.name])
        if user is None:
            self.state.login_failed()
            return self.responder.error(operation, 401, "Authentication failed: invalid user name or password.")
        context = self.state.issue(user)
        return self.responder.login(operation, context.token, self.state.lifetime)


class _NoToken:
    """Why a request carries no usable token (said in the 401 message)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _token(headers: Mapping[str, str], lifecycle: TokenLifecycleSpec) -> str | _NoToken:
    """The token of the lifecycle's header, or why there is none."""
    value = headers.get(lifecycle.header_name.lower())
    if value is None:
        return _NoToken(f"no {lifecycle.header_name} header was sent")
    word = lifecycle.scheme_word
    if word is None:
        return value.strip() or _NoToken(f"the {lifecycle.header_name} header is empty")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != word.lower() or not token.strip():
        return _NoToken(f"the {lifecycle.header_name} header must read '{word} <token>'")
    return token.strip()


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

        async def observe(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, observe)
        finally:
            path = str(scope.get("path", ""))
            if not path.startswith(self.control_prefix):
                self.state.record(status)
            ACCESS_LOGGER.info("%s %s %d", scope.get("method", "?"), path, status)
