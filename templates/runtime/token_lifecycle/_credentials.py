"""Credentials: a user name and a password that never prints."""

from __future__ import annotations

import dataclasses
import os

from ._errors import CredentialsError
from ._values import Value, immutable, shown


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
