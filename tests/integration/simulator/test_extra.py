"""The simulator is an optional extra: ``generate`` never imports its web stack, ``serve`` without it says so."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import minimal_spec, write_spec

from ._support import ROOT, SPEC_ARG

WEB_MODULES = ("starlette", "uvicorn", "defusedxml")

MISSING_EXTRA = textwrap.dedent(
    """
    import sys

    # None in sys.modules makes the import fail as when the package is not installed.
    sys.modules[{module!r}] = None
    from generator.__main__ import main

    sys.exit(main(sys.argv[1:]))
    """
)


def python(code: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("module", WEB_MODULES)
def test_serve_without_the_extra_says_which_extra_in_one_line(module: str) -> None:
    """Exit 2 and one line naming the extra on stderr, no traceback, even with serve's own options."""
    run = python(MISSING_EXTRA.format(module=module), "serve", SPEC_ARG, "--port", "0", "--control")
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr == "bearer-codegen serve needs the 'serve' extra: pip install 'bearer-codegen[serve]'\n"


def test_the_word_serve_elsewhere_does_not_need_the_extra(tmp_path: Path) -> None:
    """Only the serve command needs the extra: ``serve`` as an option's value of another command does not."""
    spec = write_spec(tmp_path / "spec.yaml", minimal_spec())
    run = python(MISSING_EXTRA.format(module="starlette"), "generate", spec, "--output", tmp_path / "serve")
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "serve" / "pyproject.toml").is_file()


def test_importing_the_generator_and_generating_import_no_web_module(tmp_path: Path) -> None:
    """``import generator`` and a whole ``generate`` run leave starlette, uvicorn and defusedxml unimported."""
    spec = write_spec(tmp_path / "spec.yaml", minimal_spec())
    code = textwrap.dedent(
        f"""
        import sys

        import generator
        from generator.__main__ import main

        assert main(sys.argv[1:]) == 0
        print(sorted(name for name in sys.modules if name.partition(".")[0] in {WEB_MODULES!r} + ("simulator",)))
        """
    )
    run = python(code, "generate", spec, "--output", tmp_path / "out")
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-1] == "[]"
