"""Import time and resident memory of a generated package against the stock openapi-python-client one.

Each measurement is a fresh interpreter that imports the package and every endpoint module (what
an application touching the whole API loads), reporting its own wall time for the imports and
its peak RSS; runs are interleaved. An empty interpreter is measured the same way as a baseline.
"""

from __future__ import annotations

import json
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


def _probe(package: str, path: Path) -> tuple[float, int]:
    result = subprocess.run(  # noqa: S603 - this interpreter with a fixed probe
        [sys.executable, "-c", PROBE, package], cwd=path, capture_output=True, text=True, check=True
    )
    data = json.loads(result.stdout)
    return float(data["seconds"]), int(data["rss_kib"])


def report(rounds: int = 15) -> str:
    """The markdown section."""
    with tempfile.TemporaryDirectory() as temporary:
        stock_dir = Path(temporary)
        render_stock(ROOT / "spec" / "synthetic-classic.yaml", stock_dir, "stock_client")
        sides = {
            "empty interpreter": ("", stock_dir),
            "stock openapi-python-client": ("stock_client", stock_dir),
            "bearer-codegen (synthetic_classic_client)": (
                "synthetic_classic_client",
                ROOT / "generated" / "synthetic_classic_client",
            ),
        }
        seconds: dict[str, list[float]] = {name: [] for name in sides}
        memory: dict[str, list[float]] = {name: [] for name in sides}
        for order in rotations(list(sides), rounds):
            for name in order:
                elapsed, rss = _probe(*sides[name])
                seconds[name].append(elapsed)
                memory[name].append(rss)
    stock = "stock openapi-python-client"
    rows = [
        [
            name,
            f"{median(seconds[name]) * 1000:.1f}",
            f"{median(seconds[name]) / median(seconds[stock]):.2f}x",
            f"{median(memory[name]) / 1024:.1f}",
            f"{median(memory[name]) / median(memory[stock]):.2f}x",
        ]
        for name in sides
    ]
    return "\n".join(
        [
            "## 4. Import time and resident memory",
            "",
            f"A fresh interpreter imports the package and all its endpoint modules; medians of {rounds} "
            "interleaved runs. Target: no worse than stock.",
            "",
            table(["package", "import ms", "ratio", "peak RSS MiB", "ratio"], rows),
        ]
    )


if __name__ == "__main__":
    print(report())
