"""Format a rendered project with the pinned ruff and explicit settings, whatever ruff configuration is nearby."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from collections.abc import Sequence
from pathlib import Path

__all__ = ["format_project"]

RUFF_SETTINGS = ("--isolated", "--no-cache", "--line-length", "120", "--target-version", "py311")
"""Explicit formatter settings: the output must not depend on any ruff configuration nearby."""
RUFF_FIXES = ("--fix-only", "--exit-zero", "--select", "F401,I,UP,RUF022")
"""Unused imports, import order, modern syntax, and ``__all__`` sorted (document names order it otherwise)."""


def format_project(project_dir: Path) -> str | None:
    """Fix imports and format with explicit settings; what ruff said when it could not (unparsable code)."""
    for args in (["check", *RUFF_SETTINGS, *RUFF_FIXES], ["format", *RUFF_SETTINGS]):
        failure = _ruff(args, project_dir)
        if failure is not None:
            return failure
    return None


def _ruff_binary() -> str:
    """The ruff executable installed beside this interpreter by the pinned ruff wheel."""
    name = "ruff.exe" if os.name == "nt" else "ruff"
    for candidate in (Path(sysconfig.get_path("scripts")) / name, Path(sys.executable).parent / name):
        if candidate.is_file():
            return str(candidate)
    # Never fall back to whatever ruff is on PATH: its version would change the output.
    raise RuntimeError(f"the pinned ruff is not installed beside {sys.executable}")


def _ruff(args: Sequence[str], cwd: Path) -> str | None:
    """Run the pinned ruff; what it said when it failed, else None."""
    # RUFF_* variables would change the output; the formatter's behaviour must be the pins alone.
    env = {key: value for key, value in os.environ.items() if not key.startswith("RUFF_")}
    result = subprocess.run(  # noqa: S603 - fixed arguments, the binary of the pinned ruff wheel
        [_ruff_binary(), *args, "."], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        return f"ruff {args[0]} failed: {result.stdout}{result.stderr}"
    return None
