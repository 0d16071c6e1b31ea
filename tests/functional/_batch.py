"""Run the CLI as a subprocess and judge many generated projects at once: ruff, mypy, pyright, import.

Type-checking one generated project costs seconds, most of it start-up; the hostile, fuzz and
corpus tests therefore collect their projects and run each checker once over all of them.
Findings are attributed back to the project (package) they were found in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import attrs

BIN = Path(sys.executable).parent
CLI = BIN / "bearer-codegen"
SUMMARY: dict[str, dict[str, float]] = {}
"""Counts the hostile, fuzz and corpus tests record for the session summary (tests/functional/conftest.py)."""
RUFF_SETTINGS = ("--isolated", "--no-cache", "--line-length", "120", "--target-version", "py311")
"""The generator's own explicit ruff settings (generator/_format.py), so nothing nearby matters."""
RUFF_IGNORED = ("PYI019", "PYI036", "RUF100", "N999")
"""Style rules of ruff's default set that fire on the stock template shapes, the committed generated/
included: a custom TypeVar in ``from_dict`` (model.py.jinja), ``__exit__(*args: Any)`` (client.py.jinja)
and a ``noqa`` for a rule ruff's defaults do not enable; and non-ASCII module names, which are valid
Python 3 (an operationId such as ``Ünïcödé``). None of them is about broken or unsafe code."""


@attrs.frozen
class Run:
    """One CLI run: exit code, output, wall time and peak memory."""

    code: int
    out: str
    err: str
    seconds: float
    max_rss_mb: float


def run_cli(args: Sequence[str | Path], *, cwd: Path, timeout: float) -> Run:
    """Run ``bearer-codegen ARGS`` as a subprocess: a traceback, a hang or a memory blow-up is observable.

    The child is reaped with ``wait4`` so that its own peak RSS is measured, not that of every child.
    """
    start = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen([str(CLI), *map(str, args)], cwd=cwd, stdout=out, stderr=err)
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                process.returncode = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() - start > timeout:
                process.kill()
                _, _, usage = os.wait4(process.pid, 0)
                process.returncode = -1
                break
            time.sleep(0.02)
        out.seek(0)
        err.seek(0)
        return Run(
            code=process.returncode,
            out=out.read().decode("utf-8", errors="replace"),
            err=err.read().decode("utf-8", errors="replace"),
            seconds=time.monotonic() - start,
            max_rss_mb=usage.ru_maxrss / 1024,
        )


@attrs.frozen
class Findings:
    """What each checker said, by package; a package absent from a checker's map is clean for it."""

    ruff: dict[str, list[str]]
    mypy: dict[str, list[str]]
    pyright: dict[str, list[str]]
    imports: dict[str, list[str]]

    def of(self, package: str, checkers: Iterable[str] = ("ruff", "mypy", "pyright", "import")) -> list[str]:
        """Every finding of ``checkers`` about ``package``, prefixed with the checker's name."""
        by_checker = {"ruff": self.ruff, "mypy": self.mypy, "pyright": self.pyright, "import": self.imports}
        return [f"{checker}: {line}" for checker in checkers for line in by_checker[checker].get(package, [])]


def _by_package(lines: Iterable[str], paths: Mapping[str, str], root: Path) -> dict[str, list[str]]:
    """Attribute checker output lines to the package whose files they name; the rest go to '?'."""
    found: dict[str, list[str]] = {}
    prefixes = sorted(((f"{path}/", package) for package, path in paths.items()), reverse=True)
    for raw in lines:
        line = raw.strip().replace(f"{root.resolve()}{os.sep}", "").replace(f"{root}{os.sep}", "")
        if not line:
            continue
        owner = next((package for prefix, package in prefixes if line.startswith(prefix)), "?")
        found.setdefault(owner, []).append(line)
    return found


def _ruff(root: Path, paths: Mapping[str, str]) -> dict[str, list[str]]:
    ignored = ",".join(RUFF_IGNORED)
    command = [str(BIN / "ruff"), "check", *RUFF_SETTINGS, "--extend-ignore", ignored, "--output-format", "concise"]
    result = subprocess.run([*command, *paths.values()], cwd=root, capture_output=True, text=True, check=False)
    lines = [line for line in result.stdout.splitlines() if ":" in line]
    if result.returncode not in (0, 1) or result.stderr.strip():
        lines.append(f"ruff exited {result.returncode}: {result.stderr.strip()}")
    return _by_package(lines, paths, root)


