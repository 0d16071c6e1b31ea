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
from collections.abc import Callable
from pathlib import Path

from benchmarks import client_overhead, fleet, footprint, generation, logins, real_world, simulator_throughput
from benchmarks._common import machine

SECTIONS = ("client", "logins", "generation", "footprint", "simulator", "real-world", "fleet")


def _update(output: Path, fresh: list[str]) -> int:
    """Put freshly measured sections into the report in place of their namesakes (or at its end).

    A section is a markdown block from its ``## N. Title`` heading to the next ``## `` heading.
    """
    text = output.read_text(encoding="utf-8") if output.is_file() else "# Benchmarks\n"
    for section in fresh:
        heading = section.split("\n", 1)[0]
        start = text.find(heading + "\n")
        if start < 0:
            text = text.rstrip("\n") + "\n\n" + section + "\n"
            continue
        end = text.find("\n## ", start + len(heading))
        text = text[:start] + section + ("\n" + text[end:] if end >= 0 else "\n")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    print("\n\n".join(fresh))
    return 0


def main() -> int:
    """Run all sections (or a quick pass) and write the markdown report."""
    parser = argparse.ArgumentParser(description="Run the benchmarks and write docs/benchmarks.md.")
    parser.add_argument("--output", type=Path, default=Path("docs/benchmarks.md"))
    parser.add_argument("--quick", action="store_true", help="fewer rounds: a smoke run, not figures to quote")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=SECTIONS,
        help="run only these sections and replace them in the existing report, leaving the others as they are",
    )
    args = parser.parse_args()
    quick: bool = args.quick
    started = time.perf_counter()
    sections: dict[str, Callable[[], str]] = {
        "client": lambda: client_overhead.report(rounds=3 if quick else 15, calls=100 if quick else 500),
        "logins": logins.report,
        "generation": lambda: generation.report(rounds=1 if quick else 5, large_rounds=1 if quick else 3),
        "footprint": lambda: footprint.report(rounds=3 if quick else 21),
        "simulator": lambda: simulator_throughput.report(
            requests_per_client=30 if quick else 150, rounds=1 if quick else 3
        ),
        "real-world": lambda: real_world.report(rounds=1 if quick else 3),
        "fleet": lambda: fleet.report(
            rounds=3 if quick else 9, calls=100 if quick else 300, seconds=12.0 if quick else fleet.SECONDS
        ),
    }
    if args.only:
        return _update(args.output, [sections[name]() for name in args.only])
    reports = [report() for report in sections.values()]
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
    text = "\n".join(header) + "\n\n".join(reports) + "\n"
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
