"""Per-call cost of the generated client against the stock openapi-python-client client.

Both clients are generated from the same spec (ours from generated/, the stock one rendered here
with openapi-python-client's own templates) and call ``GET /tests``: in-process through an
``httpx.MockTransport`` answering a fixed body, so only client-side work is measured, and over
loopback against the simulator. The stock client holds a static token; ours runs the full token
lifecycle (auth flow, locks, retry layer) after its lazy login. Runs are interleaved — raw httpx,
stock, ours, in rotating order — so machine noise hits every side alike; the figure is the ratio
of medians.
"""

from __future__ import annotations

import importlib
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx

from benchmarks._common import ROOT, interleave, interleave_async, median, render_stock, simulator, table

SPEC = ROOT / "spec" / "synthetic-classic.yaml"
MOCK_BASE = "https://sc.example/publicapi/rest/v1.0"
BODY = b'{"Monitors": [{"Monitor": {"monitorID": "42", "tname": "Home page", "testType": "BACKBONE"}}]}'
RAW, STOCK, OURS = "raw httpx (get + .json())", "stock openapi-python-client, static token", "bearer-codegen, lifecycle"


def _answer(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/login"):
        return httpx.Response(200, text="benchmark-token")
    return httpx.Response(200, content=BODY, headers={"Content-Type": "application/json"})


def _packages(workdir: Path) -> tuple[ModuleType, ModuleType, ModuleType, ModuleType]:
    sys.path.insert(0, str(ROOT / "generated" / "synthetic_classic_client"))
    render_stock(SPEC, workdir, "stock_client")
    sys.path.insert(0, str(workdir))
    return (
        importlib.import_module("stock_client"),
        importlib.import_module("stock_client.api.tests.list_tests"),
        importlib.import_module("synthetic_classic_client"),
        importlib.import_module("synthetic_classic_client.api.tests.list_tests"),
    )


def _sides(
    packages: tuple[ModuleType, ModuleType, ModuleType, ModuleType],
    base: str,
    transport: dict[str, Any],
    token: str,
    asynchronous: bool,
) -> tuple[dict[str, Callable[[], Any]], Any]:
    """The three sides of one mode, and our client (for its login count)."""
    stock, stock_list, ours, ours_list = packages
    credentials = ours.Credentials(username="demo", password="demo-password")
    stock_client = stock.AuthenticatedClient(base_url=base, token=token, httpx_args=transport)
    our_client = ours.AuthenticatedClient(base_url=base, credentials=credentials, httpx_args=transport)
    headers = {"Authentication": f"bearer {token}"}
    if asynchronous:
        raw_async = httpx.AsyncClient(base_url=base, **transport)

        async def raw_call() -> Any:
            return (await raw_async.get("/tests", headers=headers)).json()

        return {
            RAW: raw_call,
            STOCK: lambda: stock_list.asyncio(client=stock_client),
            OURS: lambda: ours_list.asyncio(client=our_client),
        }, our_client
    raw = httpx.Client(base_url=base, **transport)
    return {
        RAW: lambda: raw.get("/tests", headers=headers).json(),
        STOCK: lambda: stock_list.sync(client=stock_client),
        OURS: lambda: ours_list.sync(client=our_client),
    }, our_client


def _measure(base: str, transport_args: dict[str, Any], token: str, rounds: int, calls: int) -> list[list[object]]:
    with tempfile.TemporaryDirectory() as temporary:
        packages = _packages(Path(temporary))
        rows: list[list[object]] = []
        for mode in ("sync", "async"):
            asynchronous = mode == "async"
            transport = dict(transport_args)
            if asynchronous and "transport" in transport:
                transport["transport"] = httpx.MockTransport(_answer)
            sides, our_client = _sides(packages, base, transport, token, asynchronous)
            samples = interleave_async(sides, rounds, calls) if asynchronous else interleave(sides, rounds, calls)
            reference = median(samples[STOCK])
            for name, values in samples.items():
                rows.append([mode, name, f"{median(values) * 1e6:.0f}", f"{median(values) / reference:.3f}x"])
            rows.append(
                [mode, "logins made by our client over all rounds", our_client.lifecycle.stats.logins, "target 1"]
            )
        for module in [name for name in sys.modules if name.startswith(("stock_client", "synthetic_classic_client"))]:
            del sys.modules[module]
        return rows


def report(rounds: int = 15, calls: int = 500) -> str:
    """The markdown section: in-process and loopback, sync and async."""
    in_process = _measure(MOCK_BASE, {"transport": httpx.MockTransport(_answer)}, "benchmark-token", rounds, calls)
    with simulator("spec/synthetic-classic.yaml", "--rate-limit", "100000000/60") as url:
        token = httpx.get(f"{url}/login", params={"user": "demo", "password": "demo-password"}).text
        loopback = _measure(url, {}, token, max(5, rounds // 3), max(50, calls // 5))
    header = ["mode", "client", "median µs/call", "ratio to stock"]
    return "\n".join(
        [
            "## 1. Per-call client cost",
            "",
            f"`GET /tests` of the Synthetic Classic spec. In-process: `httpx.MockTransport`, {rounds} interleaved "
            f"rounds of {calls} calls. Loopback: the simulator on 127.0.0.1. Target: ours at most 1.05x stock.",
            "",
            "In-process:",
            "",
            table(header, in_process),
            "",
            "Over loopback against the simulator (server time dominates; the ratio shows what the client adds):",
            "",
            table(header, loopback),
        ]
    )


if __name__ == "__main__":
    print(report())
