"""generated/ is exactly what the specs, templates and generator produce now; hand edits are caught."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from generator import Toolkit, check, load_clients
from tests.conftest import ROOT, Outcome


def test_generated_matches_a_fresh_render() -> None:
    """Regenerating every declared client into a temporary directory gives byte-identical trees."""
    jobs = load_clients(ROOT)
    assert jobs
    assert check(jobs, Toolkit.locate()) == []  # type: ignore[arg-type] # a list of jobs: asserted non-empty above


def _copy_project(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "spec", root / "spec")
    shutil.copytree(ROOT / "generated", root / "generated", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_hand_edit_fails_check_and_is_named(tmp_path: Path, cli: Callable[..., Outcome]) -> None:
    """Editing any file under generated/ makes 'check' exit 1 and name the file with a diff."""
    root = _copy_project(tmp_path)
    edited = root / "generated" / "synthetic_classic_client" / "synthetic_classic_client" / "client.py"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nHAND_EDIT = 1\n", encoding="utf-8")
    result = cli("--root", root, "check")
    assert result.code == 1
    assert "modified: synthetic_classic_client/client.py" in result.out
    assert "+HAND_EDIT = 1" not in result.out  # the diff goes from disk to the regenerated text
    assert "-HAND_EDIT = 1" in result.out
    assert "edited by hand" in result.out


def test_spec_change_is_reported_as_the_cause(tmp_path: Path, cli: Callable[..., Outcome]) -> None:
    """When the spec changed since generation, the drift report says so."""
    root = _copy_project(tmp_path)
    spec = root / "spec" / "synthetic-classic.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("title: ", "title: Changed ", 1), encoding="utf-8")
    result = cli("--root", root, "check")
    assert result.code == 1
    assert "the spec changed since it was generated" in result.out


def test_missing_and_unexpected_files_are_listed(tmp_path: Path, cli: Callable[..., Outcome]) -> None:
    """A deleted generated file and a stray new one are both named."""
    root = _copy_project(tmp_path)
    package = root / "generated" / "synthetic_classic_client" / "synthetic_classic_client"
    (package / "types.py").unlink()
    (package / "stray.py").write_text("x = 1\n", encoding="utf-8")
    result = cli("--root", root, "check")
    assert result.code == 1
    assert "missing: synthetic_classic_client/types.py" in result.out
    assert "unexpected: synthetic_classic_client/stray.py" in result.out
