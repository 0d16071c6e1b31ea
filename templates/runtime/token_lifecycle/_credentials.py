"""Hold a user name and password without ever printing the password."""

from __future__ import annotations

import os

import attrs

from ._errors import CredentialsError

__all__ = ["Credentials"]


def _hide(_: str) -> str:
    return "'***'"


@attrs.frozen
class Credentials:
    """Pass to `TokenLifecycle` to log in; ``repr()`` shows the user name and ``password='***'``."""

    username: str
    password: str = attrs.field(repr=_hide)

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
