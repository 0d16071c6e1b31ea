"""Provenance of a generated project: which spec, templates, generator and tools made it.

Written as ``provenance.toml`` into every generated project, so a drift report can say
whether the spec or the toolkit changed since ``generated/`` was last rendered. Nothing in
it depends on time or place, so regeneration stays byte-identical.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from importlib.metadata import version
from pathlib import Path

import attrs

__all__ = ["PROVENANCE_FILE", "Provenance", "read_provenance", "toolkit_files"]

PROVENANCE_FILE = "provenance.toml"
_SKIPPED_PARTS = frozenset({"__pycache__", ".mypy_cache", ".ruff_cache"})


def toolkit_files(templates: Path, generator: Path) -> list[tuple[str, Path]]:
    """The files whose content shapes the output, with stable names, sorted.

    Every template and the generator's own top-level modules; subpackages that do not render
    (the simulator) are left out, so changing them does not mark generated/ as drifted.
    """
    found: list[tuple[str, Path]] = []
    for path in templates.rglob("*"):
        relative = path.relative_to(templates)
        if path.is_file() and not _SKIPPED_PARTS.intersection(relative.parts) and path.suffix != ".pyc":
            found.append((f"templates/{relative.as_posix()}", path))
    for path in generator.iterdir():
        if path.is_file() and path.suffix in {".py", ".json"}:
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

    @classmethod
    def measure(cls, spec: Path, spec_name: str, templates: Path, generator: Path) -> Provenance:
        """Hash the spec and the toolkit as they are now."""
        toolkit = [(name, path.read_bytes()) for name, path in toolkit_files(templates, generator)]
        return cls(
            spec_name=spec_name,
            spec_sha256=hashlib.sha256(spec.read_bytes()).hexdigest(),
            toolkit_sha256=_digest(toolkit),
            openapi_python_client=version("openapi-python-client"),
            ruff=version("ruff"),
        )

    def to_toml(self, banner: str) -> str:
        """The file's text, banner first."""
        return (
            f"{banner}\n"
            "[provenance]\n"
            f"spec = {json.dumps(self.spec_name)}\n"
            f'spec_sha256 = "{self.spec_sha256}"\n'
            f'toolkit_sha256 = "{self.toolkit_sha256}"\n'
            f'openapi_python_client = "{self.openapi_python_client}"\n'
            f'ruff = "{self.ruff}"\n'
        )


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
