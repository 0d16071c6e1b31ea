"""Model a checked document with openapi-python-client, and mend what it would get wrong.

openapi-python-client's :class:`GeneratorData` is the model every template renders from. Before
rendering, the generator changes it in place where the stock result would be wrong for our
clients: classes named like the templates' own names are renamed, endpoints protected by the
document-wide ``security`` accept only an ``AuthenticatedClient``, an operation offering one
schema under several media types keeps one, and parameter and property names that would shadow
the templates' locals are renamed (see :mod:`._names`), and bodies it cannot model are carried
as raw bytes (see :mod:`._raw_bodies`). What it still leaves out becomes one problem each (see
:mod:`._upstream_errors`): a warning, listed as not generated, unless the client is strict.
"""

from __future__ import annotations

from pathlib import Path

import attrs
from openapi_python_client.config import Config, MetaType
from openapi_python_client.parser import GeneratorData
from openapi_python_client.parser.bodies import Body
from openapi_python_client.parser.errors import GeneratorError

from ._clients import ClientJob
from ._document import Document, path_shape
from ._jsonish import as_mapping
from ._lifecycle import protected_operations
from ._model_names import distinct_models
from ._names import class_overrides, module_collisions, rename_parameters, rename_properties
from ._pointer import join_pointer
from ._problems import Problem, Severity
from ._raw_bodies import RawBodies, file_responses, json_overrides, raw_bodies, restore_media_types
from ._upstream_errors import guarded, parse_errors, problems_from, unreadable

__all__ = ["Model", "build_model"]


@attrs.frozen
class Model:
    """A document as openapi-python-client models it, the config that modelled it, and what was found."""

    document: Document
    display: str
    """The document's name in messages."""
    data: GeneratorData
    config: Config
    problems: list[Problem]
    """Warnings about what was mended or left out, and errors that make the model unusable."""
    not_generated: list[Problem]
    """What openapi-python-client left out (operations, responses, media types, models), each once: also in
    ``problems``, as warnings (or as errors for a strict client, which is then refused)."""


def build_model(document: Document, job: ClientJob, project_dir: Path) -> Model | list[Problem]:
    """The mended model of ``document``; or the problems when openapi-python-client could not model it at all."""
    overrides = json_overrides(document, job.options.content_type_overrides or {})
    options = job.options.model_copy(
        update={
            "post_hooks": [],
            "project_name_override": job.distribution,
            "package_name_override": job.package,
            "content_type_overrides": overrides or job.options.content_type_overrides,
        }
    )
    config = Config.from_sources(options, MetaType.UV, job.spec, "utf-8", overwrite=False, output_path=project_dir)
    model = guarded(job.spec_display, lambda: _model(document, job, config))
    return [model] if isinstance(model, Problem) else model


def _model(document: Document, job: ClientJob, config: Config) -> Model | list[Problem]:
    raws: list[RawBodies] = []

    def parse(mended: Document) -> GeneratorData | GeneratorError:
        raws.append(raw_bodies(mended, config))
        return GeneratorData.from_dict(raws[-1].document, config=config)

    data, problems = distinct_models(document, parse, job.spec_display)
    raw = raws[-1]
    if isinstance(data, GeneratorError):
        return unreadable(job.spec_display, document, raws[0].document)
    config, renamed = class_overrides(data, config, job.spec_display)
    problems += renamed
    if renamed:
        data = GeneratorData.from_dict(raw.document, config=config)
        if isinstance(data, GeneratorError):
            return problems_from(job.spec_display, [data], document)
    restore_media_types(data, raw)
    file_responses(data)
    _mark_protected(data, document)
    # Left out on purpose, and a warning even for a strict client: the operation itself is whole.
    left_out = _one_body_per_type(data, document, job.spec_display)
    rename_parameters(data, config)
    rename_properties(data, config)
    left_out += problems_from(job.spec_display, parse_errors(data), document, strict=job.strict, data=data)
    problems += left_out
    problems += module_collisions(data, document, config, job.spec_display)
    return Model(document, job.spec_display, data, config, problems, left_out)


def _mark_protected(data: GeneratorData, document: Document) -> None:
    """Let endpoints that need a token accept only an AuthenticatedClient, statically.

    openapi-python-client decides this from the operation's own ``security`` alone and so lets
    operations protected by the document-wide default accept a plain ``Client``.
    """
    protected = {(path_shape(path), method) for path, method in protected_operations(document)}
    for collection in data.endpoint_collections_by_tag.values():
        for endpoint in collection.endpoints:
            shape = path_shape(endpoint.path.get_untrusted_value())
            endpoint.requires_security = (shape, endpoint.method.lower()) in protected


def _one_body_per_type(data: GeneratorData, document: Document, display: str) -> list[Problem]:
    """Keep the first of several request bodies that are the same Python type, with a warning (in place).

    openapi-python-client gives an operation one ``body`` argument typed as the union of its media
    types and picks the encoding by ``isinstance``; for one schema offered as JSON and as a form
    every branch matches, and the request went out with a JSON body, form data and files at once.
    """
    warnings: list[Problem] = []
    for collection in data.endpoint_collections_by_tag.values():
        for endpoint in collection.endpoints:
            kept: dict[str, Body] = {}
            for body in endpoint.bodies:
                kept.setdefault(body.prop.get_type_string(no_optional=True).as_unembedded_code(), body)
            if len(kept) == len(endpoint.bodies):
                continue
            first = {id(body) for body in kept.values()}
            dropped = [body for body in endpoint.bodies if id(body) not in first]
            endpoint.bodies = list(kept.values())
            shape = path_shape(endpoint.path.get_untrusted_value())
            path = next((p for p in as_mapping(document.get("paths")) if path_shape(p) == shape), "")
            operation = join_pointer("/paths", path, endpoint.method.lower()) if path else ""
            for body in dropped:
                python_type = body.prop.get_type_string(no_optional=True).as_unembedded_code()
                media_type = body.content_type.get_untrusted_value()
                sent = kept[python_type].content_type.get_untrusted_value()
                warnings.append(
                    Problem(
                        display,
                        join_pointer(operation, "requestBody", "content", media_type) if operation else "",
                        f"{endpoint.method.upper()} {path} request body {media_type}: it is the same Python type "
                        f"({python_type}) as {sent}, so a client could not tell them apart; the operation sends "
                        f"{sent}, this media type is not generated",
                        Severity.WARNING,
                    )
                )
    return warnings
