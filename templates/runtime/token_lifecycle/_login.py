"""Login: the service's login operation as data; build its request (and its deadline), screen and read its answer."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Literal, TypeAlias, cast

import httpx

from ._credentials import Credentials, basic_authorization
from ._oauth2 import REFRESH_EXTENSION
from ._urls import join_url, origin, safe_url
from ._values import Value, immutable

FieldLocation: TypeAlias = Literal["query", "header", "cookie", "form", "json", "basic"]
TokenSource: TypeAlias = Literal["body", "json", "header", "cookie"]
ClientLocation: TypeAlias = Literal["basic", "form"]

#: Request headers the login request borrows from the request that triggered it.
LOGIN_INHERITED_HEADERS = ("User-Agent",)

#: Request extensions the login request borrows: without the client's timeouts a login could hang forever.
LOGIN_INHERITED_EXTENSIONS = ("timeout",)

#: Request extension that marks the login request, and the redirects httpx builds from it (they copy
#: it). Its value is the origin the login may go to: the redirect guards let it there and nowhere else.
LOGIN_EXTENSION = "token_lifecycle.login"

#: HTTP methods a login operation may use.
LOGIN_METHODS = frozenset({"GET", "POST"})

#: The longest token accepted (characters), from a login or a store: it travels in every request's header.
MAX_TOKEN_LENGTH = 16 * 1024


_LOCATIONS: frozenset[str] = frozenset({"query", "header", "cookie", "form", "json", "basic"})
_TOKEN_SOURCES: frozenset[str] = frozenset({"body", "json", "header", "cookie"})
_FROM_BODY: TokenSource = "body"
_FIRST_VISIBLE_ASCII = 0x21  # "!"
_LAST_VISIBLE_ASCII = 0x7E  # "~"
_FROM_JSON: TokenSource = "json"
_BODY_LOCATIONS = frozenset({"form", "json"})


class LoginRequest(httpx.Request):
    """The login request; its repr leaves out the query string, which may carry the password.

    Error trackers that capture local variables (Sentry) print the reprs of the frames a
    `LoginError` passes through; httpx's own ``Request`` repr shows the whole URL.
    """

    def __repr__(self) -> str:
        return f"<LoginRequest({self.method!r}, {safe_url(self.url)!r})>"


def _check_choice(name: str, value: str, choices: frozenset[str]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")


def _check_pointer(pointer: str | None, what: str) -> None:
    if pointer is not None and pointer != "" and not pointer.startswith("/"):
        raise ValueError(f"{what} must be an RFC 6901 JSON pointer starting with '/', got {pointer!r}")


@immutable
@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class LoginCall(Value):
    """Pass to `TokenLifecycle` to say how the service's login operation takes credentials and returns a token.

    ``path`` is a path of the API (joined to the client's base URL) or an absolute ``http(s)`` URL: an
    OAuth2 ``tokenUrl``, maybe on another origin (an identity provider). ``username_in`` and
    ``password_in`` say where the user name and password travel; ``"basic"`` (both or neither) sends
    them as ``Authorization: Basic`` on the login request. ``constants`` are fixed extra fields (e.g.
    ``("grant_type", "password")``) sent in the same place as the user name (in the form body when the
    user name travels in ``basic``). ``token_pointer`` (RFC 6901) locates the token when ``token_from
    == "json"``; ``token_name`` names the response header or cookie when ``token_from`` is ``"header"``
    or ``"cookie"``. ``expires_in_pointer`` locates a lifetime in seconds that, when present and a
    positive number, overrides the static lifetime; ``refresh_token_pointer`` a refresh token.

    ``oauth2`` marks an RFC 6749 token endpoint: the ``basic`` pair is form-urlencoded first (§2.3.1),
    error answers name their ``error`` code (§5.2), and a refresh token is used with
    ``grant_type=refresh_token`` (§6). ``client_in`` says where an ``oauth2_client`` authenticates a
    password grant (HTTP Basic by default, or ``client_id``/``client_secret`` in the form body).
    `oauth2_password` and `oauth2_client_credentials` build the two standard grants.
    """

    method: str
    path: str
    username_in: FieldLocation
    username_name: str
    password_in: FieldLocation
    password_name: str
    constants: tuple[tuple[str, str], ...] = ()
    token_from: TokenSource
    token_pointer: str | None = None
    token_name: str | None = None
    expires_in_pointer: str | None = None
    refresh_token_pointer: str | None = None
    oauth2: bool = False
    client_in: ClientLocation = "basic"

    def __post_init__(self) -> None:
        _check_choice("method", self.method, LOGIN_METHODS)
        _check_choice("username_in", self.username_in, _LOCATIONS)
        _check_choice("password_in", self.password_in, _LOCATIONS)
        _check_choice("token_from", self.token_from, _TOKEN_SOURCES)
        _check_choice("client_in", self.client_in, frozenset({"basic", "form"}))
        if len({self.username_in, self.password_in} & _BODY_LOCATIONS) > 1:
            raise ValueError("a login request has one body: user name and password cannot be in form and json")
        if (self.username_in == "basic") != (self.password_in == "basic"):  # noqa: S105 - locations
            raise ValueError("HTTP Basic carries both the user name and the password: set both locations to 'basic'")
        if self.username_in == "basic" and self.method != "POST":
            raise ValueError("a login with HTTP Basic sends its constants in a form body: it needs method='POST'")
        if "://" in self.path and not self.path.lower().startswith(("http://", "https://")):
            raise ValueError(f"path must be a path or an absolute http(s) URL, got {self.path!r}")
        if self.token_from == _FROM_JSON and self.token_pointer is None:
            raise ValueError("token_from='json' needs token_pointer, e.g. '/access_token'")
        if self.token_from in ("header", "cookie") and not self.token_name:
            raise ValueError(f"token_from={self.token_from!r} needs token_name, the {self.token_from}'s name")
        for name in ("expires_in_pointer", "refresh_token_pointer"):
            if self.token_from != _FROM_JSON and getattr(self, name) is not None:
                raise ValueError(f"{name} reads a JSON login response: it needs token_from='json'")
            _check_pointer(getattr(self, name), name)
        _check_pointer(self.token_pointer, "token_pointer")

    @classmethod
    def oauth2_password(
        cls, token_url: str, *, scopes: tuple[str, ...] = (), client_in: ClientLocation = "basic"
    ) -> LoginCall:
        """The RFC 6749 §4.3 password grant to ``token_url`` (an absolute URL, or a path of the API)."""
        return cls(
            method="POST",
            path=token_url,
            username_in="form",
            username_name="username",
            password_in="form",  # noqa: S106 - not a secret
            password_name="password",  # noqa: S106 - not a secret
            constants=_grant("password", scopes),
            client_in=client_in,
            token_from="json",  # noqa: S106 - not a secret
            token_pointer="/access_token",  # noqa: S106 - not a secret
            expires_in_pointer="/expires_in",
            refresh_token_pointer="/refresh_token",  # noqa: S106 - not a secret
            oauth2=True,
        )

    @classmethod
    def oauth2_client_credentials(
        cls, token_url: str, *, scopes: tuple[str, ...] = (), client_in: ClientLocation = "basic"
    ) -> LoginCall:
        """The RFC 6749 §4.4 client credentials grant; the client authenticates by ``client_in`` (§2.3.1)."""
        return cls(
            method="POST",
            path=token_url,
            username_in=client_in,
            username_name="client_id",
            password_in=client_in,
            password_name="client_secret",  # noqa: S106 - not a secret
            constants=_grant("client_credentials", scopes),
            client_in=client_in,
            token_from="json",  # noqa: S106 - not a secret
            token_pointer="/access_token",  # noqa: S106 - not a secret
            expires_in_pointer="/expires_in",
            refresh_token_pointer="/refresh_token",  # noqa: S106 - not a secret
            oauth2=True,
        )

    @property
    def grant_type(self) -> str | None:
        """The ``grant_type`` constant (an OAuth2 token request), None when there is none."""
        return dict(self.constants).get("grant_type")

    def url(self, base_url: httpx.URL) -> httpx.URL:
        """The login request's URL: ``path`` joined to ``base_url``, or ``path`` itself when it is absolute."""
        if self.path.lower().startswith(("http://", "https://")):
            return httpx.URL(self.path)
        return join_url(base_url, self.path)

    def password_headers(self) -> tuple[str, ...]:
        """The names of the headers that carry the password (none unless ``password_in == "header"``)."""
        return (self.password_name,) if self.password_in == "header" else ()  # noqa: S105 - a location, not a password

    def build_refresh_request(
        self,
        base_url: httpx.URL,
        refresh_token: str,
        credentials: Credentials,
        *,
        client: Credentials | None = None,
        headers: Mapping[str, str] | None = None,
        extensions: dict[str, object] | None = None,
    ) -> httpx.Request:
        """The RFC 6749 §6 refresh request: ``grant_type=refresh_token`` and the same client authentication.

        A client credentials grant authenticates with ``credentials`` (the client) where the login
        puts them; a password grant with ``client`` by ``client_in``. The user's password never goes.
        """
        fields: dict[str, list[tuple[str, str]]] = {location: [] for location in _LOCATIONS}
        fields["form"] += [("grant_type", "refresh_token"), ("refresh_token", refresh_token)]
        authenticating = credentials if self.grant_type == "client_credentials" else client
        location = self.username_in if self.grant_type == "client_credentials" else self.client_in
        if authenticating is not None:
            if location == "basic":
                fields["basic"] = [("", authenticating.username), ("", authenticating.password)]
            else:
                fields["form"] += [
                    (self.username_name if authenticating is credentials else "client_id", authenticating.username),
                    (self.password_name if authenticating is credentials else "client_secret", authenticating.password),
                ]
        return self._request(base_url, fields, headers, extensions, method="POST")

    def build_request(
        self,
        base_url: httpx.URL,
        credentials: Credentials,
        *,
        client: Credentials | None = None,
        headers: Mapping[str, str] | None = None,
        extensions: dict[str, object] | None = None,
    ) -> httpx.Request:
        """Build the login request for ``credentials`` against the client's ``base_url``.

        ``client`` (an OAuth2 client, as `Credentials`) authenticates a password grant by ``client_in``.
        """
        fields: dict[str, list[tuple[str, str]]] = {location: [] for location in _LOCATIONS}
        fields[self.username_in].append((self.username_name, credentials.username))
        fields["form" if self.username_in == "basic" else self.username_in].extend(self.constants)
        fields[self.password_in].append((self.password_name, credentials.password))
        if client is not None and self.username_in != "basic":
            if self.client_in == "basic":
                fields["basic"] = [("", client.username), ("", client.password)]
            else:
                fields["form"] += [("client_id", client.username), ("client_secret", client.password)]
        return self._request(base_url, fields, headers, extensions)

    def _request(
        self,
        base_url: httpx.URL,
        fields: dict[str, list[tuple[str, str]]],
        headers: Mapping[str, str] | None,
        extensions: dict[str, object] | None,
        *,
        method: str | None = None,
    ) -> httpx.Request:
        request_headers = httpx.Headers(headers)
        if fields["basic"]:
            (_, user), (_, password) = fields["basic"]
            request_headers["Authorization"] = basic_authorization(user, password, form_encoded=self.oauth2)
        for name, value in fields["header"]:
            request_headers[name] = value
        if fields["cookie"]:
            request_headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in fields["cookie"])
        return LoginRequest(
            method or self.method,
            self.url(base_url),
            params=tuple(fields["query"]) or None,
            headers=request_headers,
            data=dict(fields["form"]) or None,
            json=dict(fields["json"]) or None,
            extensions=extensions,
        )


