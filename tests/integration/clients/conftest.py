"""Generated clients against the simulator, over real sockets: one simulator per API and module, reset per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.simulator._support import Simulator, running

from ._apis import APIS, Api


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module", params=APIS, ids=lambda api: api.name)
def api(request: pytest.FixtureRequest) -> Api:
    """Each generated client in turn."""
    profile: Api = request.param
    return profile


@pytest.fixture(scope="module")
def simulator_process(api: Api, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    """``serve SPEC --control`` with the spec's demo fixtures and a small service limit (6 per minute)."""
    log = tmp_path_factory.mktemp("simulator") / "stderr.log"
    with running(api.spec, "--control", "--rate-limit", "6/60", log=log) as simulator:
        yield simulator


@pytest.fixture
def sim(simulator_process: Simulator) -> Simulator:
    """The module's simulator, reset, with its clock frozen so only the tests move time."""
    simulator_process.control("POST", "reset")
    simulator_process.control("POST", "clock/freeze", frozen="true")
    return simulator_process
