"""The checks of a document before anything is modelled: every one of them is registered here.

A check takes the loaded document and the job and returns problems. They run in the order of
:data:`DOCUMENT_CHECKS`; the first one that finds an error stops the rest, since later checks
assume what earlier ones proved (the validator must not follow a reference out of the document,
the enum check assumes a valid schema).
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from ._clients import ClientJob
from ._document import Document, check_references
from ._names import enum_member_clashes
from ._problems import Problem, Severity, has_errors

__all__ = ["DOCUMENT_CHECKS", "check_document"]

DocumentCheck = Callable[[Document, ClientJob], list[Problem]]


def _references(document: Document, job: ClientJob) -> list[Problem]:
    """Every ``$ref`` is local and resolves (never lenient: the validator would follow it out of the document)."""
    return check_references(document, job.spec_display)


def _openapi_schema(document: Document, job: ClientJob) -> list[Problem]:
    """The OpenAPI 3.0/3.1 schema and its semantic rules; warnings instead of errors unless the job is strict."""
    # Imported here: the validators take a fifth of a second to import, and `check --help` needs none.
    from ._validate import validate_openapi

    problems = validate_openapi(document, job.spec_display)
    if not job.strict:
        return [attrs.evolve(problem, severity=Severity.WARNING) for problem in problems]
    return problems


def _enum_members(document: Document, job: ClientJob) -> list[Problem]:
    """Enum values that would become one Python member (openapi-python-client would lose one silently)."""
    return enum_member_clashes(document, job.options.literal_enums, job.spec_display)


DOCUMENT_CHECKS: tuple[DocumentCheck, ...] = (_references, _openapi_schema, _enum_members)
"""In order; each may assume that the ones before it found no error."""


def check_document(document: Document, job: ClientJob) -> list[Problem]:
    """Run :data:`DOCUMENT_CHECKS` in order; stop after the first that finds an error."""
    problems: list[Problem] = []
    for check in DOCUMENT_CHECKS:
        problems += check(document, job)
        if has_errors(problems):
            break
    return problems
