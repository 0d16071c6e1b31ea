"""Security: the schemes of the API document, and which of them each request uses (`SecurityAuth`).

An OpenAPI document declares security schemes and, per operation, alternatives of them (OR of
requirements, each an AND of schemes). A generated endpoint tags its request with the requirements
of its operation (`SECURITY_EXTENSION`); `SecurityAuth` picks the first requirement the client holds
credentials for, puts the static credentials of that requirement in the request, and lets the
`TokenLifecycle` of its login scheme (at most one) drive the request: login, refresh, 401 replay.
A request no requirement can be met for fails with `MissingCredentialsError` before anything is sent.

The decision depends only on the requirements and on what the client was given, so it is taken once
per distinct requirements tuple and cached: a call pays one dictionary lookup for it.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
import weakref
from collections.abc import AsyncGenerator, Callable, Generator, Iterable, Mapping
from typing import Literal, TypeAlias, cast

import httpx

from ._auth import DEFAULT_INVALID_ON, DEFAULT_LOGGER_NAME, TokenLifecycle
from ._credentials import ClientCredentials, Credentials, basic_authorization
from ._errors import MissingCredentialsError
from ._fork import renew_after_fork
from ._hooks import AsyncEventHook, EventHook
from ._keeper import LOGIN_FAILURE_BACKOFF_SECONDS, LOGIN_TIMEOUT_SECONDS
from ._login import LoginCall
from ._placement import TokenPlacement
from ._redaction import install_redaction_filter
from ._stores import TokenStore
from ._telemetry import Telemetry
from ._urls import origin
from ._values import Value, immutable

SchemeKind: TypeAlias = Literal["token", "basic", "login", "client_credentials"]

#: One requirement: the schemes that must all be used together (``()`` is anonymous access).
Requirement: TypeAlias = tuple[str, ...]

#: An operation's requirements: any one of them will do (``()`` means the operation has no security).
Requirements: TypeAlias = tuple[Requirement, ...]

#: The httpx request extension in which a generated endpoint puts its operation's `Requirements`.
#: A request without it (made directly on the httpx client) uses the client's default requirements.
SECURITY_EXTENSION = "bearer_codegen.security"

#: Schemes whose credentials obtain a token through a login request (`TokenLifecycle` with a `LoginCall`).
LOGIN_KINDS = frozenset({"login", "client_credentials"})

#: The most distinct requirements tuples whose decision is remembered (a generated client has one per
#: operation at most; the bound only matters to code that invents extensions).
MAX_REMEMBERED_PLANS = 4096

_KINDS = frozenset({"token", "basic", "login", "client_credentials"})


@immutable
@dataclasses.dataclass(frozen=True, slots=True)
class SecurityScheme(Value):
    """One security scheme of the document, as the generated ``client.py`` describes it.

    ``kind``: ``token`` (a token the user holds: apiKey, bearer, OAuth2 flows the client cannot run),
    ``basic`` (HTTP Basic from `Credentials`), ``login`` (`Credentials` obtain a token through
    ``login``) or ``client_credentials`` (`ClientCredentials` obtain one, RFC 6749 §4.4).
    """

    kind: SchemeKind
    placement: TokenPlacement
    login: LoginCall | None = None
    lifetime: float = 3600.0
    invalid_on: frozenset[int] = DEFAULT_INVALID_ON

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"kind must be one of {sorted(_KINDS)}, got {self.kind!r}")
        if (self.login is not None) != (self.kind in LOGIN_KINDS):
            raise ValueError(f"a scheme of kind {self.kind!r} needs a login call exactly when it logs in")
        if not (self.lifetime > 0 and math.isfinite(self.lifetime)):
            raise ValueError(f"lifetime must be a positive number of seconds, got {self.lifetime!r}")

    def what_to_pass(self, name: str) -> str:
        """What a user passes to ``AuthenticatedClient`` to use this scheme (for error messages)."""
        held = f"tokens={{{name!r}: ...}} with a token you hold"
        return {
            "token": f"token= or tokens={{{name!r}: ...}}",
            "basic": "credentials=Credentials(username, password)",
            "login": f"credentials=Credentials(username, password), or {held}",
            "client_credentials": f"credentials=ClientCredentials(client_id, client_secret), or {held}",
        }[self.kind]


@dataclasses.dataclass(frozen=True, slots=True)
class _Plan:
    """What to do with a request of given requirements: the static lifecycles to apply, the one to drive."""

    statics: tuple[TokenLifecycle, ...] = ()
    driver: TokenLifecycle | None = None
    #: Set when no requirement can be met: the schemes that could have let it through.
    missing: tuple[str, ...] | None = None


_ANONYMOUS = _Plan()


class SecurityAuth(httpx.Auth):
    """The ``httpx.Auth`` of a generated ``AuthenticatedClient``: one `TokenLifecycle` per scheme it can use.

    Build it with `build`. Per request, the first requirement of the request's `SECURITY_EXTENSION`
    (default: ``default``) whose every scheme the client holds credentials for is used; an empty
    requirement only when no other can be met; requirements ``()`` send no credential. Token and
    basic schemes are put in the request as they are; at most one login scheme drives the request's
    flow (single-flight login, refresh, 401 replay). Requests to another origin than the API's pass
    untouched (each lifecycle's own rule). Thread-safe; sync and async.
    """

    def __init__(
        self,
        *,
        lifecycles: Mapping[str, TokenLifecycle],
        kinds: Mapping[str, SchemeKind],
        default: Requirements,
        base_url: str | httpx.URL,
        what_to_pass: Mapping[str, str],
        primary: TokenLifecycle | None = None,
    ) -> None:
        #: The lifecycle of each scheme this client can use, by scheme name.
        self.lifecycles: Mapping[str, TokenLifecycle] = dict(lifecycles)
        #: The lifecycle of the first usable scheme of ``default`` (its stats are the client's).
        self.primary = primary
        self._kinds = dict(kinds)
        self._default = default
        self._origin = origin(httpx.URL(base_url))
        self._what_to_pass = dict(what_to_pass)
        self._plans: dict[Requirements, _Plan] = {}
        self._plans_lock = threading.Lock()  # guards growing _plans; never held across I/O or a yield
        renew_after_fork(self, _plans_lock=threading.Lock)

    def __repr__(self) -> str:
        return f"<SecurityAuth schemes={sorted(self.lifecycles)!r}>"

    @classmethod
    def build(
        cls,
        *,
        schemes: Mapping[str, SecurityScheme],
        default: Requirements,
        base_url: str,
        credentials: Credentials | ClientCredentials | None = None,
        token: str | None = None,
        tokens: Mapping[str, str] | None = None,
        oauth2_client: ClientCredentials | None = None,
        token_url: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        store: TokenStore | None = None,
        logger_name: str = DEFAULT_LOGGER_NAME,
        allow_insecure_http: bool = False,
        login_timeout: float = LOGIN_TIMEOUT_SECONDS,
        login_wait: float | None = None,
        login_backoff: float = LOGIN_FAILURE_BACKOFF_SECONDS,
        lifecycle: TokenLifecycle | None = None,
        telemetry: Telemetry | None = None,
    ) -> SecurityAuth:
        """One `TokenLifecycle` per scheme the given credentials can serve (see ``AuthenticatedClient``).

        ``token`` serves every ``token`` scheme, or, when there is none, is a static token of every
        login scheme; ``tokens`` serves the schemes it names (and wins over ``token``); `Credentials`
        serve ``basic`` and ``login`` schemes, `ClientCredentials` ``client_credentials`` ones.
        ``oauth2_client`` authenticates the client of an OAuth2 password grant; ``token_url`` replaces
        the token URL of every OAuth2 login. ``store`` serves the first usable login scheme (in the
        order of ``default``; the others keep their token in memory). ``lifecycle`` replaces the
        primary scheme's (a lifecycle shared by clients). ``telemetry`` serves every lifecycle built here.
        """
        tokens = dict(tokens or {})
        unknown = sorted(set(tokens) - set(schemes))
        if unknown:
            raise ValueError(f"tokens= names unknown security schemes {unknown}; the schemes are {sorted(schemes)}")
        # token= is a static token of the login schemes only when no scheme takes a token as is: an API
        # key must never be sent as an OAuth2 access token (or the other way round) by mistake.
        if any(spec.kind == "token" for spec in schemes.values()):
            tokens = {**{name: token for name, spec in schemes.items() if spec.kind == "token" and token}, **tokens}
        elif token is not None:
            tokens = {**{name: token for name, spec in schemes.items() if spec.kind in LOGIN_KINDS}, **tokens}
        usable = [name for name, spec in schemes.items() if _usable(spec, name, credentials, tokens)]
        order = [name for requirement in default for name in requirement] + list(schemes)
        primary_name = next((name for name in order if name in usable), None)
        store_name = next((name for name in order if name in usable and schemes[name].kind in LOGIN_KINDS), None)
        if lifecycle is not None:
            primary_name = primary_name or next(iter(schemes), None)
        options = _Options(
            base_url, clock, logger_name, allow_insecure_http, login_timeout, login_wait, login_backoff, telemetry
        )
        lifecycles: dict[str, TokenLifecycle] = {}
        for name, spec in schemes.items():
            if name == primary_name and lifecycle is not None:
                lifecycles[name] = lifecycle
            elif name in usable:
                lifecycles[name] = _lifecycle(
                    spec,
                    credentials=credentials,
                    token=tokens.get(name),
                    oauth2_client=oauth2_client,
                    token_url=token_url,
                    store=store if name == store_name else None,
                    options=options,
                )
        return cls(
            lifecycles=lifecycles,
            kinds={name: spec.kind for name, spec in schemes.items()},
            default=default,
            base_url=base_url,
            what_to_pass={name: spec.what_to_pass(name) for name, spec in schemes.items()},
            primary=None if primary_name is None else lifecycles.get(primary_name),
        )

    # -- the decision, once per requirements tuple ---------------------------------------------------

    def _plan(self, requirements: Requirements) -> _Plan:
        plan = self._plans.get(requirements)
        if plan is None:
            plan = self._decide(requirements)
            with self._plans_lock:
                if len(self._plans) >= MAX_REMEMBERED_PLANS:
                    self._plans.clear()
                self._plans[requirements] = plan
        return plan

    def _decide(self, requirements: Requirements) -> _Plan:
        anonymous = False
        for requirement in requirements:
            if not requirement:
                anonymous = True  # only when no other requirement can be met
                continue
            if not all(name in self.lifecycles for name in requirement):
                continue
            logins = [name for name in requirement if self._kinds.get(name) in LOGIN_KINDS]
            if len(logins) > 1:
                continue  # two logins for one request: not supported (the generator warns)
            driver = logins[0] if logins else requirement[-1]
            statics = tuple(self.lifecycles[name] for name in requirement if name != driver)
            return _Plan(statics=statics, driver=self.lifecycles[driver])
        if anonymous or not requirements:
            return _ANONYMOUS
        names = tuple(dict.fromkeys(name for requirement in requirements for name in requirement))
        return _Plan(missing=names)

    def _missing(self, request: httpx.Request, plan: _Plan) -> MissingCredentialsError:
        names = plan.missing or ()
        options = "; ".join(
            f"{name!r}: pass {self._what_to_pass.get(name, 'its credentials')}"
            + ("" if name in self.lifecycles else " (not given)")
            for name in names
        )
        return MissingCredentialsError(
            f"{request.method} {request.url.path} needs credentials for one of its security requirements "
            f"{_shown(self._requirements(request))}, and this client has none that fit: {options}",
            schemes=names,
        )

    def _requirements(self, request: httpx.Request) -> Requirements:
        requirements: object = request.extensions.get(SECURITY_EXTENSION)
        if requirements is None:
            return self._default
        if type(requirements) is tuple:
            return cast("Requirements", requirements)  # what generated endpoints set
        # Lists from code of the user's own: the same requirements, in the hashable form of the cache.
        return tuple(tuple(requirement) for requirement in cast("Iterable[Iterable[str]]", requirements))

    def _prepare(self, request: httpx.Request) -> TokenLifecycle | None:
        """Apply the static credentials of the chosen requirement; the lifecycle to drive, if any."""
        if origin(request.url) != self._origin:
            return None  # the API's credentials only go to the API
        plan = self._plan(self._requirements(request))
        if plan.missing is not None:
            raise self._missing(request, plan)
        for lifecycle in plan.statics:
            lifecycle.apply_static(request)
        return plan.driver

    # -- the two drivers -------------------------------------------------------------------------------

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Authenticate ``request`` for ``httpx.Client`` (see the class docstring)."""
        driver = self._prepare(request)
        if driver is None:
            yield request
            return
        yield from driver.sync_auth_flow(request)

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Authenticate ``request`` for ``httpx.AsyncClient`` (see the class docstring)."""
        driver = self._prepare(request)
        if driver is None:
            yield request
            return
        flow = driver.async_auth_flow(request)
        try:
            sent = await flow.__anext__()
            while True:
                response = yield sent
                try:
                    sent = await flow.asend(response)
                except StopAsyncIteration:
                    return
        finally:
            await flow.aclose()

    # -- event hooks: every lifecycle's redirect guard ---------------------------------------------------

    def event_hooks(self, hooks: Mapping[str, Iterable[EventHook]] | None = None) -> dict[str, list[EventHook]]:
        """The ``event_hooks`` of the client: each lifecycle's redirect guard, then your ``hooks``.

        Your hooks are wrapped by the primary lifecycle (see `TokenLifecycle.event_hooks`).
        """
        main = self.primary or next(iter(self.lifecycles.values()), None)
        if main is None:
            return {key: list(value) for key, value in (hooks or {}).items()}
        result = main.event_hooks(hooks)
        result["request"][1:1] = [lc.redirect_guard for lc in self.lifecycles.values() if lc is not main]
        return result

    def async_event_hooks(
        self, hooks: Mapping[str, Iterable[AsyncEventHook]] | None = None
    ) -> dict[str, list[AsyncEventHook]]:
        """`event_hooks` for an ``httpx.AsyncClient``."""
        main = self.primary or next(iter(self.lifecycles.values()), None)
        if main is None:
            return {key: list(value) for key, value in (hooks or {}).items()}
        result = main.async_event_hooks(hooks)
        result["request"][1:1] = [lc.async_redirect_guard for lc in self.lifecycles.values() if lc is not main]
        return result


def _shown(requirements: Requirements) -> str:
    return " or ".join("+".join(requirement) or "(anonymous)" for requirement in requirements) or "(none)"


def _usable(
    spec: SecurityScheme, name: str, credentials: Credentials | ClientCredentials | None, tokens: Mapping[str, str]
) -> bool:
    """Whether the client holds what scheme ``name`` needs."""
    if name in tokens:
        return True
    if spec.kind == "client_credentials":
        return isinstance(credentials, ClientCredentials)
    return spec.kind in ("basic", "login") and isinstance(credentials, Credentials)


@dataclasses.dataclass(frozen=True, slots=True)
class _Options:
    """The options every lifecycle of a client shares."""

    base_url: str
    clock: Callable[[], float]
    logger_name: str
    allow_insecure_http: bool
    login_timeout: float
    login_wait: float | None
    login_backoff: float
    telemetry: Telemetry | None


def _lifecycle(
    spec: SecurityScheme,
    *,
    credentials: Credentials | ClientCredentials | None,
    token: str | None,
    oauth2_client: ClientCredentials | None,
    token_url: str | None,
    store: TokenStore | None,
    options: _Options,
) -> TokenLifecycle:
    """The lifecycle of one usable scheme: a static token, HTTP Basic as a static token, or a login."""
    login = spec.login
    static_description = None
    secret = None
    if spec.kind == "basic" and token is None:
        if not isinstance(credentials, Credentials):
            raise TypeError("unreachable: a basic scheme is usable with Credentials only")
        token = basic_authorization(credentials.username, credentials.password).removeprefix("Basic ")
        static_description = f"the HTTP Basic credentials of {credentials.username!r}"
        secret = credentials.password
    if login is not None and token_url is not None and login.oauth2:
        login = dataclasses.replace(login, path=token_url)
    fits = login is not None and isinstance(
        credentials, ClientCredentials if spec.kind == "client_credentials" else Credentials
    )
    lifecycle = TokenLifecycle(
        base_url=options.base_url,
        login=login,
        credentials=credentials if fits else None,
        token=token,
        placement=spec.placement,
        client=oauth2_client if spec.kind == "login" else None,
        static_description=static_description,
        lifetime=spec.lifetime,
        invalid_on=spec.invalid_on,
        clock=options.clock,
        store=store,
        logger_name=options.logger_name,
        allow_insecure_http=options.allow_insecure_http,
        login_timeout=options.login_timeout,
        login_wait=options.login_wait,
        login_backoff=options.login_backoff,
        telemetry=options.telemetry,
    )
    if secret is not None:
        # The password of HTTP Basic never travels as such, but a log line or a message may quote it.
        redaction = install_redaction_filter(options.logger_name)
        redaction.pin(secret)
        weakref.finalize(lifecycle, redaction.unpin_later, secret)
    return lifecycle
