"""Where the toolkit's parts are: the templates, the token-lifecycle runtime, the generator's own sources."""

from __future__ import annotations

import shutil
from pathlib import Path

import attrs

__all__ = ["RUNTIME_PACKAGE", "Toolkit"]

RUNTIME_PACKAGE = "_token_lifecycle"
"""Name of the embedded copy of the token-lifecycle runtime inside every generated package."""


@attrs.frozen
class Toolkit:
    """Where the templates, the runtime and the generator's own sources are."""

    templates: Path
    generator: Path

    @property
    def runtime(self) -> Path:
        """The canonical token-lifecycle runtime package, embedded verbatim into every client."""
        return self.templates / "runtime" / "token_lifecycle"

    def runtime_files(self) -> list[Path]:
        """The runtime's modules, sorted by name (its ``__pycache__`` is not part of it)."""
        return sorted(self.runtime.glob("*.py"))

    @classmethod
    def locate(cls) -> Toolkit:
        """The checkout's ``templates/`` beside ``generator/``, or the copy inside an installed wheel."""
        generator = Path(__file__).resolve().parent
        for templates in (generator.parent / "templates", generator / "_templates"):
            if (templates / "runtime").is_dir():
                return cls(templates=templates, generator=generator)
        raise RuntimeError(f"bearer-codegen is installed without its templates (looked beside {generator})")

    def embed_runtime(self, package_dir: Path) -> None:
        """Copy the runtime's modules verbatim into ``package_dir`` as its ``_token_lifecycle`` package."""
        target = package_dir / RUNTIME_PACKAGE
        target.mkdir()
        for module in self.runtime_files():
            shutil.copyfile(module, target / module.name)