def _mypy(root: Path, paths: Mapping[str, str], projects: Sequence[Path]) -> dict[str, list[str]]:
    env = {**os.environ, "MYPYPATH": os.pathsep.join(str(project) for project in projects)}
    command = [str(BIN / "mypy"), "--config-file", str(root / "mypy.ini"), "--cache-dir", os.devnull]
    command += ["--no-error-summary", "--show-error-codes"]
    command += [arg for package in paths for arg in ("-p", package)]
    result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, check=False)
    lines = [line for line in result.stdout.splitlines() if ": note:" not in line]
    if result.returncode not in (0, 1):
        lines.append(f"mypy exited {result.returncode}: {result.stderr.strip()[-2000:]}")
    return _by_package(lines, paths, root)


def _pyright(root: Path, paths: Mapping[str, str]) -> dict[str, list[str]]:
    command = [str(BIN / "pyright"), "--outputjson", "-p", str(root / "pyrightconfig.json")]
    result = subprocess.run(
        [*command, "--pythonpath", sys.executable], cwd=root, capture_output=True, text=True, check=False
    )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        return {"?": [f"pyright exited {result.returncode}: {result.stdout[-2000:]}{result.stderr[-2000:]}"]}
    lines = [
        f"{d['file']}:{d['range']['start']['line'] + 1}: {d['severity']}: {d['message']} ({d.get('rule', '')})"
        for d in report.get("generalDiagnostics", [])
        if d["severity"] in ("error", "warning")
    ]
    if report.get("summary", {}).get("filesAnalyzed", 0) < len(paths):
        lines.append(f"pyright analysed too few files: {report.get('summary')} {result.stderr[-2000:]}")
    return _by_package(lines, paths, root)


IMPORT_PROBE = """\
import importlib, pkgutil, sys, traceback
for name in sys.argv[1:]:
    try:
        package = importlib.import_module(name)
        for info in pkgutil.walk_packages(package.__path__, name + "."):
            importlib.import_module(info.name)
    except BaseException:
        print(name + ": " + traceback.format_exc().replace("\\n", " | "))
"""


def _imports(root: Path, paths: Mapping[str, str], projects: Sequence[Path], cwd: Path) -> dict[str, list[str]]:
    """Import every module of every package in one interpreter, with ``cwd`` as the working directory."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, projects)), "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE, *paths], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    found: dict[str, list[str]] = {}
    for line in result.stdout.splitlines():
        package, _, rest = line.partition(": ")
        found.setdefault(package if package in paths else "?", []).append(rest)
    if result.returncode != 0:
        found.setdefault("?", []).append(f"the import probe exited {result.returncode}: {result.stderr[-2000:]}")
    return found


def check_packages(projects: Mapping[str, Path], root: Path, *, import_cwd: Path | None = None) -> Findings:
    """Run every checker once over the packages of ``projects``, which must all lie under ``root``.

    ``projects`` maps a package name to its generated project directory (the package is a child of it).
    """
    packages = sorted(projects)
    if not packages:
        return Findings({}, {}, {}, {})
    relative = {package: projects[package].resolve().relative_to(root.resolve()) for package in packages}
    (root / "mypy.ini").write_text("[mypy]\nstrict = True\npython_version = 3.11\n", encoding="utf-8")
    config = {
        "typeCheckingMode": "strict",
        "pythonVersion": "3.11",
        "include": [(relative[package] / package).as_posix() for package in packages],
        "extraPaths": [relative[package].as_posix() for package in packages],
    }
    (root / "pyrightconfig.json").write_text(json.dumps(config), encoding="utf-8")
    paths = {package: (relative[package] / package).as_posix() for package in packages}
    with ThreadPoolExecutor(max_workers=2) as pool:
        mypy = pool.submit(_mypy, root, paths, [projects[p] for p in packages])
        pyright = pool.submit(_pyright, root, paths)
        ruff = _ruff(root, paths)
        imports = _imports(root, paths, [projects[p] for p in packages], import_cwd or root)
        return Findings(ruff=ruff, mypy=mypy.result(), pyright=pyright.result(), imports=imports)
