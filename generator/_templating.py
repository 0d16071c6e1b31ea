"""Render a model through openapi-python-client's ``Project`` with ``templates/`` in front of its own.

openapi-python-client ignores security schemes, so the resolved security is handed to the
templates as a Jinja global (``bearer_security``, a :class:`SecurityModel`) beside the name of the
embedded runtime, with two helpers: ``endpoint | security_requirements`` (the operation's own
requirements, rendered into its ``_get_kwargs``) and the test ``endpoint is login_operation``.
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

from ._document import path_shape
from ._model import Model
from ._problems import Problem
from ._security import Requirements, SchemeSpec, SecurityModel
from ._toolkit import RUNTIME_PACKAGE
from ._upstream_errors import guarded, problems_from

__all__ = ["render_templates"]


def redacted_login(security: SecurityModel) -> SchemeSpec | None:
    """The login scheme whose call is the client's ``LOGIN``: its login operation's module redacts its secrets.

    The first login scheme whose login is an operation of the document, else the first login scheme.
    """
    logins = [spec for spec in security.login_schemes if spec.login is not None]
    return next((spec for spec in logins if spec.login and spec.login.operation_id is not None), None) or next(
        iter(logins), None
    )


def render_templates(model: Model, security: SecurityModel, templates: Path) -> list[Problem]:
    """Write the project openapi-python-client renders from ``model``; the problems it reported."""
    project = Project(openapi=model.data, config=model.config, custom_template_path=templates)
    login = redacted_login(security)
    # Jinja types its globals by the defaults it ships; any value is valid there.
    cast(Any, project.env.globals).update(bearer_security=security, bearer_login=login, runtime_package=RUNTIME_PACKAGE)
    by_shape = {(path_shape(path), method): value for (path, method), value in security.operations.items()}

    def security_requirements(endpoint: Endpoint) -> Requirements:
        """``endpoint | security_requirements``: the effective requirements of the endpoint's operation."""
        return by_shape.get((path_shape(endpoint.path.get_untrusted_value()), endpoint.method.lower()), ())

    project.env.filters.update(pyrepr=repr, **_memoised_filters())
    cast(Any, project.env.filters)["security_requirements"] = security_requirements

    def is_login_operation(endpoint: Endpoint) -> bool:
        """``endpoint is login_operation``: the spec's login, whose password its module redacts from logs."""
        return (
            login is not None
            and login.login is not None
            and login.login.is_endpoint(endpoint.method, endpoint.path.get_untrusted_value())
        )

    cast(Any, project.env.tests)["login_operation"] = is_login_operation
    errors = guarded(model.display, project.build)
    return [errors] if isinstance(errors, Problem) else problems_from(model.display, errors, model.document)


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
