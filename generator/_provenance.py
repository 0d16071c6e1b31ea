"""Provenance of a generated project: which spec, templates, generator and tools made it.

Written as ``provenance.toml`` into every generated project, so a drift report can say
whether the spec or the toolkit changed since ``generated/`` was last rendered. Nothing in
it depends on time or place, so regeneration stays byte-identical.
"""

from __future__ import annotations

import ast
import hashlib
import json
import tomllib
from importlib.metadata import version
from pathlib import Path

import attrs

from ._toolkit import Toolkit

__all__ = ["PROVENANCE_FILE", "Omission", "Provenance", "read_provenance", "toml_string", "toolkit_files"]

PROVENANCE_FILE = "provenance.toml"
_SKIPPED_PARTS = frozenset({"__pycache__", ".mypy_cache", ".ruff_cache"})


RENDER_PATH_ENTRY = "_pipeline.py"
"""The module whose imports, followed through the generator, are every module that shapes the output."""


def _render_path(generator: Path) -> list[Path]:
    """``_pipeline.py`` and every generator module it imports, directly or not (relative imports, read from the source).

    The CLI, ``diff`` and the simulator are not on this path, so changing them does not mark
    ``generated/`` as drifted; any module a render step imports is, without a list to keep up.
    """
    found: set[Path] = set()
    pending = [generator / RENDER_PATH_ENTRY]
    while pending:
        module = pending.pop()
        if module in found or not module.is_file():
            continue
        found.add(module)
        for node in ast.walk(ast.parse(module.read_bytes(), str(module))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                names = [node.module] if node.module else [alias.name for alias in node.names]
                pending.extend(generator / f"{name.split('.')[0]}.py" for name in names)
    return sorted(found)


def toolkit_files(templates: Path, generator: Path) -> list[tuple[str, Path]]:
    """The files whose content shapes the output, with stable names, sorted.

    Every template (the runtime included), the generator modules on the render path, and the
    data files they read (the ``x-token-lifecycle`` JSON Schema).
    """
    found: list[tuple[str, Path]] = []
    for path in templates.rglob("*"):
        relative = path.relative_to(templates)
        if path.is_file() and not _SKIPPED_PARTS.intersection(relative.parts) and path.suffix != ".pyc":
            found.append((f"templates/{relative.as_posix()}", path))
    for path in [*_render_path(generator), *generator.glob("*.json")]:
        found.append((f"generator/{path.name}", path))
    return sorted(found)


def _digest(parts: list[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256()
    for name, content in parts:
        digest.update(name.encode() + b"\0" + hashlib.sha256(content).digest())
    return digest.hexdigest()


@attrs.frozen
class Provenance:
    """What made a generated project."""

    spec_name: str
    spec_sha256: str
    toolkit_sha256: str
    openapi_python_client: str
    ruff: str
    not_generated: tuple[Omission, ...] = ()
    """What the generated project lacks (listed only when something is missing, so complete projects are unchanged)."""

    @classmethod
    def measure(cls, spec: Path, spec_name: str, toolkit: Toolkit) -> Provenance:
        """Hash the spec and the toolkit as they are now."""
        files = [(name, path.read_bytes()) for name, path in toolkit_files(toolkit.templates, toolkit.generator)]
        return cls(
            spec_name=spec_name,
            spec_sha256=hashlib.sha256(spec.read_bytes()).hexdigest(),
            toolkit_sha256=_digest(files),
            openapi_python_client=version("openapi-python-client"),
            ruff=version("ruff"),
        )

    def to_toml(self) -> str:
        """The file's text."""
        return (
            "[provenance]\n"
            f"spec = {json.dumps(self.spec_name)}\n"
            f'spec_sha256 = "{self.spec_sha256}"\n'
            f'toolkit_sha256 = "{self.toolkit_sha256}"\n'
            f'openapi_python_client = "{self.openapi_python_client}"\n'
            f'ruff = "{self.ruff}"\n'
        ) + "".join(
            f"\n[[not_generated]]\npointer = {toml_string(o.pointer)}\nreason = {toml_string(o.reason)}\n"
            for o in self.not_generated
        )


@attrs.frozen
class Omission:
    """One part of the document the generated project lacks: where it is, and why it was left out."""

    pointer: str
    """RFC 6901 JSON pointer into the spec."""
    reason: str


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string: quotes, backslashes and every control character escaped.

    The text comes from the document (paths, media types), so nothing in it may end the string; a
    lone surrogate (a JSON ``\\ud800`` escape) cannot be written as UTF-8 and becomes ``?``.
    """
    escaped: list[str] = []
    for char in text.encode("utf-8", "replace").decode("utf-8"):
        if char in '"\\':
            escaped.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            escaped.append(f"\\u{ord(char):04X}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'


def read_provenance(project: Path) -> Provenance | None:
    """The provenance recorded in a generated project, or None when there is none or it is unreadable."""
    try:
        table = tomllib.loads((project / PROVENANCE_FILE).read_text(encoding="utf-8"))["provenance"]
        return Provenance(
            spec_name=str(table["spec"]),
            spec_sha256=str(table["spec_sha256"]),
            toolkit_sha256=str(table["toolkit_sha256"]),
            openapi_python_client=str(table["openapi_python_client"]),
            ruff=str(table["ruff"]),
        )
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError):
        return None
