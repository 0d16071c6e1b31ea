"""Run every benchmark and write the report (``make bench`` → docs/benchmarks.md).

Benchmarks are not tests: nothing here asserts a speed. Each section measures its sides
interleaved in one run, on this machine, and reports medians and ratios against a baseline
measured alongside (raw httpx, stock openapi-python-client, an empty interpreter).
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from pathlib import Path

from benchmarks import client_overhead, footprint, generation, logins, simulator_throughput
from benchmarks._common import machine


def main() -> int:
    """Run all sections (or a quick pass) and write the markdown report."""
    parser = argparse.ArgumentParser(description="Run the benchmarks and write docs/benchmarks.md.")
    parser.add_argument("--output", type=Path, default=Path("docs/benchmarks.md"))
    parser.add_argument("--quick", action="store_true", help="fewer rounds: a smoke run, not figures to quote")
    args = parser.parse_args()
    quick: bool = args.quick
    started = time.perf_counter()
    sections = [
        client_overhead.report(rounds=3 if quick else 15, calls=100 if quick else 500),
        logins.report(),
        generation.report(rounds=1 if quick else 5, large_rounds=1 if quick else 3),
        footprint.report(rounds=3 if quick else 21),
        simulator_throughput.report(requests_per_client=30 if quick else 150, rounds=1 if quick else 3),
    ]
    header = [
        "# Benchmarks",
        "",
        f"Written by `make bench` (`python -m benchmarks.run{' --quick' if quick else ''}`) on "
        f"{datetime.date.today().isoformat()}, in {time.perf_counter() - started:.0f} s.",
        "",
        f"Machine: {machine()}. Shared and noisy: every figure is a median of interleaved runs, and every "
        "comparison a ratio against a baseline measured in the same run.",
        "",
    ]
    text = "\n".join(header) + "\n\n".join(sections) + "\n"
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
