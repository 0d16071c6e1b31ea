"""Make openapi-python-client's endpoint parsing linear in the size of a document: copy endpoints, not models.

openapi-python-client builds an endpoint in steps, and each step that may fail starts with
``endpoint = deepcopy(endpoint)`` so that a failed step leaves the previous value intact. Two of
those steps come after the responses and bodies are attached (path-level parameters, and sorting
the path parameters); a deep copy there copies every model the responses and bodies reach. In a
real document most models reach most others (a repository has an owner who has repositories ...),
so each operation copied the whole model graph: generation grew with operations times models, which is
what made a 1,000-operation document take 24 s once a login let it get as far as modelling.

The steps only ever change the endpoint's own lists and sets and the ``python_name`` of its
parameters, so :func:`endpoint_copy` copies exactly those (fresh lists and sets, a shallow copy
of each parameter) and shares the rest: the steps' results are the same, and the copy costs the
same for every operation. :func:`install` puts it in place of the ``deepcopy`` that
openapi-python-client's endpoint module uses, for the version it was checked against only (another
version keeps its own, slower copy).
"""

from __future__ import annotations

import copy
from typing import Any

import openapi_python_client
from openapi_python_client.parser import openapi
from openapi_python_client.parser.openapi import Endpoint
from openapi_python_client.parser.responses import Responses

__all__ = ["CHECKED_VERSION", "endpoint_copy", "install"]

CHECKED_VERSION = "0.29.1"
"""The openapi-python-client whose endpoint steps were read to be sure they change nothing else."""
_PARAMETER_LISTS = ("query_parameters", "path_parameters", "header_parameters", "cookie_parameters")


def endpoint_copy(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """What ``deepcopy(endpoint)`` gives for every use openapi-python-client makes of it; other values deep-copied."""
    if not isinstance(value, Endpoint):
        return copy.deepcopy(value, memo)
    fresh = copy.copy(value)
    fresh.tags = list(value.tags)
    fresh.relative_imports = set(value.relative_imports)
    for name in _PARAMETER_LISTS:
        setattr(fresh, name, [copy.copy(parameter) for parameter in getattr(value, name)])
    fresh.responses = Responses(patterns=list(value.responses.patterns), default=value.responses.default)
    fresh.bodies = list(value.bodies)
    fresh.errors = list(value.errors)
    return fresh


def install() -> bool:
    """Use :func:`endpoint_copy` in openapi-python-client's endpoint parsing (False: not the version checked)."""
    if openapi_python_client.__version__ != CHECKED_VERSION:
        return False
    openapi.__dict__["deepcopy"] = endpoint_copy  # its name for copy.deepcopy, used by those steps only
    return True
