"""The simulator: a spec and its security schemes served as a live API (``bearer-codegen serve``).

Generated clients are tested end to end against it over real sockets. Everything it knows about
an API comes from the document: routes, parameters, response shapes, and every security scheme
as ``generate`` resolves it (static API keys and bearer tokens, basic, OAuth2 password and client
credentials token endpoints, ``x-token-lifecycle`` logins; per-operation requirements and scopes).
Users, OAuth2 clients, static tokens, accounts, permissions and response bodies come from a
fixtures file (see :mod:`._fixtures`).
"""

from ._api import Api, Operation, load_api
from ._app import build_app
from ._cli import add_serve_arguments, serve
from ._clock import Clock
from ._fixtures import DEFAULT_FIXTURES, Fixtures, StaticToken, User, load_fixtures, resolve_fixtures
from ._state import RateLimit, SimulatorState, fingerprint

__all__ = [
    "DEFAULT_FIXTURES",
    "Api",
    "Clock",
    "Fixtures",
    "Operation",
    "RateLimit",
    "SimulatorState",
    "StaticToken",
    "User",
    "add_serve_arguments",
    "build_app",
    "fingerprint",
    "load_api",
    "load_fixtures",
    "resolve_fixtures",
    "serve",
]
