"""Directory trees: render somewhere private, swap in whole, compare for drift.

Generation never writes into ``generated/`` directly. A project is rendered into a sibling
temporary directory (same filesystem, so ``rename`` is atomic) and swapped in at the end; a
failure at any step leaves the previous tree exactly as it was.
"""

from __future__ import annotations

import difflib
import os
import shutil
import tempfile
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path

import attrs

__all__ = ["IGNORED_PARTS", "Difference", "compare_trees", "staging_dir", "swap_in"]

IGNORED_PARTS = frozenset({"__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", "build", "dist"})
"""Caches and build output that tools leave in a generated project; never compared."""
DIFF_LINES = 40
"""Lines of unified diff shown per differing file."""


@contextmanager
def staging_dir(target: Path) -> Generator[Path]:
    """A fresh, empty directory beside ``target``, removed on exit unless it was swapped in."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.staging-", dir=target.parent))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def swap_in(rendered: Path, target: Path) -> None:
    """Replace ``target`` with ``rendered`` (a directory on the same filesystem)."""
    if not target.exists():
        rendered.rename(target)
        return
    retired = target.with_name(f".{target.name}.retired-{os.getpid()}")
    shutil.rmtree(retired, ignore_errors=True)
    target.rename(retired)
    try:
        rendered.rename(target)
    except OSError:
        retired.rename(target)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def _files(root: Path) -> dict[str, Path]:
    files: dict[str, Path] = {}
    if root.is_dir():
        for path in root.rglob("*"):
            relative = path.relative_to(root)
            if (
                path.is_file()
                and not IGNORED_PARTS.intersection(relative.parts)
                and not relative.name.endswith(".egg-info")
            ):
                files[relative.as_posix()] = path
    return files


@attrs.frozen
class Difference:
    """One file that differs between the expected tree and the one on disk."""

    path: str
    kind: str
    """``modified``, ``missing`` (expected but absent) or ``unexpected`` (present but not expected)."""
    diff: str


def _diff(expected: Path, actual: Path, name: str) -> str:
    try:
        old = actual.read_text(encoding="utf-8").splitlines(keepends=True)
        new = expected.read_text(encoding="utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return "(binary files differ)\n"
    lines = list(difflib.unified_diff(old, new, f"on disk/{name}", f"regenerated/{name}", n=2))
    shown = "".join(lines[:DIFF_LINES])
    if len(lines) > DIFF_LINES:
        shown += f"... ({len(lines) - DIFF_LINES} more diff lines)\n"
    return shown


def compare_trees(expected: Path, actual: Path) -> list[Difference]:
    """Every file that differs between a freshly rendered tree and the one on disk, sorted."""
    want, have = _files(expected), _files(actual)
    differences: list[Difference] = []
    for name in sorted(want.keys() | have.keys()):
        if name not in have:
            differences.append(Difference(name, "missing", ""))
        elif name not in want:
            differences.append(Difference(name, "unexpected", ""))
        elif want[name].read_bytes() != have[name].read_bytes():
            differences.append(Difference(name, "modified", _diff(want[name], have[name], name)))
    return differences
