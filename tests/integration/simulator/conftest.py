"""A Synthetic Classic simulator per test session, started as a subprocess, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._support import SPEC_ARG, Simulator, running


@pytest.fixture(scope="session")
def simulator_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    """``serve spec/synthetic-classic.yaml --port 0 --control`` with its demo fixtures, for the whole session."""
    log = tmp_path_factory.mktemp("simulator") / "stderr.log"
    with running(SPEC_ARG, "--control", log=log) as simulator:
        yield simulator


@pytest.fixture
def sim(simulator_process: Simulator) -> Simulator:
    """The session's simulator after ``POST /_control/reset``: no tokens, no counts, real time."""
    simulator_process.control("POST", "reset")
    return simulator_process
