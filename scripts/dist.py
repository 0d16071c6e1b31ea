"""Build, install and type-check every generated package the way its users will get it (``make dist``).

For each ``generated/<project>/pyproject.toml``:

1. ``python -m build`` makes the sdist and the wheel in ``dist/<project>/``;
2. the version must be the spec's ``info.version``, and ``provenance.toml`` must be in the archives
   listed in ``PROVENANCE_IN``;
3. the wheel is installed into a fresh virtual environment (pip fetches httpx and attrs), and the
   package is imported there, from outside this checkout;
4. its consumer file ``tests/typing/<stem>_usage.py`` (``<stem>`` is the package name without a
   trailing ``_client``) is copied next to nothing else and checked with ``mypy --strict`` and
   pyright strict against that environment only, so the check sees what the wheel ships (``py.typed``,
   every module) and not ``generated/``.

A generated package without a consumer file is an error: its public API would go unchecked.
Exit code 0 when every package passes, 1 otherwise.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from collections.abc import Sequence
from pathlib import Path

import attrs

from generator._document import load_document
from generator._jsonish import as_mapping

ROOT = Path(__file__).resolve().parent.parent
GENERATED = ROOT / "generated"
DIST = ROOT / "dist"
TYPING = ROOT / "tests" / "typing"
PROVENANCE = "provenance.toml"
PROVENANCE_IN: tuple[str, ...] = ("sdist", "wheel")
"""Archives that must carry provenance.toml. The wheel joins once templates/pyproject.toml.jinja force-includes it."""
MYPY_CONFIG = """\
[mypy]
strict = True
warn_unreachable = True
enable_error_code = ignore-without-code, redundant-expr, truthy-bool
"""


class DistError(Exception):
    """One step failed for one package; the message says which and shows the tool's output."""


@attrs.frozen
class Project:
    """One generated project, as its pyproject.toml and provenance.toml describe it."""

    directory: Path
    distribution: str
    version: str
    package: str
    spec: str

    @classmethod
    def read(cls, pyproject: Path) -> Project:
        """Read ``generated/<project>/pyproject.toml`` and the provenance beside it."""
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        packages: list[str] = data["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
        provenance = tomllib.loads((pyproject.parent / PROVENANCE).read_text(encoding="utf-8"))
        return cls(
            directory=pyproject.parent,
            distribution=str(data["project"]["name"]),
            version=str(data["project"]["version"]),
            package=packages[0],
            spec=str(provenance["provenance"]["spec"]),
        )

    @property
    def consumer(self) -> Path:
        """``tests/typing/<stem>_usage.py``: the package's public API as a caller writes it."""
        stem = self.package.removesuffix("_client")
        return TYPING / f"{stem}_usage.py"


def _run(args: Sequence[str | Path], what: str, cwd: Path = ROOT) -> str:
    result = subprocess.run(  # noqa: S603 - our own tools (this interpreter, a venv we made) with fixed arguments
        [str(arg) for arg in args], cwd=cwd, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise DistError(f"{what} failed (exit {result.returncode}):\n{result.stdout}{result.stderr}".rstrip())
    return result.stdout


def _say(line: str) -> None:
    print(line, flush=True)


def build(project: Project) -> tuple[Path, Path]:
    """The sdist and the wheel of ``project``, freshly built into ``dist/<project>/``."""
    outdir = DIST / project.directory.name
    shutil.rmtree(outdir, ignore_errors=True)
    _run([sys.executable, "-m", "build", "--outdir", outdir, project.directory], "python -m build")
    sdists, wheels = sorted(outdir.glob("*.tar.gz")), sorted(outdir.glob("*.whl"))
    if len(sdists) != 1 or len(wheels) != 1:
        raise DistError(f"expected one sdist and one wheel in {outdir}, found {[p.name for p in (*sdists, *wheels)]}")
    _say(f"   built {sdists[0].relative_to(ROOT)} and {wheels[0].name}")
    return sdists[0], wheels[0]


def check_archives(project: Project, sdist: Path, wheel: Path) -> None:
    """The wheel's version is the spec's info.version, it ships py.typed, and provenance is where required."""
    spec = load_document(ROOT / project.spec, project.spec)
    if not isinstance(spec, dict):
        raise DistError(f"cannot read {project.spec}: {spec.render()}")
    info_version = str(as_mapping(spec.get("info")).get("version"))
    with zipfile.ZipFile(wheel) as archive:
        wheel_names = archive.namelist()
        metadata = next(name for name in wheel_names if name.endswith(".dist-info/METADATA"))
        headers = archive.read(metadata).decode("utf-8").split("\n\n", 1)[0].splitlines()
    wheel_version = next(line.split(":", 1)[1].strip() for line in headers if line.startswith("Version:"))
    if not wheel_version == project.version == info_version:
        raise DistError(
            f"version mismatch: {project.spec} info.version {info_version}, pyproject {project.version}, "
            f"wheel {wheel_version}"
        )
    if f"{project.package}/py.typed" not in wheel_names:
        raise DistError(f"{wheel.name} lacks {project.package}/py.typed: type checkers would ignore it")
    with tarfile.open(sdist) as archive:
        sdist_names = archive.getnames()
    carried = {
        "sdist": any(Path(name).name == PROVENANCE for name in sdist_names),
        "wheel": any(Path(name).name == PROVENANCE for name in wheel_names),
    }
    _say(
        f"   version {wheel_version} = info.version of {project.spec}; {PROVENANCE} in "
        + ", ".join(f"{kind}: {'yes' if present else 'no'}" for kind, present in carried.items())
    )
    missing = [kind for kind in PROVENANCE_IN if not carried[kind]]
    if missing:
        raise DistError(f"{PROVENANCE} is missing from the {' and '.join(missing)}")


def install(project: Project, wheel: Path, scratch: Path) -> Path:
    """A fresh virtual environment with the wheel installed and imported; its interpreter."""
    venv = scratch / "venv"
    _run([sys.executable, "-m", "venv", venv], "python -m venv")
    python = venv / "bin" / "python"
    _run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel], f"pip install {wheel.name}")
    # From the scratch directory, so nothing of this checkout is importable by accident.
    where = _run(
        [
            python,
            "-c",
            f"import {project.package} as p, {project.package}.api, {project.package}.models; print(p.__file__)",
        ],
        f"import {project.package}",
        cwd=scratch,
    ).strip()
    if not Path(where).is_relative_to(venv):
        raise DistError(f"import {project.package} found {where}, not the installed wheel")
    _say(f"   installed into a fresh venv; import {project.package} -> {Path(where).relative_to(scratch)}")
    return python


