"""Import time and resident memory of a generated package against the stock openapi-python-client one.

Each measurement is a fresh interpreter that imports the package and every endpoint module (what
an application touching the whole API loads), reporting its own wall time for the imports and
its peak RSS; runs are interleaved. An empty interpreter is measured the same way as a baseline.

Both packages are measured twice, from copies: as installed (byte-compiled, as pip compiles a
wheel on install) and from source only (no ``__pycache__``, none written: every import compiles).
"""

from __future__ import annotations

import compileall
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks._common import ROOT, median, render_stock, rotations, table

PROBE = r"""
import importlib, json, pkgutil, re, sys, time
name = sys.argv[1]
start = time.perf_counter()
if name:
    package = importlib.import_module(name)
    api = importlib.import_module(name + ".api")
    for info in pkgutil.walk_packages(api.__path__, name + ".api."):
        importlib.import_module(info.name)
elapsed = time.perf_counter() - start
# VmHWM (peak RSS of this image): getrusage's maxrss would carry over the parent's peak across exec.
status = open("/proc/self/status").read()
print(json.dumps({"seconds": elapsed, "rss_kib": int(re.search(r"VmHWM:\s+(\d+)", status).group(1))}))
"""


AGAIN = "stock again (a second copy: the noise floor)"
"""An A/A side: stock measured twice shows how far apart two identical packages land."""


def _probe(package: str, path: Path) -> tuple[float, int]:
    # Never write bytecode: the source-only copies must stay source-only across runs.
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(  # noqa: S603 - this interpreter with a fixed probe
        [sys.executable, "-c", PROBE, package], cwd=path, env=env, capture_output=True, text=True, check=True
    )
    data = json.loads(result.stdout)
    return float(data["seconds"]), int(data["rss_kib"])


def _copies(work: Path) -> dict[str, tuple[str, Path]]:
    """The sides measured: (package, directory to run in), source-only and byte-compiled copies of each."""
    stock = render_stock(ROOT / "spec" / "synthetic-classic.yaml", work / "stock", "stock_client")
    ours = ROOT / "generated" / "synthetic_classic_client" / "synthetic_classic_client"
    sides: dict[str, tuple[str, Path]] = {"empty interpreter": ("", work)}
    measured = (("stock openapi-python-client", stock), (AGAIN, stock), ("bearer-codegen", ours))
    for form in ("byte-compiled", "source only"):
        for number, (label, package) in enumerate(measured):
            directory = work / form.replace(" ", "-") / f"side-{number}"
            shutil.copytree(package, directory / package.name, ignore=shutil.ignore_patterns("__pycache__"))
            if form == "byte-compiled":
                compileall.compile_dir(directory, quiet=1)
            sides[f"{label}, {form}"] = (package.name, directory)
    return sides


def report(rounds: int = 21) -> str:
    """The markdown section."""
    with tempfile.TemporaryDirectory() as temporary:
        sides = _copies(Path(temporary))
        seconds: dict[str, list[float]] = {name: [] for name in sides}
        memory: dict[str, list[float]] = {name: [] for name in sides}
        for order in rotations(list(sides), rounds):
            for name in order:
                elapsed, rss = _probe(*sides[name])
                seconds[name].append(elapsed)
                memory[name].append(rss)
    rows: list[list[object]] = [
        ["empty interpreter", "0.0", "", "", f"{median(memory['empty interpreter']) / 1024:.1f}", ""]
    ]
    for name in list(sides)[1:]:
        stock = f"stock openapi-python-client, {name.rpartition(', ')[2]}"
        # Paired by round: the runs of one round are seconds apart, so a slow spell weighs on both.
        differences = [mine - theirs for mine, theirs in zip(seconds[name], seconds[stock], strict=True)]
        ratios = [mine / theirs for mine, theirs in zip(seconds[name], seconds[stock], strict=True)]
        rows.append(
            [
                name,
                f"{median(seconds[name]) * 1000:.1f}",
                f"{median(differences) * 1000:+.1f}",
                f"{median(ratios):.3f}x",
                f"{median(memory[name]) / 1024:.1f}",
                f"{median(memory[name]) / median(memory[stock]):.2f}x",
            ]
        )
    return "\n".join(
        [
            "## 4. Import time and resident memory",
            "",
            f"A fresh interpreter imports the package and all its endpoint modules; medians of {rounds} "
            "rounds, each running every side once in a rotating order. The difference and the ratio against "
            "stock in the same form are medians of the rounds' own. Target: no worse than stock. "
            "The second stock copy is identical to the first: its ratio is the noise of the measurement. "
            "Installed packages are byte-compiled (pip compiles wheels on install); source only is the "
            "worst case, a checkout imported where no bytecode may be written.",
            "",
            table(["package", "import ms", "vs stock ms", "ratio", "peak RSS MiB", "ratio"], rows),
        ]
    )


if __name__ == "__main__":
    print(report())