def _grant(grant_type: str, scopes: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """The constant fields of an OAuth2 token request: its grant type and, when there are some, its scopes."""
    return (("grant_type", grant_type), *((("scope", " ".join(scopes)),) if scopes else ()))


def login_secrets(call: LoginCall | None, request_kwargs: Mapping[str, object]) -> tuple[str, ...]:
    """Return the password that ``request_kwargs`` (of ``httpx.Client.request``) carry for ``call``.

    The generated login operation passes its request through `redacting` with these, so that calling
    it through a plain ``Client`` never logs the password (httpx logs a query-string login's URL).
    """
    if call is None:
        return ()
    key = {"query": "params", "header": "headers", "cookie": "cookies", "form": "data", "json": "json"}.get(
        call.password_in, ""
    )
    fields = request_kwargs.get(key)
    if not isinstance(fields, Mapping):
        return ()
    value = cast("Mapping[str, object]", fields).get(call.password_name)
    return (value,) if isinstance(value, str) and value else ()


def is_header_safe(token: str) -> bool:
    """Tell whether ``token`` can go in a header as is: non-empty visible ASCII, no spaces or line breaks."""
    # Anything else would break the header or could smuggle a second one.
    return bool(token) and all(_FIRST_VISIBLE_ASCII <= ord(char) <= _LAST_VISIBLE_ASCII for char in token)


_TIMEOUT_PHASES = ("connect", "read", "write", "pool")


def login_timeout_extension(inherited: object, bound: float) -> dict[str, float]:
    """The login request's timeout extension: each phase the client's value, at most ``bound``."""
    phases = cast("dict[str, object]", inherited) if isinstance(inherited, dict) else {}
    result: dict[str, float] = {}
    for phase in _TIMEOUT_PHASES:
        value = phases.get(phase)
        result[phase] = bound if not isinstance(value, int | float) else min(float(value), bound)
    return result


def login_request_for(
    call: LoginCall,
    base_url: httpx.URL,
    credentials: Credentials,
    *,
    client: Credentials | None,
    refresh_token: str | None,
    trigger: httpx.Request,
    timeout: float,
) -> httpx.Request:
    """The request that obtains a token for ``trigger``: a refresh by ``refresh_token``, or else a login.

    It borrows the trigger's User-Agent and timeouts (each phase bounded by ``timeout``), and is marked
    with `LOGIN_EXTENSION` (and `REFRESH_EXTENSION` for a refresh).
    """
    headers = {name: trigger.headers[name] for name in LOGIN_INHERITED_HEADERS if name in trigger.headers}
    extensions: dict[str, object] = {
        **{name: trigger.extensions[name] for name in LOGIN_INHERITED_EXTENSIONS if name in trigger.extensions},
        LOGIN_EXTENSION: origin(call.url(base_url)),
        "timeout": login_timeout_extension(trigger.extensions.get("timeout"), timeout),
    }
    if refresh_token is None:
        return call.build_request(base_url, credentials, client=client, headers=headers, extensions=extensions)
    return call.build_refresh_request(
        base_url,
        refresh_token,
        credentials,
        client=client,
        headers=headers,
        extensions={**extensions, REFRESH_EXTENSION: True},
    )
