"""Generate one client project: the pipeline, read top to bottom.

    load → check → resolve security → model → render → audit → format → embed runtime
         → provenance → banners                    (then _build swaps the project into place)

Each step is a function of its own module; this one only strings them together. Every step
returns problems (values with a file and a JSON pointer, see :mod:`._problems`); the first
error stops the pipeline, and nothing is written outside ``staging``, so a refused document
leaves ``generated/`` as it was.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ._audit import audit_package
from ._banner import banner, stamp_banners
from ._checks import check_document
from ._clients import ClientJob
from ._document import load_document
from ._format import format_project
from ._model import build_model
from ._names import origins
from ._problems import Problem, has_errors
from ._provenance import PROVENANCE_FILE, Provenance
from ._security import resolve_security
from ._templating import render_templates
from ._toolkit import Toolkit

__all__ = ["render"]

RECURSION_LIMIT = 20_000
"""Python frames a generation may use. The validator and openapi-python-client recurse several
frames per level of the document, and ``_document.MAX_DEPTH`` (256) levels take more than
Python's default of 1,000."""


def render(job: ClientJob, toolkit: Toolkit, staging: Path) -> list[Problem]:
    """Render ``job`` into ``staging/project``; the problems found (an error means nothing usable was made)."""
    previous_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous_limit, RECURSION_LIMIT))
    try:
        return _render(job, toolkit, staging / "project")
    finally:
        sys.setrecursionlimit(previous_limit)


def _render(job: ClientJob, toolkit: Toolkit, project_dir: Path) -> list[Problem]:
    document = load_document(job.spec, job.spec_display)
    if isinstance(document, Problem):
        return [document]

    problems = check_document(document, job)
    if has_errors(problems):
        return problems

    security = resolve_security(document, job.spec_display)
    if isinstance(security, list):
        return problems + security
    problems += security.warnings

    model = build_model(document, job, project_dir)
    if isinstance(model, list):
        return problems + model
    problems += model.problems
    if has_errors(problems):
        return problems

    problems += render_templates(model, security, toolkit.templates)
    if has_errors(problems):
        return problems

    package_dir = project_dir / job.package
    problems += audit_package(package_dir, origins(model.data, document, model.config), job.spec_display)
    if has_errors(problems):
        return problems

    failure = format_project(project_dir)
    if failure is not None:
        return [*problems, Problem(job.spec_display, "", f"the generated code could not be formatted: {failure}")]

    toolkit.embed_runtime(package_dir)
    provenance = Provenance.measure(job.spec, job.spec_display, toolkit)
    (project_dir / PROVENANCE_FILE).write_text(provenance.to_toml(), encoding="utf-8")
    stamp_banners(project_dir, banner(job))
    return problems
