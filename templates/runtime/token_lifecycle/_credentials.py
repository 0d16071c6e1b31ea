"""Hold a user name and password without ever printing the password."""

from __future__ import annotations

import os
from typing import ClassVar

from ._errors import CredentialsError
from ._value import Value

__all__ = ["Credentials"]


def _hide(_: str) -> str:
    return "'***'"


class Credentials(Value):
    """Pass to `TokenLifecycle` to log in; ``repr()`` shows the user name and ``password='***'``."""

    __slots__ = ("username", "password")  # noqa: RUF023 - the order of the fields (repr, equality)
    _repr_fields: ClassVar = {"password": _hide}
    username: str
    password: str

    def __init__(self, username: str, password: str) -> None:
        self._init(username=username, password=password)

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
