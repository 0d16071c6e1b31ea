"""Async tests run on asyncio; the robustness tests' counts are printed at the end of the session."""

import json

import pytest

from tests.functional._batch import SUMMARY


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: a long case of the robustness tests (still part of the default run)")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """How many hostile, fuzzed and corpus documents produced code and how many clear errors."""
    if SUMMARY:
        terminalreporter.section("robustness")
        for name, counts in SUMMARY.items():
            terminalreporter.write_line(f"{name}: {json.dumps(counts)}")
