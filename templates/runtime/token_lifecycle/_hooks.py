"""Event hooks that keep secrets with the service: the redirect guard, and wrappers of your own hooks.

httpx runs event hooks inside its send, where the auth flow cannot see: a followed redirect, a
response on its way to the flow. `EventHookGuard` supplies the hooks a `TokenLifecycle` needs there
(`TokenLifecycle.event_hooks` hands them out): the token and password never follow a redirect to
another origin, a login is never followed to another origin, your response hooks skip the 401 the
lifecycle will replay, and what your hooks raise loses every secret from its message.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeAlias

import httpx

from ._errors import InsecureTransportError
from ._keeper import TokenKeeper
from ._login import LOGIN_EXTENSION
from ._redaction import SecretRedactionFilter
from ._urls import origin, safe_url

#: An httpx event hook of a sync client: called with each request, or each response.
EventHook: TypeAlias = Callable[[Any], Any]
#: An httpx event hook of an async client: a coroutine function, awaited.
AsyncEventHook: TypeAlias = Callable[[Any], Awaitable[Any]]

#: Request extension set while a request first goes out with the token: a 401 (``invalid_on``) answer to
#: it belongs to the lifecycle, which invalidates and replays, so your response hooks skip it.
REPLAY_PENDING = "token_lifecycle.replay_pending"


class EventHookGuard:
    """The event hooks of one `TokenLifecycle` (see the module docstring)."""

    def __init__(
        self,
        *,
        keeper: TokenKeeper,
        origin: tuple[str, bytes, int | None],
        secret_headers: tuple[str, ...],
        redaction: SecretRedactionFilter,
        logger: logging.Logger,
    ) -> None:
        self._keeper = keeper
        self._origin = origin
        # Headers the lifecycle fills with a secret: removed from requests to other origins.
        self._secret_headers = secret_headers
        self._redaction = redaction
        self._logger = logger

    def redirect_guard(self, request: httpx.Request) -> None:
        """An httpx ``request`` event hook: no password or token goes to another origin than the service.

        httpx drops ``Authorization`` when it follows a redirect to another origin, but keeps every other
        header: a token in a custom header (Synthetic Classic's ``Authentication``), or a password that
        the login sends in a header, would reach the redirect's target. This hook removes those headers
        from any request to another origin than ``base_url``, and refuses the request with
        `InsecureTransportError` when a password or token is still in it (its URL, a header or the body
        of a redirected login). A login redirected to another origin is not followed at all: `LoginError`
        (what that origin answers is not the service's token). The generated ``AuthenticatedClient``
        installs it through `event_hooks`.
        """
        target = origin(request.url)
        if target == self._origin or request.extensions.get(LOGIN_EXTENSION) == target:
            return  # the service, or a login (or a redirect of it) to the origin it was built for
        for name in self._secret_headers:
            value = request.headers.get(name)
            if value is not None and self._redaction.redact(value) != value:
                del request.headers[name]
                self._logger.warning(
                    "removed the %s header from a request to %s, another origin than the service",
                    name,
                    safe_url(request.url),
                )
        if self._carries_secret(request):
            raise InsecureTransportError(
                f"refusing to send a password or token to {safe_url(request.url)}: another origin than the "
                "service (a followed redirect?)",
                url=safe_url(request.url),
            )
        if request.extensions.get(LOGIN_EXTENSION):
            # A login redirected to another origin: its answer would not be the service's token.
            raise self._keeper.login_redirected(request.url)

    async def async_redirect_guard(self, request: httpx.Request) -> None:
        """`redirect_guard` for ``httpx.AsyncClient``, which awaits its event hooks."""
        self.redirect_guard(request)

    def event_hooks(self, hooks: Mapping[str, Iterable[EventHook]] | None = None) -> dict[str, list[EventHook]]:
        """The ``event_hooks`` of an ``httpx.Client`` that uses this lifecycle, around your own ``hooks``.

        `redirect_guard` comes first. Your hooks then see every request and response, the login's
        included, but for one: an ``invalid_on`` answer (401) to a request that the lifecycle will
        invalidate the token for and replay. httpx runs response hooks before the auth flow sees the
        response, so a ``raise_for_status()`` hook would otherwise abort the recovery; your hooks see the
        replay's answer instead (and its 401 too, if the fresh token is rejected as well). When one of
        your hooks raises, any password or token is removed from the exception's message first
        (``response.raise_for_status()`` would otherwise print a login URL that carries the password).
        """
        hooks = hooks or {}
        return {
            "request": [self.redirect_guard, *(self._shielded(hook) for hook in hooks.get("request", ()))],
            "response": [self._unless_replaying(self._shielded(hook)) for hook in hooks.get("response", ())],
        }

    def async_event_hooks(
        self, hooks: Mapping[str, Iterable[AsyncEventHook]] | None = None
    ) -> dict[str, list[AsyncEventHook]]:
        """`event_hooks` for an ``httpx.AsyncClient``: the hooks are coroutine functions."""
        hooks = hooks or {}
        return {
            "request": [
                self.async_redirect_guard,
                *(self._async_shielded(hook) for hook in hooks.get("request", ())),
            ],
            "response": [
                self._async_unless_replaying(self._async_shielded(hook)) for hook in hooks.get("response", ())
            ],
        }

    def _replaying(self, response: Any) -> bool:
        """Whether the lifecycle will handle ``response``: the service's ``invalid_on`` answer to a token's first try.

        A followed redirect's answer comes from ``response.request``, a copy that keeps the mark: it
        counts only when it comes from the service's origin, like the flow's own verdict on it.
        """
        if not isinstance(response, httpx.Response) or response.status_code not in self._keeper.invalid_on:
            return False
        try:
            request = response.request
        except RuntimeError:  # a response built by hand, without its request
            return False
        return request.extensions.get(REPLAY_PENDING) is True and origin(request.url) == self._origin

    def _unless_replaying(self, hook: EventHook) -> EventHook:
        @functools.wraps(hook)
        def unless_replaying(response: Any) -> Any:
            return None if self._replaying(response) else hook(response)

        return unless_replaying

    def _async_unless_replaying(self, hook: AsyncEventHook) -> AsyncEventHook:
        @functools.wraps(hook)
        async def unless_replaying(response: Any) -> Any:
            return None if self._replaying(response) else await hook(response)

        return unless_replaying

    def _shielded(self, hook: EventHook) -> EventHook:
        @functools.wraps(hook)
        def shielded(event: Any) -> Any:
            try:
                return hook(event)
            except Exception as exc:
                self._redact_exception(exc)
                raise

        return shielded

    def _async_shielded(self, hook: AsyncEventHook) -> AsyncEventHook:
        @functools.wraps(hook)
        async def shielded(event: Any) -> Any:
            try:
                return await hook(event)
            except Exception as exc:
                self._redact_exception(exc)
                raise

        return shielded

    def _redact_exception(self, exc: BaseException) -> None:
        # The same exception, raised on: its type and attributes stay, its message loses the secrets.
        exc.args = tuple(self._redaction.redact(arg) if isinstance(arg, str) else arg for arg in exc.args)

    def _carries_secret(self, request: httpx.Request) -> bool:
        texts = [str(request.url), *(value for _, value in request.headers.multi_items())]
        if isinstance(request.stream, httpx.ByteStream):  # a body in memory; a stream is never consumed here
            texts.append(b"".join(request.stream).decode("utf-8", "replace"))
        return any(self._redaction.redact(text) != text for text in texts)
