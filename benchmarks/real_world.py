"""The real-world corpus: what a new user gets from public descriptions of live APIs, ours against stock.

For each document of tests/corpus/real-world/manifest.toml, with no options (what a new user types):
operations in the document and how many each generator left out, generation wall time of both
(rounds interleaved, ratio of medians per round), then mypy --strict and pyright strict on each
package that was written: error counts of both, and the time the two checkers take on ours.
A generator that refuses a document shows its exit code instead of figures.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import attrs

from benchmarks._common import BIN, median, rotations, table
from tests.functional._real_world import (
    CorpusMissingError,
    Document,
    documents,
    generated_operations,
    load,
    locate,
    operation_pointers,
)

SIDES = ("stock", "ours")


@attrs.frozen
class Generation:
    """One side's runs on one document: exit code of the last run, wall seconds of each, and the project."""

    code: int
    seconds: list[float]
    project: Path
    first_error: str


@attrs.frozen
class Checked:
    """Strict type-checker errors on one package, and the seconds the two checkers took."""

    mypy: int
    pyright: int
    seconds: float


def _command(side: str, document: Path, out: Path, package: str) -> list[str]:
    if side == "stock":
        return [str(BIN / "openapi-python-client"), "generate", "--path", str(document), "--output-path", str(out)]
    return [str(BIN / "bearer-codegen"), "generate", str(document), "--output", str(out), "--package-name", package]


def _generate(document: Path, package: str, work: Path, rounds: int) -> dict[str, Generation]:
    """Each side ``rounds`` times in a rotating order; the last run's project is kept for type-checking."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    seconds: dict[str, list[float]] = {side: [] for side in SIDES}
    last: dict[str, tuple[int, str]] = {}
    for order in rotations(list(SIDES), rounds):
        for side in order:
            out = work / side / package
            shutil.rmtree(out, ignore_errors=True)
            start = time.perf_counter()
            result = subprocess.run(  # noqa: S603 - fixed tools of this venv
                _command(side, document, out, package), cwd=work, env=env, capture_output=True, text=True, check=False
            )
            seconds[side].append(time.perf_counter() - start)
            last[side] = (result.returncode, _first_error(result.stderr + result.stdout))
    return {side: Generation(last[side][0], seconds[side], work / side / package, last[side][1]) for side in SIDES}


def _first_error(output: str) -> str:
    """The line that says why a run failed: a traceback's exception, else the first line naming an error."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    if "Traceback" in output:
        plain = [line for line in lines if not line.startswith(("│", "╭", "╰"))]
        return "traceback: " + " ".join(plain)[:160] if plain else "traceback"
    summaries = ("Error(s) encountered", "Warning(s) encountered")
    errors = [line for line in lines if "error" in line.lower() and not line.startswith(summaries)]
    return (errors or lines or [""])[0][:160]


def _package_of(project: Path) -> str | None:
    """The package directory a generator wrote inside ``project`` (the one holding ``client.py``)."""
    found = sorted(path.parent.name for path in project.glob("*/client.py"))
    return found[0] if found else None


def _check(project: Path, package: str) -> Checked:
    """mypy --strict and pyright strict on one package, each in its own fresh process, no cache."""
    start = time.perf_counter()
    mypy = subprocess.run(  # noqa: S603 - fixed tools of this venv
        [str(BIN / "mypy"), "--strict", "--config-file", os.devnull, "--cache-dir", os.devnull, package],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    config = project / "pyrightconfig.bench.json"
    config.write_text(json.dumps({"typeCheckingMode": "strict", "pythonVersion": "3.11", "include": [package]}))
    pyright = subprocess.run(  # noqa: S603 - fixed tools of this venv
        [str(BIN / "pyright"), "--outputjson", "-p", str(config), "--pythonpath", str(BIN / "python")],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    try:
        diagnostics = json.loads(pyright.stdout).get("generalDiagnostics", [])
        pyright_errors = sum(1 for d in diagnostics if d.get("severity") == "error")
    except json.JSONDecodeError:
        pyright_errors = -1
    mypy_errors = sum(1 for line in mypy.stdout.splitlines() if ": error:" in line)
    return Checked(mypy=mypy_errors, pyright=pyright_errors, seconds=elapsed)


def _row(document: Document, operations: int, found: dict[str, Generation]) -> list[object]:
    cells: list[object] = [f"`{document.file}`", operations]
    checked: dict[str, Checked | None] = {}
    for side in ("ours", "stock"):
        run = found[side]
        package = _package_of(run.project) if run.code == 0 else None
        if package is None:
            cells.append(f"exit {run.code}")
            checked[side] = None
            continue
        cells.append(operations - generated_operations(run.project, package))
        checked[side] = _check(run.project, package)
    ours, stock = found["ours"], found["stock"]
    cells += [f"{median(ours.seconds):.2f}", f"{median(stock.seconds):.2f}"]
    ratios = [mine / theirs for mine, theirs in zip(ours.seconds, stock.seconds, strict=True)]
    both = ours.code == 0 and stock.code == 0
    cells.append(f"{median(ratios):.2f}x" if both else "-")
    for attribute in ("mypy", "pyright"):
        cells.append(
            " / ".join(
                str(getattr(result, attribute)) if result is not None else "-"
                for result in (checked["ours"], checked["stock"])
            )
        )
    mine = checked["ours"]
    cells.append(f"{mine.seconds:.1f}" if mine is not None else "-")
    return cells


def report(rounds: int = 3) -> str:
    """The markdown section; a note instead of a table when the documents are not on this machine."""
    wanted = documents()
    heading = ["## 6. Real-world corpus", ""]
    try:
        folder = locate(wanted)
    except CorpusMissingError as error:
        return "\n".join([*heading, f"Not measured: {error}".replace("\n", " ")])
    rows: list[list[object]] = []
    refusals: list[str] = []
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        for document in wanted:
            path = folder / document.file
            operations = len(operation_pointers(load(path)))
            found = _generate(path, document.package, work, rounds)
            rows.append(_row(document, operations, found))
            refusals += [
                f"- `{document.file}`, {side} (exit {found[side].code}): {found[side].first_error}"
                for side in SIDES
                if found[side].code != 0
            ]
            shutil.rmtree(work / "ours", ignore_errors=True)
            shutil.rmtree(work / "stock", ignore_errors=True)
    headers = [
        "document",
        "operations",
        "omitted, ours",
        "omitted, stock",
        "generate s, ours",
        "generate s, stock",
        "ratio",
        "mypy errors ours / stock",
        "pyright errors ours / stock",
        "type-check s, ours",
    ]
    return "\n".join(
        [
            *heading,
            "Public descriptions of live APIs (tests/corpus/real-world/, origins and licences in its README), "
            f"generated with no options. Wall seconds are medians of {rounds} rounds, the two generators back to "
            "back in a rotating order; the ratio is the median of the rounds' own ratios (shown when both "
            "generate). Omitted: operations of the document without a module in the package. Errors: "
            "`mypy --strict` and pyright strict on the package as written; type-check seconds: both checkers "
            "on ours, each in a fresh process. Target: every document generates, 0 errors.",
            "",
            table(headers, rows),
            *(["", "Refusals (first error line):", "", *refusals] if refusals else []),
        ]
    )


if __name__ == "__main__":
    print(report())
