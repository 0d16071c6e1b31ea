"""Generated clients against the simulator, over real sockets: one simulator per module, reset per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.simulator._support import SPEC_ARG, Simulator, running


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def simulator_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    """``serve spec/synthetic-classic.yaml --control`` with its demo fixtures and a small service limit."""
    log = tmp_path_factory.mktemp("simulator") / "stderr.log"
    with running(SPEC_ARG, "--control", "--rate-limit", "6/60", log=log) as simulator:
        yield simulator


@pytest.fixture
def sim(simulator_process: Simulator) -> Simulator:
    """The module's simulator, reset, with its clock frozen so only the tests move time."""
    simulator_process.control("POST", "reset")
    simulator_process.control("POST", "clock/freeze", frozen="true")
    return simulator_process