def type_check(project: Project, python: Path, scratch: Path) -> None:
    """mypy --strict and pyright strict on the consumer file, seeing only the fresh environment."""
    consumer = scratch / "consumer"
    consumer.mkdir()
    target = consumer / project.consumer.name
    shutil.copyfile(project.consumer, target)
    shown = project.consumer.relative_to(ROOT)
    config = consumer / "mypy.ini"
    config.write_text(MYPY_CONFIG, encoding="utf-8")
    _run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            config,
            "--python-executable",
            python,
            "--cache-dir",
            scratch / ".mypy_cache",
            target.name,
        ],
        f"mypy --strict {shown}",
        cwd=consumer,
    )
    _say(f"   mypy --strict {shown}: no issues")
    pyright_config = {
        "typeCheckingMode": "strict",
        "pythonVersion": "3.11",
        "include": [target.name],
        "venvPath": str(scratch),
        "venv": python.parent.parent.name,
    }
    (consumer / "pyrightconfig.json").write_text(json.dumps(pyright_config), encoding="utf-8")
    _run(
        [sys.executable, "-m", "pyright", "-p", consumer / "pyrightconfig.json"],
        f"pyright strict {shown}",
        cwd=consumer,
    )
    _say(f"   pyright strict {shown}: 0 errors")


def dist(project: Project) -> None:
    """Every step for one project; raises DistError at the first that fails."""
    _say(f"== {project.distribution} {project.version} ({project.directory.relative_to(ROOT)})")
    if not project.consumer.is_file():
        raise DistError(
            f"no consumer file {project.consumer.relative_to(ROOT)}: write one (type-checked only, never run) "
            f"that uses the public API of {project.package}"
        )
    sdist, wheel = build(project)
    check_archives(project, sdist, wheel)
    with tempfile.TemporaryDirectory(prefix=f"dist-{project.package}-") as scratch_name:
        scratch = Path(scratch_name)
        python = install(project, wheel, scratch)
        type_check(project, python, scratch)


def main() -> int:
    """Build and check every generated project; the exit code."""
    projects = [Project.read(pyproject) for pyproject in sorted(GENERATED.glob("*/pyproject.toml"))]
    if not projects:
        print("dist: no generated projects under generated/; run make generate", file=sys.stderr)
        return 1
    failed: list[str] = []
    for project in projects:
        try:
            dist(project)
        except DistError as error:
            print(f"error: {project.distribution}: {error}", file=sys.stderr)
            failed.append(project.distribution)
    if failed:
        print(f"dist: failed for {', '.join(failed)}", file=sys.stderr)
        return 1
    _say(f"dist: {len(projects)} package(s) built into dist/, installed in fresh venvs and type-checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
