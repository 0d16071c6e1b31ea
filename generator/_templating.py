"""Render a model through openapi-python-client's ``Project`` with ``templates/`` in front of its own.

openapi-python-client ignores security schemes, so the resolved token lifecycle is handed to the
templates as a Jinja global (``bearer_lifecycle``) beside the name of the embedded runtime.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from jinja2 import Environment, pass_environment
from jinja2.filters import do_wordwrap
from openapi_python_client import Project, strings
from openapi_python_client.parser.openapi import Endpoint
from openapi_python_client.schema.untrusted_string import UntrustedString

from ._lifecycle import TokenLifecycleSpec
from ._model import Model
from ._problems import Problem
from ._toolkit import RUNTIME_PACKAGE
from ._upstream_errors import guarded, parse_errors, problems_from

__all__ = ["render_templates"]


def render_templates(model: Model, lifecycle: TokenLifecycleSpec | None, templates: Path) -> list[Problem]:
    """Write the project openapi-python-client renders from ``model``; the problems it reported."""
    project = Project(openapi=model.data, config=model.config, custom_template_path=templates)
    # Jinja types its globals by the defaults it ships; any value is valid there.
    cast(Any, project.env.globals).update(bearer_lifecycle=lifecycle, runtime_package=RUNTIME_PACKAGE)
    project.env.filters.update(pyrepr=repr, **_memoised_filters())
    cast(Any, project.env.globals)["not_generated"] = [_omission(problem) for problem in model.not_generated]

    def is_login_operation(endpoint: Endpoint) -> bool:
        """``endpoint is login_operation``: the spec's login, whose password its module redacts from logs."""
        return lifecycle is not None and lifecycle.login.is_endpoint(
            endpoint.method, endpoint.path.get_untrusted_value()
        )

    cast(Any, project.env.tests)["login_operation"] = is_login_operation
    errors = guarded(model.display, project.build)
    if isinstance(errors, Problem):
        return [errors]
    # It repeats the modelling errors, reported (each as strict as the job wants) by the model already.
    reported = parse_errors(model.data)
    return problems_from(model.display, [e for e in errors if e not in reported], model.document)


def _omission(problem: Problem) -> dict[str, str]:
    """A left-out part for the README: one line each, no backquote to end the pointer's code span early."""
    return {"pointer": problem.pointer.replace("`", "'"), "reason": " ".join(problem.message.split())}


def _memoised_filters() -> dict[str, Callable[..., str]]:
    """``safe_for_docstring`` and ``wordwrap`` remembering their results: pure, and the slowest steps of a render.

    Every endpoint module renders its description four times (sync, sync_detailed, asyncio,
    asyncio_detailed); on a 20 MB document escaping and wrapping the same text again took most
    of the time. Only plain text is remembered; anything else is passed straight through.
    """
    escaped: dict[str, str] = {}
    wrapped: dict[tuple[str, int, bool, str | None, bool], str] = {}

    def safe_for_docstring(value: object) -> str:
        text = value.get_untrusted_value() if isinstance(value, UntrustedString) else value
        if type(text) is not str:
            return strings.safe_for_docstring(value)
        if text not in escaped:
            escaped[text] = strings.safe_for_docstring(text)
        return escaped[text]

    @pass_environment
    def wordwrap(
        environment: Environment,
        s: str,
        width: int = 79,
        break_long_words: bool = True,
        wrapstring: str | None = None,
        break_on_hyphens: bool = True,
    ) -> str:
        key = (s, width, break_long_words, wrapstring, break_on_hyphens)
        if type(s) is not str:
            return do_wordwrap(environment, s, width, break_long_words, wrapstring, break_on_hyphens)
        if key not in wrapped:
            wrapped[key] = do_wordwrap(environment, s, width, break_long_words, wrapstring, break_on_hyphens)
        return wrapped[key]

    return {"safe_for_docstring": safe_for_docstring, "wordwrap": wordwrap}
