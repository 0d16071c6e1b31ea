"""``x-service-limits``: the request limit a service counts per customer account, which clients pace to.

The document declares it at its root or on a security scheme (``components.securitySchemes.<name>``)::

    x-service-limits:
      requests: 100      # at most 100 requests of one account...
      per: PT1M          # ...in any minute (an ISO-8601 duration, or seconds)
      scope: account     # optional; the only scope there is

It is checked against ``x-service-limits.schema.json`` (an error says where, exit 2). When several places
declare a limit, the strictest rate wins and a warning names the others: a client that paces to the
looser one would meet the stricter through 503s. The generated ``client.py`` renders it as
``SERVICE_LIMITS``; the runtime's limiters do the pacing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from importlib import resources
from typing import Any, cast

from ._duration import parse_duration
from ._jsonish import as_mapping, extension_problems
from ._pointer import join_pointer
from ._problems import Problem, Severity
from ._scheme_model import ServiceLimitsSpec

__all__ = ["EXTENSION", "resolve_service_limits"]

EXTENSION = "x-service-limits"


def _schema() -> Mapping[str, Any]:
    text = resources.files("generator").joinpath("x-service-limits.schema.json").read_text(encoding="utf-8")
    return as_mapping(json.loads(text))


def _declarations(document: Mapping[str, Any]) -> list[tuple[str, object]]:
    """Every ``x-service-limits`` of the document with its JSON pointer, the root's first."""
    found: list[tuple[str, object]] = []
    if EXTENSION in document:
        found.append((join_pointer("", EXTENSION), document[EXTENSION]))
    schemes = as_mapping(as_mapping(document.get("components")).get("securitySchemes"))
    for name, scheme in schemes.items():
        scheme_map = as_mapping(scheme)
        if EXTENSION in scheme_map:
            found.append((join_pointer("/components/securitySchemes", str(name), EXTENSION), scheme_map[EXTENSION]))
    return found


def _read(display: str, pointer: str, raw: object) -> ServiceLimitsSpec | list[Problem]:
    errors = extension_problems(_schema(), raw, display=display, base=pointer, name=EXTENSION)
    if errors:
        return errors
    declared = as_mapping(raw)
    per: object = declared["per"]
    if isinstance(per, str):
        seconds = parse_duration(per)
        if isinstance(seconds, str):
            return [Problem(display, join_pointer(pointer, "per"), f"{EXTENSION}: {seconds}")]
    else:
        seconds = float(cast(float, per))  # the schema admits a number here
    if not math.isfinite(seconds) or seconds <= 0:
        return [Problem(display, join_pointer(pointer, "per"), f"{EXTENSION}: the window must be a positive duration")]
    return ServiceLimitsSpec(requests=int(declared["requests"]), per=seconds, pointer=pointer)


def resolve_service_limits(document: Mapping[str, Any], display: str) -> tuple[ServiceLimitsSpec | None, list[Problem]]:
    """The limit generated clients keep to (the strictest declared), and the problems found (errors, warnings)."""
    limits: list[ServiceLimitsSpec] = []
    problems: list[Problem] = []
    for pointer, raw in _declarations(document):
        read = _read(display, pointer, raw)
        if isinstance(read, list):
            problems += read
        else:
            limits.append(read)
    if problems or not limits:
        return None, problems
    strictest = min(limits, key=lambda limit: (limit.requests / limit.per, limit.per))
    for other in limits:
        if (other.requests, other.per) != (strictest.requests, strictest.per):
            problems.append(
                Problem(
                    display,
                    other.pointer,
                    f"{EXTENSION}: {other.requests} per {other.per:g}s is looser than {strictest.requests} per "
                    f"{strictest.per:g}s at {strictest.pointer}; clients keep to the stricter one",
                    Severity.WARNING,
                )
            )
    return strictest, problems
