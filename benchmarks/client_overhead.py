"""Per-call cost of the generated client against the stock openapi-python-client client.

Both clients are generated from the same spec (ours from generated/, the stock one rendered
here with openapi-python-client's own templates) and call ``GET /tests`` through an in-process
``httpx.MockTransport`` that answers a fixed body, so only client-side work is measured: the stock
client with a static token, ours with the full token lifecycle (auth flow, locks, retry layer)
after its lazy login. Runs are interleaved — stock, ours, raw httpx, in rotating order — so
machine noise hits every side alike; the figure is the ratio of medians.

Usage: python benchmarks/client_overhead.py [--rounds R] [--calls N] [--markdown FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import io
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
from openapi_python_client import Project
from openapi_python_client.config import Config, ConfigFile, MetaType
from openapi_python_client.parser import GeneratorData

from generator._jsonish import as_mapping, load_yaml

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec" / "synthetic-classic.yaml"
BASE = "https://sc.example/publicapi/rest/v1.0"
BODY = b'{"Monitors": [{"Monitor": {"monitorID": "42", "tname": "Home page", "testType": "BACKBONE"}}]}'


def _answer(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/login"):
        return httpx.Response(200, text="benchmark-token")
    return httpx.Response(200, content=BODY, headers={"Content-Type": "application/json"})


def _stock_package(workdir: Path) -> ModuleType:
    """Render the spec with openapi-python-client's stock templates and import it."""
    document = dict(as_mapping(load_yaml(SPEC.read_text(encoding="utf-8"))))
    options = ConfigFile(
        package_name_override="stock_client",
        post_hooks=[],
        content_type_overrides={"application/xml": "application/octet-stream"},
    )
    config = Config.from_sources(
        options, MetaType.NONE, SPEC, "utf-8", overwrite=True, output_path=workdir / "stock_client"
    )
    with contextlib.redirect_stdout(io.StringIO()):
        data = GeneratorData.from_dict(document, config=config)
        assert isinstance(data, GeneratorData), data
        Project(openapi=data, config=config).build()
    sys.path.insert(0, str(workdir))
    return importlib.import_module("stock_client")


def _median_per_call(samples: list[float], calls: int) -> float:
    return statistics.median(samples) / calls * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description="Per-call cost of the generated client against the stock one.")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT / "generated" / "synthetic_classic_client"))
    ours = importlib.import_module("synthetic_classic_client")
    ours_list = importlib.import_module("synthetic_classic_client.api.tests.list_tests")
    with tempfile.TemporaryDirectory() as temporary:
        stock = _stock_package(Path(temporary))
        stock_list = importlib.import_module("stock_client.api.tests.list_tests")
        transport = httpx.MockTransport(_answer)
        stock_client = stock.AuthenticatedClient(
            base_url=BASE, token="benchmark-token", httpx_args={"transport": transport}
        )
        our_client = ours.AuthenticatedClient(
            base_url=BASE,
            credentials=ours.Credentials(username="bench", password="bench-password"),
            httpx_args={"transport": transport},
        )
        raw = httpx.Client(base_url=BASE, transport=transport)
        ours_list.sync(client=our_client)  # the lazy login happens before timing
        sync_sides: dict[str, Callable[[], Any]] = {
            "raw httpx (get + .json())": lambda: raw.get("/tests").json(),
            "stock openapi-python-client, static token": lambda: stock_list.sync(client=stock_client),
            "bearer-codegen, token lifecycle": lambda: ours_list.sync(client=our_client),
        }
        sync_results = _interleave_sync(sync_sides, args.rounds, args.calls)
        async_results = asyncio.run(
            _async_round(stock, stock_list, ours, ours_list, transport, args.rounds, args.calls)
        )
        logins = our_client.lifecycle.stats.logins

    table = _table(sync_results, async_results, args.calls, logins)
    print(table)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(table + "\n", encoding="utf-8")
    return 0


def _interleave_sync(sides: dict[str, Callable[[], Any]], rounds: int, calls: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in sides}
    names = list(sides)
    for name in names:  # warm-up
        for _ in range(calls // 10):
            sides[name]()
    for round_number in range(rounds):
        order = names[round_number % len(names) :] + names[: round_number % len(names)]
        for name in order:
            call = sides[name]
            start = time.perf_counter()
            for _ in range(calls):
                call()
            samples[name].append(time.perf_counter() - start)
    return samples


async def _async_round(
    stock: ModuleType,
    stock_list: ModuleType,
    ours: ModuleType,
    ours_list: ModuleType,
    transport: httpx.MockTransport,
    rounds: int,
    calls: int,
) -> dict[str, list[float]]:
    stock_client = stock.AuthenticatedClient(
        base_url=BASE, token="benchmark-token", httpx_args={"transport": transport}
    )
    our_client = ours.AuthenticatedClient(
        base_url=BASE,
        credentials=ours.Credentials(username="bench", password="bench-password"),
        httpx_args={"transport": transport},
    )
    raw = httpx.AsyncClient(base_url=BASE, transport=transport)

    async def raw_call() -> Any:
        return (await raw.get("/tests")).json()

    sides: dict[str, Callable[[], Awaitable[Any]]] = {
        "raw httpx (get + .json())": raw_call,
        "stock openapi-python-client, static token": lambda: stock_list.asyncio(client=stock_client),
        "bearer-codegen, token lifecycle": lambda: ours_list.asyncio(client=our_client),
    }
    await ours_list.asyncio(client=our_client)
    samples: dict[str, list[float]] = {name: [] for name in sides}
    names = list(sides)
    for name in names:
        for _ in range(calls // 10):
            await sides[name]()
    for round_number in range(rounds):
        order = names[round_number % len(names) :] + names[: round_number % len(names)]
        for name in order:
            call = sides[name]
            start = time.perf_counter()
            for _ in range(calls):
                await call()
            samples[name].append(time.perf_counter() - start)
    return samples


def _table(sync_results: dict[str, list[float]], async_results: dict[str, list[float]], calls: int, logins: int) -> str:
    lines = [
        "## Per-call client cost (in-process transport)",
        "",
        f"Machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}, "
        f"{platform.system()}. Command: `python benchmarks/client_overhead.py` "
        f"({len(next(iter(sync_results.values())))} interleaved rounds of {calls} calls each).",
        "",
        "| mode | client | median µs/call | ratio to stock |",
        "|---|---|---:|---:|",
    ]
    for mode, results in (("sync", sync_results), ("async", async_results)):
        stock = _median_per_call(results["stock openapi-python-client, static token"], calls)
        for name, samples in results.items():
            per_call = _median_per_call(samples, calls)
            lines.append(f"| {mode} | {name} | {per_call:.1f} | {per_call / stock:.3f}x |")
    lines += ["", f"Logins made by our client over all sync rounds: {logins} (target 1)."]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
