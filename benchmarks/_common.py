"""What every benchmark shares: interleaved timing, medians, the machine, a simulator, markdown."""

from __future__ import annotations

import asyncio
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Generator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def machine() -> str:
    """One line describing this machine, for the report."""
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        match = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text(encoding="utf-8"))
        model = match.group(1).strip() if match else ""
    return (
        f"{platform.machine()}, {os.cpu_count()} CPUs{f' ({model})' if model else ''}, "
        f"{platform.python_implementation()} {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def rotations(names: Sequence[str], rounds: int) -> Iterator[list[str]]:
    """Each round's order: the sides rotate so that drift and noise hit every side alike."""
    for number in range(rounds):
        shift = number % len(names)
        yield [*names[shift:], *names[:shift]]


def interleave(sides: Mapping[str, Callable[[], Any]], rounds: int, repeat: int) -> dict[str, list[float]]:
    """Seconds per call of each side, one sample per round, sides interleaved."""
    samples: dict[str, list[float]] = {name: [] for name in sides}
    for call in sides.values():  # warm-up: imports, connection pools, caches
        for _ in range(max(1, repeat // 10)):
            call()
    for order in rotations(list(sides), rounds):
        for name in order:
            call = sides[name]
            start = time.perf_counter()
            for _ in range(repeat):
                call()
            samples[name].append((time.perf_counter() - start) / repeat)
    return samples


def interleave_async(
    sides: Mapping[str, Callable[[], Awaitable[Any]]], rounds: int, repeat: int
) -> dict[str, list[float]]:
    """`interleave` for coroutine functions, on one event loop."""

    async def run() -> dict[str, list[float]]:
        samples: dict[str, list[float]] = {name: [] for name in sides}
        for call in sides.values():
            for _ in range(max(1, repeat // 10)):
                await call()
        for order in rotations(list(sides), rounds):
            for name in order:
                call = sides[name]
                start = time.perf_counter()
                for _ in range(repeat):
                    await call()
                samples[name].append((time.perf_counter() - start) / repeat)
        return samples

    return asyncio.run(run())


def median(samples: Sequence[float]) -> float:
    """The median of the samples."""
    return statistics.median(samples)


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A markdown table; numbers right-aligned."""
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|",
    ]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


@contextmanager
def simulator(spec: str, *args: str) -> Generator[str]:
    """A simulator subprocess on a free loopback port; yields its base URL."""
    process = subprocess.Popen(  # noqa: S603 - our own CLI with fixed arguments
        [sys.executable, "-m", "generator", "serve", spec, "--port", "0", "--control", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("Serving "), line
        yield line.strip().rsplit(" on ", 1)[1]
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


def render_stock(spec: Path, output: Path, package: str) -> Path:
    """Render ``spec`` with openapi-python-client's stock templates (no post hooks) into ``output``; the package dir."""
    import contextlib
    import io

    from openapi_python_client import Project
    from openapi_python_client.config import Config, ConfigFile, MetaType
    from openapi_python_client.parser import GeneratorData

    from generator._jsonish import as_mapping, load_yaml

    document = dict(as_mapping(load_yaml(spec.read_text(encoding="utf-8"))))
    options = ConfigFile(
        package_name_override=package,
        post_hooks=[],
        content_type_overrides={"application/xml": "application/octet-stream"},
    )
    config = Config.from_sources(options, MetaType.NONE, spec, "utf-8", overwrite=True, output_path=output / package)
    with contextlib.redirect_stdout(io.StringIO()):
        data = GeneratorData.from_dict(document, config=config)
        assert isinstance(data, GeneratorData), data
        Project(openapi=data, config=config).build()
    return output / package
