"""The clients declared in ``spec/clients.yaml``: which spec becomes which generated project.

Two layers, as in openapi-python-client's ``config.py``: the file as written is checked
against a small schema, then turned into frozen :class:`ClientJob` values by one
constructor; nothing downstream reads the raw file.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import attrs
from openapi_python_client.config import ConfigFile
from pydantic import ValidationError

from ._document import load_document
from ._jsonish import schema_errors
from ._pointer import join_pointer
from ._problems import Problem

__all__ = ["CLIENTS_FILE", "ClientJob", "job_for_spec", "load_clients"]

CLIENTS_FILE = Path("spec") / "clients.yaml"
_NAME = r"^[a-z][a-z0-9_]*$"
_RESERVED_OPTIONS = ("post_hooks", "project_name_override", "package_name_override")
_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "required": ["clients"],
    "additionalProperties": False,
    "properties": {
        "clients": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["spec", "project"],
                "additionalProperties": False,
                "properties": {
                    "spec": {"type": "string", "pattern": r"^[^/\\]+\.(ya?ml|json)$"},
                    "project": {"type": "string", "pattern": _NAME},
                    "package": {"type": "string", "pattern": _NAME},
                    "options": {"type": "object", "not": {"anyOf": [{"required": [o]} for o in _RESERVED_OPTIONS]}},
                    "strict": {"type": "boolean"},
                },
            },
        }
    },
}


@attrs.frozen
class ClientJob:
    """One client to render: a spec, where its project goes, and how it is named."""

    spec: Path
    spec_display: str
    """The spec as named in messages and banners (relative to the project root when declared)."""
    output: Path
    package: str
    options: ConfigFile = attrs.field(eq=False)
    regenerate_command: str
    """Named in the banner of every generated file."""
    strict: bool = False
    """Refuse the document over anything a lenient run only warns about.

    Without it, violations of the OpenAPI schema are warnings (openapi-python-client decides
    what it can model) and an operation or response that cannot be generated is left out with a
    warning and listed in the project's README and ``provenance.toml``. With it, each of those is
    an error and nothing is written: for clients whose every operation must be there.
    """

    @property
    def distribution(self) -> str:
        """The pip name of the generated project."""
        return self.package.replace("_", "-")


def _options(raw: Mapping[str, Any], display: str, pointer: str) -> ConfigFile | Problem:
    try:
        return ConfigFile(**raw)
    except ValidationError as err:
        details = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
        return Problem(display, pointer, f"invalid openapi-python-client options: {details}")


def load_clients(root: Path) -> list[ClientJob] | list[Problem]:
    """Every client declared in ``root/spec/clients.yaml``."""
    display = CLIENTS_FILE.as_posix()
    data = load_document(root / CLIENTS_FILE, display)
    if isinstance(data, Problem):
        return [data]
    errors = schema_errors(_SCHEMA, data)
    if errors:
        return [Problem(display, join_pointer("", *map(str, e.absolute_path)), e.message) for e in errors]
    jobs: list[ClientJob] = []
    problems: list[Problem] = []
    for index, raw in enumerate(cast(list[Mapping[str, Any]], data["clients"])):
        pointer = join_pointer("/clients", index)
        package = str(raw.get("package", raw["project"]))
        if keyword.iskeyword(package):
            problems.append(Problem(display, pointer + "/package", f"{package!r} is a Python keyword"))
            continue
        options = _options(cast(Mapping[str, Any], raw.get("options", {})), display, pointer + "/options")
        if isinstance(options, Problem):
            problems.append(options)
            continue
        jobs.append(
            ClientJob(
                spec=root / "spec" / str(raw["spec"]),
                spec_display=f"spec/{raw['spec']}",
                output=root / "generated" / str(raw["project"]),
                package=package,
                options=options,
                regenerate_command="make generate",
                strict=bool(raw.get("strict", False)),
            )
        )
    outputs = [job.output for job in jobs]
    for index, job in enumerate(jobs):
        if outputs.index(job.output) != index:
            problems.append(Problem(display, join_pointer("/clients", index, "project"), "two clients share a project"))
    return problems or jobs


def job_for_spec(
    spec: Path, output: Path, package: str | None, options_file: Path | None, *, strict: bool = False
) -> ClientJob | Problem:
    """A one-off client: ``generate SPEC --output DIR [--package-name NAME]``."""
    name = package or re.sub(r"[^a-z0-9_]", "_", output.name.lower()).strip("_") or "client"
    if not re.match(_NAME, name) or keyword.iskeyword(name):
        return Problem("--package-name", "", f"{name!r} is not a valid Python package name (lowercase, digits, _)")
    options = ConfigFile()
    if options_file is not None:
        raw = load_document(options_file, str(options_file))
        if isinstance(raw, Problem):
            return raw
        reserved = [key for key in _RESERVED_OPTIONS if key in raw]
        if reserved:
            return Problem(str(options_file), "/" + reserved[0], "this option is set by bearer-codegen itself")
        parsed = _options(raw, str(options_file), "")
        if isinstance(parsed, Problem):
            return parsed
        options = parsed
    return ClientJob(
        spec=spec,
        spec_display=spec.name,
        output=output,
        package=name,
        options=options,
        regenerate_command=f"bearer-codegen generate {spec.name} --output {output.name} --package-name {name}"
        + (" --strict" if strict else ""),
        strict=strict,
    )
