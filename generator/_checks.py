"""The checks of a document before anything is modelled: every one of them is registered here.

A check takes the document and the job and returns problems. They run in the order of
:data:`DOCUMENT_CHECKS`; the first one that finds an error stops the rest, since later checks
assume what earlier ones proved (the validator must not follow a reference out of the document,
nor the mending pass). Between the reference check and the validator, :mod:`._mend` makes the
mended copy of the document that the validator and everything after it work on.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from ._clients import ClientJob
from ._document import Document, check_references
from ._mend import mend_document
from ._problems import Problem, Severity, has_errors

__all__ = ["DOCUMENT_CHECKS", "check_document"]

DocumentCheck = Callable[[Document, ClientJob], list[Problem]]


def _references(document: Document, job: ClientJob) -> list[Problem]:
    """Every ``$ref`` is local and resolves (never lenient, but in examples: the validator would follow it)."""
    return check_references(document, job.spec_display, strict=job.strict)


def _openapi_schema(document: Document, job: ClientJob) -> list[Problem]:
    """The OpenAPI 3.0/3.1 schema and its semantic rules; warnings instead of errors unless the job is strict."""
    # Imported here: the validators take a fifth of a second to import, and `check --help` needs none.
    from ._validate import validate_openapi

    problems = validate_openapi(document, job.spec_display)
    version = document.get("openapi")
    if not isinstance(version, str) or not version.startswith(("3.0.", "3.1.")):
        return problems  # no version openapi-python-client reads: nothing after this could be of use
    if not job.strict:
        return [attrs.evolve(problem, severity=Severity.WARNING) for problem in problems]
    return problems


DOCUMENT_CHECKS: tuple[DocumentCheck, ...] = (_references, _openapi_schema)
"""In order; each may assume that the ones before it found no error. The mending pass runs after the first."""


def check_document(document: Document, job: ClientJob) -> tuple[Document, list[Problem]]:
    """Run :data:`DOCUMENT_CHECKS` in order, the later ones on the mended document; stop at the first error.

    Returns the document to model: the mended copy (``document`` itself when nothing was mended).
    """
    first, *rest = DOCUMENT_CHECKS
    problems = first(document, job)
    if has_errors(problems):
        return document, problems
    document, mended = mend_document(
        document, job.spec_display, strict=job.strict, literal_enums=job.options.literal_enums
    )
    problems += mended
    if has_errors(problems):
        return document, problems
    for check in rest:
        problems += check(document, job)
        if has_errors(problems):
            break
    return document, problems
