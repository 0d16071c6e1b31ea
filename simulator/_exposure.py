"""What secrets a request carries, wherever it put them: credentials, access tokens, refresh tokens.

An identity provider on another origin (issue 14) is only safe when the user's password or the
client's secret go to the identity provider alone, and the access token to the API alone. The
simulator cannot trust the client to say where it put things, so every request that reaches an
origin is searched: each header value (and each word of it, and the halves of a Basic value),
each query and cookie value, and each value of a form or JSON body. Whatever matches a fixture
password or client secret, an access token (issued or static) or a refresh token is counted for
that origin (:meth:`~simulator._state.SimulatorState.observe`); the values themselves are never
kept or logged.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import cast
from urllib.parse import parse_qsl

from ._auth import basic_credentials
from ._fixtures import Fixtures
from ._requests import Incoming
from ._state import SimulatorState

__all__ = ["observe"]

MAX_VALUES = 1000
"""Values of one request searched at most (a body with more fields is searched up to here)."""


def observe(origin: str, incoming: Incoming, fixtures: Fixtures, state: SimulatorState) -> None:
    """Count what ``incoming``, which reached ``origin``, carried."""
    values = frozenset(itertools.islice(_values(incoming), MAX_VALUES))
    credentials = not values.isdisjoint(fixtures.secrets)
    static = not values.isdisjoint(fixtures.tokens.keys())
    access, refresh = state.recognise(values)
    state.observe(origin, credentials=credentials, access_token=access or static, refresh_token=refresh)


def _values(incoming: Incoming) -> Iterator[str]:
    for value in incoming.headers.values():
        yield value.strip()
        yield from value.split()
        pair = basic_credentials(value)
        if pair is not None:
            yield from pair
    for _, value in incoming.query:
        yield value
    yield from incoming.cookies.values()
    yield from _body_values(incoming)


def _body_values(incoming: Incoming) -> Iterator[str]:
    if not incoming.body:
        return
    try:
        text = incoming.body.decode("utf-8")
    except UnicodeDecodeError:
        return
    yield text.strip()
    if incoming.content_type == "application/x-www-form-urlencoded":
        yield from (value for _, value in parse_qsl(text, keep_blank_values=True))
    elif incoming.content_type is not None and "json" in incoming.content_type:
        try:
            yield from _strings(cast(object, json.loads(text)))
        except (ValueError, RecursionError):
            return


def _strings(node: object, depth: int = 0) -> Iterator[str]:
    """Every string in a JSON value, at most 16 levels deep."""
    if isinstance(node, str):
        yield node
    elif depth < 16 and isinstance(node, dict):
        for value in cast(dict[str, object], node).values():
            yield from _strings(value, depth + 1)
    elif depth < 16 and isinstance(node, list):
        for value in cast(list[object], node):
            yield from _strings(value, depth + 1)
