"""bearer-codegen: OpenAPI descriptions in, typed clients that manage their bearer token out."""

from ._build import Drift, check, generate
from ._clients import ClientJob, job_for_spec, load_clients
from ._lifecycle import TokenLifecycleSpec, resolve_lifecycle
from ._pipeline import render
from ._problems import Problem, Severity
from ._security import SchemeSpec, SecurityModel, resolve_security
from ._toolkit import Toolkit

__all__ = [
    "ClientJob",
    "Drift",
    "Problem",
    "SchemeSpec",
    "SecurityModel",
    "Severity",
    "TokenLifecycleSpec",
    "Toolkit",
    "check",
    "generate",
    "job_for_spec",
    "load_clients",
    "render",
    "resolve_lifecycle",
    "resolve_security",
]
