"""The provenance hash covers what shapes the output and nothing else."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from generator import Toolkit
from generator._provenance import toolkit_files

TOOLKIT = Toolkit.locate()


def _copy(tmp_path: Path) -> Toolkit:
    templates = shutil.copytree(TOOLKIT.templates, tmp_path / "templates", ignore=shutil.ignore_patterns("__pycache__"))
    generator = shutil.copytree(TOOLKIT.generator, tmp_path / "generator", ignore=shutil.ignore_patterns("__pycache__"))
    return Toolkit(templates=templates, generator=generator)


def _hashed(toolkit: Toolkit) -> dict[str, bytes]:
    return {name: path.read_bytes() for name, path in toolkit_files(toolkit.templates, toolkit.generator)}


def test_the_render_path_is_hashed_and_the_cli_and_diff_are_not() -> None:
    """The pipeline and what it imports (even inside a function) count; the CLI and diff do not."""
    names = set(_hashed(TOOLKIT))
    for shaping in ("_pipeline.py", "_validate.py", "_names.py", "_audit.py", "x-token-lifecycle.schema.json"):
        assert f"generator/{shaping}" in names
    for other in ("__main__.py", "_diff.py", "_surface.py", "_build.py"):
        assert f"generator/{other}" not in names
    assert any(name.startswith("templates/runtime/") for name in names)


@pytest.mark.parametrize("module", ["_names.py", "_pipeline.py"])
def test_a_new_module_imported_on_the_render_path_is_hashed(tmp_path: Path, module: str) -> None:
    """A module that a render-path module starts importing joins the hash without any list to update."""
    toolkit = _copy(tmp_path)
    (toolkit.generator / "_brand_new.py").write_text("VALUE = 1\n", encoding="utf-8")
    assert "generator/_brand_new.py" not in _hashed(toolkit)
    path = toolkit.generator / module
    path.write_text(path.read_text(encoding="utf-8") + "\nfrom ._brand_new import VALUE\n", encoding="utf-8")
    assert "generator/_brand_new.py" in _hashed(toolkit)
