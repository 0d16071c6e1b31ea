"""Credentials: a user name and a password, or an OAuth2 client id and secret, that never print."""

from __future__ import annotations

import base64
import dataclasses
import os
from urllib.parse import quote_plus

from ._errors import CredentialsError
from ._values import Value, immutable, shown


def basic_authorization(username: str, password: str, *, form_encoded: bool = False) -> str:
    """The ``Authorization`` value of HTTP Basic (RFC 7617) for the pair: ``Basic base64(user:password)``.

    ``form_encoded`` first form-urlencodes both, as RFC 6749 §2.3.1 wants of an OAuth2 client's id and
    secret (a ``:`` in a client id would otherwise split the pair at the wrong place).
    """
    if form_encoded:
        username, password = quote_plus(username, safe=""), quote_plus(password, safe="")
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


@immutable
@dataclasses.dataclass(frozen=True, slots=True)
class Credentials(Value):
    """Pass to `TokenLifecycle` to log in; ``repr()`` shows the user name and ``password='***'``."""

    username: str
    password: str = dataclasses.field(repr=False)

    def __repr__(self) -> str:
        return shown(self, password="'***'")  # noqa: S106 - the stand-in, not a password

    @classmethod
    def from_env(cls, user_var: str, password_var: str) -> Credentials:
        """Read credentials from two environment variables; raise `CredentialsError` naming a missing one."""
        values: list[str] = []
        for var in (user_var, password_var):
            value = os.environ.get(var)
            if not value:
                # Name the variable only: a half-set pair must not echo the half that is set.
                raise CredentialsError(f"environment variable {var} is not set or empty; set it to log in")
            values.append(value)
        username, password = values
        return cls(username=username, password=password)


@immutable
@dataclasses.dataclass(frozen=True, slots=True)
class ClientCredentials(Value):
    """An OAuth2 client (RFC 6749 §2.3): ``repr()`` shows the client id and ``client_secret='***'``.

    Pass it as ``credentials=`` for a ``clientCredentials`` flow (§4.4), or as ``oauth2_client=`` to
    authenticate the client in a ``password`` flow (§4.3).
    """

    client_id: str
    client_secret: str = dataclasses.field(repr=False)

    def __repr__(self) -> str:
        return shown(self, client_secret="'***'")  # noqa: S106 - the stand-in, not a secret

    @classmethod
    def from_env(cls, id_var: str, secret_var: str) -> ClientCredentials:
        """Read a client from two environment variables; raise `CredentialsError` naming a missing one."""
        values: list[str] = []
        for var in (id_var, secret_var):
            value = os.environ.get(var)
            if not value:
                raise CredentialsError(f"environment variable {var} is not set or empty; set it to authenticate")
            values.append(value)
        client_id, client_secret = values
        return cls(client_id=client_id, client_secret=client_secret)

    def as_credentials(self) -> Credentials:
        """The same pair as `Credentials`, the way a login call takes them (``client_id`` as the user name)."""
        return Credentials(username=self.client_id, password=self.client_secret)
